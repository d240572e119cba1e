//! The committed OpenAPI document is the one the service serves.

use crate::helpers::TestApp;

#[tokio::test]
async fn committed_spec_matches_the_served_one() {
    let app = TestApp::spawn().await;

    let served = app.text("/openapi.json").await;
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
        .expect("openapi/openapi.json exists: run `cargo run -- openapi`");

    let served: serde_json::Value = serde_json::from_str(&served).unwrap();
    let committed: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert!(
        served == committed,
        "openapi/openapi.json is stale: run `cargo run -- openapi` and commit it"
    );
}

#[tokio::test]
async fn swagger_ui_is_served() {
    let app = TestApp::spawn().await;

    let docs = app.http.get(format!("{}/docs", app.base)).send().await.unwrap();

    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().to_lowercase().contains("swagger"));
}
