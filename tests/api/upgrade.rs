//! Rolling upgrades: a release keeps starting (and serving) on a database that a newer release
//! has already migrated further, and still refuses a schema that is not its own plus newer
//! migrations. The whole previous binary against today's schema is `.ci/upgrade-check`.

use chat_system::{settings::Settings, store};

use crate::{
    faults::{setup, Instance},
    helpers::{fresh_database_url, on_citus, TestApp},
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

    // As a later migration would leave it, with one partition's build failed half-way. One
    // statement at a time: Citus sends a DDL statement's text to the workers, and refuses a
    // text of several statements there.
    for statement in [
        "CREATE INDEX messages_later ON ONLY messages (number)",
        "CREATE INDEX messages_later_messages_p3 ON messages_p3 (number)",
        "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'messages_later_messages_p3'::regclass",
    ] {
        client.batch_execute(statement).await.unwrap();
    }
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

/// V20: while an instance of a release before V20 is connected (its sessions name themselves
/// `chat-system`), the service stores every message's folded text, which that release's searches
/// read; once none is, a plain body's (the body lower-cased) is left NULL, and the searches find
/// messages of both kinds. A message written as the release before V19 writes one (no folded
/// text, no keys) still gets its folded text from the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_bodys_folded_text_is_stored_only_while_an_earlier_release_is_connected() {
    let url = fresh_database_url().await;
    let mut earlier: tokio_postgres::Config = url.parse().unwrap();
    earlier.application_name("chat-system");
    let (earlier, connection) = earlier.connect(tokio_postgres::NoTls).await.unwrap();
    let connection = tokio::spawn(connection);
    let mut config = crate::helpers::test_config();
    config.maintenance_interval_ms = 50;
    let app = TestApp::spawn_on(&url, config, true).await;
    let token = app.create_app("Upgrade").await;
    let chat = app.create_chat(&token).await;
    let stored = |plain: bool| {
        let sql = match plain {
            true => "SELECT count(*) FROM messages WHERE search_text IS NULL",
            false => "SELECT count(*) FROM messages WHERE search_text IS NOT NULL",
        };
        app.count(sql)
    };

    app.create_message(&token, chat, "Plain words about a quokka").await;
    app.eventually("written", || async { stored(false).await == 1 }).await;
    // As the earlier release searches: on the stored column.
    let found: i64 = earlier
        .query_one(
            "SELECT count(*) FROM messages WHERE search_text LIKE '%about a quokka%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(found, 1, "the earlier release finds the message");

    drop(earlier);
    connection.await.unwrap().unwrap();
    app.eventually("the earlier release seen gone", || async {
        app.db.leaves_plain_folded_unstored()
    })
    .await;
    app.create_message(&token, chat, "Plain words about a wombat").await;
    app.create_message(&token, chat, "Crème brûlée for the WOMBAT").await;
    app.eventually("written", || async { stored(true).await + stored(false).await == 3 })
        .await;
    assert_eq!(stored(true).await, 1, "the plain body's folded text is not stored");
    assert_eq!(stored(false).await, 2);

    let base = format!("/api/applications/{token}/chats/{chat}/messages?query=");
    let numbers = |query: &'static str| {
        let (app, base) = (&app, &base);
        async move { app.get(&format!("{base}{query}")).await.numbers() }
    };
    assert_eq!(numbers("wombat").await, vec![3, 2]);
    assert_eq!(numbers("words%20about").await, vec![2, 1]);
    assert_eq!(numbers("%22about%20a%20wombat%22").await, vec![2]);
    assert_eq!(numbers("wo").await, vec![3, 2, 1]);
    assert_eq!(numbers("creme").await, vec![3]);
    assert_eq!(numbers("PLAIN").await, vec![2, 1]);

    // The release before V19: neither folded text nor keys written; V19's trigger folds the
    // text. Not on Citus: no release before V19 ran there (issue 15 came later), so V19 made no
    // trigger there and nothing writes such rows.
    if on_citus() {
        return;
    }
    app.db
        .client()
        .await
        .unwrap()
        .batch_execute(&format!(
            "INSERT INTO messages (application_id, chat_number, number, body, created_at, updated_at) \
             SELECT id, {chat}, 100, 'Before V19: Déjà vu', now(), now() FROM applications"
        ))
        .await
        .unwrap();
    assert_eq!(
        app.count("SELECT count(*) FROM messages WHERE number = 100 AND search_text = 'before v19: deja vu'")
            .await,
        1
    );
}
