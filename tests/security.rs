//! Tokens and secrets never leave except in the `Authorization` header, and never over plain
//! HTTP to another machine.

mod common;

use auth0_client_grants::{AccessToken, Client, Error};
use common::captured_log::CapturedLog;
use common::{FakeClock, RECORDED_GRANT};
use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use serde_json::json;

const SECRET: &str = "m2m-secret-value-7f3a";
const TOKEN: &str = "eyJ-issued-token-value-91bc";

#[test]
fn plain_http_to_a_host_that_is_not_loopback_is_refused_by_build() {
    let result = Client::builder()
        .base_url("http://tenant.example.com/api/v2")
        .token(TOKEN)
        .build();
    let Err(Error::Config(error)) = result else {
        panic!("expected a configuration error")
    };
    assert_eq!(error.setting(), "base_url");
    assert!(
        error
            .to_string()
            .contains("plain http to a host that is not loopback"),
        "{error}"
    );
}

#[test]
fn a_base_url_or_domain_that_is_not_clean_is_refused_by_build() {
    let base_urls = [
        "http://:pw@127.0.0.1:8080/api/v2",
        "http://user@127.0.0.1:8080/api/v2",
        "http://127.0.0.1:8080/api\r\n/v2",
        "http://127.0.0.1:8080/api/v2?audience=x",
        "http://127.0.0.1:8080/api/v2#x",
    ];
    for base_url in base_urls {
        let result = Client::builder().base_url(base_url).token(TOKEN).build();
        assert!(
            matches!(&result, Err(Error::Config(error)) if error.setting() == "base_url"),
            "{base_url:?}: {result:?}"
        );
    }
    let domains = [
        "exa\r\nmple.eu.auth0.com",
        ":pw@example.eu.auth0.com",
        "example.eu.auth0.com#@evil.example",
        "example.eu.auth0.com?@evil.example",
        "example.eu.auth0.com/",
    ];
    for domain in domains {
        let result = Client::builder().domain(domain).token(TOKEN).build();
        assert!(
            matches!(&result, Err(Error::Config(error)) if error.setting() == "domain"),
            "{domain:?}: {result:?}"
        );
    }
    let with_port = Client::builder()
        .domain("example.eu.auth0.com:8443")
        .token(TOKEN)
        .build();
    assert!(with_port.is_ok(), "{with_port:?}");
}

#[test]
fn builders_clients_and_tokens_never_show_secrets_in_debug_output() {
    let builder = Client::builder()
        .domain("example.auth0.com")
        .client_credentials("id", SECRET);
    let builder_debug = format!("{builder:?}");
    let client = builder.build().unwrap();
    let token = AccessToken::new(TOKEN);
    let fixed = Client::builder()
        .domain("example.auth0.com")
        .token(TOKEN)
        .build()
        .unwrap();
    for shown in [
        builder_debug,
        format!("{client:?}"),
        format!("{token:?}"),
        format!("{fixed:?}"),
    ] {
        assert!(!shown.contains(SECRET) && !shown.contains(TOKEN), "{shown}");
        assert!(shown.contains("REDACTED"), "{shown}");
    }
}

#[tokio::test]
async fn a_full_token_and_request_cycle_logs_no_secret_and_no_token() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200)
                .json_body(json!({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 86400}));
        })
        .await;
    let refused = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/client-grants/refused");
            then.status(401)
                .json_body(json!({"statusCode": 401, "error": "Unauthorized", "message": "Invalid token"}));
        })
        .await;
    let grant = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/client-grants/cgr_1")
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200).body(RECORDED_GRANT);
        })
        .await;
    let (captured, _guard) = CapturedLog::install();
    let client = Client::builder()
        .base_url(server.url("/api/v2"))
        .client_credentials("m2m-client", SECRET)
        .clock(FakeClock::new())
        .build()
        .unwrap();

    client.client_grants().get("cgr_1").await.unwrap();
    let error = client.client_grants().get("refused").await.unwrap_err();

    grant.assert_async().await;
    refused.assert_calls_async(2).await;
    let log = captured.text();
    assert!(
        log.contains("fetched a new access token"),
        "the capture saw nothing:\n{log}"
    );
    assert!(
        log.contains("auth0_request"),
        "the capture saw no request span:\n{log}"
    );
    for shown in [log, error.to_string(), format!("{error:?}")] {
        assert!(
            !shown.contains(SECRET) && !shown.contains(TOKEN),
            "a secret leaked:\n{shown}"
        );
    }
}
