//! The connection pool: connections are replaced once they reach their maximum age, so that the
//! statements' plans (made once per connection) follow the data.

use std::time::Duration;

use chat_system::store::Db;

use crate::helpers::{fresh_database_url, test_config};

#[tokio::test]
async fn old_connections_are_replaced() {
    let mut config = test_config();
    config.db_pool_size = 1;
    config.db_connection_max_age_secs = 1;
    let db = Db::connect(&fresh_database_url().await, &config).unwrap();
    let backend = |db: Db| async move {
        let client = db.client().await.unwrap();
        client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get::<_, i32>(0)
    };

    let first = backend(db.clone()).await;
    assert_eq!(backend(db.clone()).await, first, "a young connection is reused");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let later = backend(db.clone()).await;
    assert_ne!(later, first, "an old connection is replaced");
    assert_eq!(backend(db).await, later);
}
