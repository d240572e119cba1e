//! Rolling upgrades: a release keeps starting (and serving) on a database that a newer release
//! has already migrated further, and still refuses a schema that is not its own plus newer
//! migrations. The whole previous binary against today's schema is `.ci/upgrade-check`.

use chat_system::{settings::Settings, store};

use crate::{
    faults::{setup, Instance},
    helpers::fresh_database_url,
};

/// Records a migration as applied that no binary of this build knows (a newer release's).
async fn apply_newer_migration(db: &store::Db) {
    db.client()
        .await
        .unwrap()
        .batch_execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
             SELECT 9999, 'from_a_newer_release', applied_on, '1' FROM refinery_schema_history WHERE version = 1",
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_starts_and_serves_on_a_schema_a_newer_release_migrated() {
    let url = fresh_database_url().await;
    let db = store::Db::connect(&url, &Settings::defaults()).unwrap();
    apply_newer_migration(&db).await;

    store::migrate(&db).await.expect("migrate refused a newer schema");
    assert!(store::migrations_applied(&db).await.unwrap());
    // The real binary: it migrates at start, then serves (and reports ready).
    let instance = Instance::start(&url).await;
    let token = setup(&instance.base, 1).await;
    let created = reqwest::Client::new()
        .post(format!("{}/api/applications/{token}/chats/1/messages", instance.base))
        .json(&serde_json::json!({"body": "after the newer release"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
}

#[tokio::test]
async fn a_newer_schema_without_one_of_this_releases_migrations_is_refused() {
    let url = fresh_database_url().await;
    let db = store::Db::connect(&url, &Settings::defaults()).unwrap();
    apply_newer_migration(&db).await;
    let client = db.client().await.unwrap();
    client
        .batch_execute("UPDATE refinery_schema_history SET checksum = '1' WHERE version = 1")
        .await
        .unwrap();
    let error = store::migrate(&db).await.unwrap_err().to_string();
    assert!(error.contains("differs"), "{error}");

    client
        .batch_execute("DELETE FROM refinery_schema_history WHERE version = 1")
        .await
        .unwrap();
    let error = store::migrate(&db).await.unwrap_err().to_string();
    assert!(error.contains("lacks"), "{error}");
}

/// An index a migration creates on the parent only is built partition by partition after the
/// migrations (concurrently, so writes go on) and attached, and becomes valid; a build that was
/// interrupted (an invalid leftover of a failed concurrent build) is taken up again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexes_left_to_the_partitions_are_built_and_valid_after_migrating() {
    let url = fresh_database_url().await;
    let db = store::Db::connect(&url, &Settings::defaults()).unwrap();
    store::migrate(&db).await.unwrap();
    let client = db.client().await.unwrap();
    let count = |sql: &'static str| {
        let client = &client;
        async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    // V19's indexes: valid, one per partition.
    assert_eq!(
        count("SELECT count(*) FROM pg_index WHERE indrelid = 'messages'::regclass AND NOT indisvalid").await,
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'messages_search_keys'::regclass").await,
        32
    );

    // As a later migration would leave it, with one partition's build failed half-way.
    client
        .batch_execute(
            "CREATE INDEX messages_later ON ONLY messages (number);
             CREATE INDEX messages_later_messages_p3 ON messages_p3 (number);
             UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'messages_later_messages_p3'::regclass;",
        )
        .await
        .unwrap();
    store::migrate(&db).await.unwrap();
    assert_eq!(
        count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'messages_later'::regclass").await,
        32
    );
    assert_eq!(
        count("SELECT count(*) FROM pg_index WHERE indrelid = 'messages'::regclass AND NOT indisvalid").await,
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM pg_index WHERE NOT indisvalid").await,
        0,
        "no invalid leftover"
    );
}
