//! Queries on applications: create, read, list, rename, delete (the purger finishes deletes).

use tokio_postgres::Row;
use uuid::Uuid;

use super::{Db, DbError, DbResult, Missing};
use crate::model::Application;

/// A page of the operator's application list.
pub struct ApplicationPage {
    /// Applications in creation order.
    pub items: Vec<Application>,
    /// True when more follow.
    pub has_more: bool,
}

fn application(row: &Row) -> Application {
    Application {
        token: row.get(0),
        name: row.get(1),
        chats_count: row.get(2),
        created_at: row.get(3),
        updated_at: row.get(4),
    }
}

impl Db {
    /// The application with this token.
    pub async fn application(&self, token: Uuid) -> DbResult<Application> {
        let sql = include_str!("sql/application_get.sql");
        let row = self.query_opt(sql, &[&token]).await?;
        row.map(|r| application(&r))
            .ok_or(DbError::NotFound(Missing::Application))
    }

    /// Applications in creation order, `limit` after skipping `offset`.
    pub async fn applications(&self, offset: i64, limit: i64) -> DbResult<ApplicationPage> {
        let sql = include_str!("sql/application_list.sql");
        let rows = self.query(sql, &[&offset, &(limit + 1)]).await?;
        let mut items: Vec<Application> = rows.iter().map(application).collect();
        let has_more = items.len() as i64 > limit;
        items.truncate(limit as usize);
        Ok(ApplicationPage { items, has_more })
    }

    /// Renames the application.
    pub async fn rename_application(&self, token: Uuid, name: &str) -> DbResult<Application> {
        let sql = include_str!("sql/application_update.sql");
        let row = self.query_opt(sql, &[&token, &name]).await?;
        row.map(|r| application(&r))
            .ok_or(DbError::NotFound(Missing::Application))
    }

    /// Deletes the application: its token stops working now, the rows under it go in the
    /// background. Returns its id (for the live event that ends its streams).
    pub async fn delete_application(&self, token: Uuid) -> DbResult<i64> {
        let id = if self.on_citus() {
            self.delete_application_citus(token).await?
        } else {
            let sql = include_str!("sql/application_delete.sql");
            self.query_opt(sql, &[&token]).await?.map(|r| r.get(0))
        };
        self.forget_app_id(token);
        id.ok_or(DbError::NotFound(Missing::Application))
    }
}
