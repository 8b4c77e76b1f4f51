//! `create`: the exact body on the wire, the response, conflicts, and never twice.

mod common;

use auth0_client_grants::{DefaultFor, NewClientGrant, OrganizationUsage, SubjectType};
use common::{FakeClock, RECORDED_GRANT, client_for, rate_limit_headers};
use httpmock::Method::POST;
use httpmock::MockServer;
use serde_json::json;

#[tokio::test]
async fn create_posts_exactly_the_fields_set_and_decodes_the_201() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v2/client-grants")
                .header("content-type", "application/json")
                .json_body(json!({
                    "client_id": "66KDLLM04ImYTMrA9lKAvEWpB6FW2CL5",
                    "audience": "https://api.example.com/",
                    "scope": ["create:resource"],
                    "subject_type": "user",
                    "authorization_details_types": ["payment", "shipping"],
                    "organization_usage": "allow"
                }));
            then.status(201).body(RECORDED_GRANT);
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    let created = client
        .client_grants()
        .create(
            NewClientGrant::new("66KDLLM04ImYTMrA9lKAvEWpB6FW2CL5", "https://api.example.com/")
                .scope(["create:resource"])
                .subject_type(SubjectType::User)
                .authorization_details_types(["payment", "shipping"])
                .organization_usage(OrganizationUsage::Allow),
        )
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(created.id, "cgr_1knWIGy7bcAfm7DZ");
}

#[tokio::test]
async fn a_default_for_grant_has_no_client_id_and_allow_any_organization_is_not_forced() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v2/client-grants").json_body(json!({
                "default_for": "third_party_clients",
                "audience": "https://api.example.com/"
            }));
            then.status(201).body(RECORDED_GRANT);
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    client
        .client_grants()
        .create(NewClientGrant::default_for(
            DefaultFor::ThirdPartyClients,
            "https://api.example.com/",
        ))
        .await
        .unwrap();

    mock.assert_async().await;
}

#[tokio::test]
async fn an_existing_grant_is_a_conflict() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v2/client-grants");
            then.status(409).json_body(json!({
                "statusCode": 409, "error": "Conflict", "message": "A client grant for this client and audience already exists.",
                "errorCode": "client_grant_already_exists"
            }));
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    let error = client
        .client_grants()
        .create(NewClientGrant::new("c", "https://a/"))
        .await
        .unwrap_err();

    assert!(error.is_conflict());
    assert_eq!(error.error_code(), Some("client_grant_already_exists"));
}

#[tokio::test]
async fn a_create_is_not_sent_again_after_a_500() {
    let server = MockServer::start_async().await;
    let broken = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v2/client-grants");
            then.status(500).body("");
        })
        .await;
    let clock = FakeClock::new();
    let client = client_for(&server, &clock);

    let error = client
        .client_grants()
        .create(NewClientGrant::new("c", "https://a/"))
        .await
        .unwrap_err();

    assert_eq!(error.status(), Some(500));
    broken.assert_calls_async(1).await;
    assert_eq!(clock.sleeps(), []);
}

#[tokio::test]
async fn a_create_refused_with_429_is_sent_again_after_the_reset() {
    let server = std::sync::Arc::new(MockServer::start_async().await);
    let limited = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v2/client-grants");
            let then = then.status(429);
            rate_limit_headers(10, 0, 2)
                .iter()
                .fold(then, |then, (name, value)| then.header(*name, value.as_str()));
        })
        .await;
    let clock = FakeClock::new();
    let (server_for_hook, limited_id) = (server.clone(), limited.id);
    clock.on_sleep(move |_| {
        let server = server_for_hook.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                httpmock::Mock::new(limited_id, &server).delete();
                server.mock(|when, then| {
                    when.method(POST).path("/api/v2/client-grants");
                    then.status(201).body(RECORDED_GRANT);
                });
            })
            .await
            .unwrap();
        }
    });
    let client = client_for(&server, &clock);

    let created = client
        .client_grants()
        .create(NewClientGrant::new("c", "https://a/"))
        .await
        .unwrap();

    assert_eq!(created.id, "cgr_1knWIGy7bcAfm7DZ");
    assert_eq!(clock.sleeps().len(), 1);
}

#[tokio::test]
async fn a_create_is_not_sent_again_after_a_timeout() {
    let server = MockServer::start_async().await;
    let slow = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v2/client-grants");
            then.status(201)
                .body(RECORDED_GRANT)
                .delay(std::time::Duration::from_secs(5));
        })
        .await;
    let clock = FakeClock::new();
    let client = common::builder_for(&server, &clock)
        .timeout(std::time::Duration::from_millis(100))
        .build()
        .unwrap();

    let error = client
        .client_grants()
        .create(NewClientGrant::new("c", "https://a/"))
        .await
        .unwrap_err();

    assert!(
        matches!(error, auth0_client_grants::Error::Timeout(_)),
        "{error:?}"
    );
    slow.assert_calls_async(1).await;
    assert_eq!(clock.sleeps(), []);
}
