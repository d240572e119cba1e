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
        self.counted(row.iter().collect())
            .await?
            .pop()
            .ok_or(DbError::NotFound(Missing::Application))
    }

    /// The applications of `rows` (statements' rows: their columns, then the id), with their
    /// chat counts: on Citus those are kept on each application's shard (V21's `app_counters`).
    async fn counted(&self, rows: Vec<&Row>) -> DbResult<Vec<Application>> {
        let mut items: Vec<Application> = rows.iter().map(|r| application(r)).collect();
        if !self.on_citus() || rows.is_empty() {
            return Ok(items);
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.get(5)).collect();
        let counts = self
            .query(include_str!("sql/application_counts_citus.sql"), &[&ids])
            .await?;
        let counts: std::collections::HashMap<i64, i64> = counts.iter().map(|r| (r.get(0), r.get(1))).collect();
        for (item, id) in items.iter_mut().zip(&ids) {
            item.chats_count = counts.get(id).copied().unwrap_or(0);
        }
        Ok(items)
    }

    /// Applications in creation order, `limit` after skipping `offset`.
    pub async fn applications(&self, offset: i64, limit: i64) -> DbResult<ApplicationPage> {
        let sql = include_str!("sql/application_list.sql");
        let rows = self.query(sql, &[&offset, &(limit + 1)]).await?;
        let mut items = self.counted(rows.iter().collect()).await?;
        let has_more = items.len() as i64 > limit;
        items.truncate(limit as usize);
        Ok(ApplicationPage { items, has_more })
    }

    /// Renames the application.
    pub async fn rename_application(&self, token: Uuid, name: &str) -> DbResult<Application> {
        let sql = include_str!("sql/application_update.sql");
        let row = self.query_opt(sql, &[&token, &name]).await?;
        self.counted(row.iter().collect())
            .await?
            .pop()
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
