//! `client.client_grants().get(id)`: the request on the wire and the decoded response.

mod common;

use auth0_client_grants::Error;
use base64::Engine;
use common::{FakeClock, RECORDED_GRANT, builder_for, client_for};
use httpmock::Method::GET;
use httpmock::MockServer;

#[tokio::test]
async fn get_sends_an_authenticated_get_and_decodes_the_recorded_grant() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/client-grants/cgr_1knWIGy7bcAfm7DZ")
                .header("authorization", "Bearer test-token")
                .header("accept", "application/json")
                .header(
                    "user-agent",
                    concat!("auth0-client-grants/", env!("CARGO_PKG_VERSION")),
                )
                .header_exists("auth0-client")
                .header_missing("api-version")
                .header_missing("content-type");
            then.status(200)
                .header("content-type", "application/json; charset=utf-8")
                .body(RECORDED_GRANT);
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    let grant = client.client_grants().get("cgr_1knWIGy7bcAfm7DZ").await.unwrap();

    mock.assert_async().await;
    assert_eq!(grant.id, "cgr_1knWIGy7bcAfm7DZ");
    assert_eq!(
        grant.client_id.as_deref(),
        Some("66KDLLM04ImYTMrA9lKAvEWpB6FW2CL5")
    );
    assert_eq!(grant.audience, "https://api.example.com/");
    assert_eq!(grant.scope, ["create:resource"]);
    assert_eq!(grant.authorization_details_types, ["payment", "shipping"]);
    assert_eq!(
        grant.subject_type.map(|subject| subject.to_string()).as_deref(),
        Some("user")
    );
}

#[tokio::test]
async fn unknown_fields_in_the_answer_are_ignored() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/client-grants/cgr_1");
            then.status(200)
                .body(r#"{"id":"cgr_1","audience":"https://a/","added_by_auth0_later":{"x":1}}"#);
        })
        .await;
    let grant = client_for(&server, &FakeClock::new())
        .client_grants()
        .get("cgr_1")
        .await
        .unwrap();
    assert_eq!(grant.id, "cgr_1");
}

#[tokio::test]
async fn telemetry_names_the_crate_or_the_wrapper_and_can_be_turned_off() {
    let server = MockServer::start_async().await;
    let wrapper_header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        serde_json::json!({
            "name": "tenant-sync",
            "version": "2.1.0",
            "env": {"rust": rustc_version(), "auth0-client-grants": env!("CARGO_PKG_VERSION")}
        })
        .to_string(),
    );
    let wrapped = server
        .mock_async(|when, then| {
            when.path("/api/v2/client-grants/wrapped")
                .header("auth0-client", wrapper_header.as_str());
            then.status(200).body(RECORDED_GRANT);
        })
        .await;
    let silent = server
        .mock_async(|when, then| {
            when.path("/api/v2/client-grants/silent")
                .header_missing("auth0-client");
            then.status(200).body(RECORDED_GRANT);
        })
        .await;
    let clock = FakeClock::new();

    let client = builder_for(&server, &clock)
        .client_info("tenant-sync", "2.1.0")
        .build()
        .unwrap();
    client.client_grants().get("wrapped").await.unwrap();
    let client = builder_for(&server, &clock).telemetry(false).build().unwrap();
    client.client_grants().get("silent").await.unwrap();

    wrapped.assert_async().await;
    silent.assert_async().await;
}

#[tokio::test]
async fn ids_are_sent_as_exactly_one_path_segment() {
    let server = MockServer::start_async().await;
    let client = client_for(&server, &FakeClock::new());
    for (id, encoded) in [
        ("../clients", "..%2Fclients"),
        ("a/b", "a%2Fb"),
        ("x?y#z", "x%3Fy%23z"),
        ("%2F", "%252F"),
        ("with space", "with%20space"),
        ("ü", "%C3%BC"),
        ("...", "..."),
    ] {
        let mock = server
            .mock_async(|when, then| {
                when.method(GET).path(format!("/api/v2/client-grants/{encoded}"));
                then.status(200).body(RECORDED_GRANT);
            })
            .await;
        client
            .client_grants()
            .get(id)
            .await
            .unwrap_or_else(|error| panic!("{id:?}: {error}"));
        mock.assert_async().await;
        mock.delete_async().await;
    }
}

#[tokio::test]
async fn empty_and_dot_ids_are_refused_before_anything_is_sent() {
    let server = MockServer::start_async().await;
    let anything = server.mock_async(|_, then| {
        then.status(200).body(RECORDED_GRANT);
    });
    let anything = anything.await;
    let client = client_for(&server, &FakeClock::new());
    for id in ["", ".", ".."] {
        match client.client_grants().get(id).await {
            Err(Error::InvalidInput(invalid)) => assert_eq!(invalid.parameter(), "id"),
            other => panic!("{id:?}: expected InvalidInput, got {other:?}"),
        }
    }
    anything.assert_calls_async(0).await;
}

fn rustc_version() -> String {
    let output = std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .output()
        .unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned()
}
