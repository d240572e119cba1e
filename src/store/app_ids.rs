//! Application ids by token, cached: the tables are keyed by id, requests address applications
//! by token.

use uuid::Uuid;

use super::{Db, DbError, DbResult, Missing};

/// Most ids cached; past it the cache starts again empty.
const CACHED: usize = 100_000;

impl Db {
    /// The id of the application with `token` (cached), `None` when there is none.
    pub async fn app_id(&self, token: Uuid) -> DbResult<Option<i64>> {
        if let Some(id) = self.app_ids.read().unwrap_or_else(|e| e.into_inner()).get(&token) {
            return Ok(Some(*id));
        }
        let row = self
            .query_opt(include_str!("sql/application_id.sql"), &[&token])
            .await?;
        let id = row.map(|r| r.get::<_, i64>(0));
        if let Some(id) = id {
            let mut cache = self.app_ids.write().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= CACHED {
                cache.clear();
            }
            cache.insert(token, id);
        }
        Ok(id)
    }

    /// The id of the application with `token`; NotFound (the application) when there is none.
    /// Statements take the id rather than the token: on Citus only a statement that names the
    /// application by id (its distribution column) goes to one shard.
    pub async fn app(&self, token: Uuid) -> DbResult<i64> {
        self.app_id(token).await?.ok_or(DbError::NotFound(Missing::Application))
    }

    /// The NotFound error of an application found gone by a statement given its cached id
    /// (deleted since): the id is forgotten.
    pub fn app_gone(&self, token: Uuid) -> DbError {
        self.forget_app_id(token);
        DbError::NotFound(Missing::Application)
    }

    /// Forgets a cached application id (its application is gone).
    pub fn forget_app_id(&self, token: Uuid) {
        self.app_ids.write().unwrap_or_else(|e| e.into_inner()).remove(&token);
    }
}
