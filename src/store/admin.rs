//! Administration of the server the private cluster runs: creating the service's database.

use super::{Db, DbResult};

impl Db {
    /// Creates the database `name` on this handle's server unless it exists. `name` is one of
    /// ours, never a client's: an identifier cannot be a statement parameter, so it is quoted
    /// into the statement here (the one statement built with `format!` in this module).
    pub async fn create_database_if_missing(&self, name: &str) -> DbResult<()> {
        let client = self.client().await?;
        let exists = client
            .query_opt(include_str!("sql/database_exists.sql"), &[&name])
            .await?
            .is_some();
        if !exists {
            let quoted = name.replace('"', "\"\"");
            client.batch_execute(&format!("CREATE DATABASE \"{quoted}\"")).await?;
        }
        Ok(())
    }
}
