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
