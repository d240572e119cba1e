//! The harness itself: a test's database is as new, whoever had it before. On PostgreSQL each
//! test gets a new copy of the template; on Citus the databases are lent again after being
//! emptied (`helpers/citus.rs`), and this is what the emptying must give.

use crate::helpers::{fresh_database_url, test_config, TestApp};

/// Runs `test` in a runtime of its own, as a test of its own would be run (its database goes
/// back when that runtime ends); returns what it returns.
fn as_a_test<T>(test: impl std::future::Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(test)
}

#[test]
fn a_database_is_lent_again_as_new() {
    // Arrange: a test that leaves rows in a reference table (applications) and a distributed
    // one, and moves the identity sequence on.
    let first = as_a_test(async {
        let url = fresh_database_url().await;
        let app = TestApp::spawn_on(&url, test_config(), false).await;
        app.create_app("left behind").await;
        app.create_app("left behind too").await;
        let client = app.db.client().await.unwrap();
        client
            .batch_execute("INSERT INTO chat_counters (application_id, chat_number) VALUES (2, 1)")
            .await
            .unwrap();
        url
    });

    // Act: the next test.
    let (url, rows, id) = as_a_test(async {
        let url = fresh_database_url().await;
        let app = TestApp::spawn_on(&url, test_config(), false).await;
        let rows = app.count("SELECT count(*) FROM applications").await
            + app.count("SELECT count(*) FROM chat_counters").await;
        app.create_app("new").await;
        let id = app.count("SELECT id FROM applications").await;
        (url, rows, id)
    });

    // Assert
    assert_eq!(rows, 0, "rows of the test before");
    assert_eq!(id, 1, "the first application's id in a new database");
    // Tests running meanwhile may take the first database; usually this one gets it back.
    eprintln!("the same database again: {}", url == first);
}
