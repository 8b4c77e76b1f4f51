//! Error responses and undecodable successes become errors that say what and where.

mod common;

use auth0_client_grants::{Error, RetryPolicy};
use common::{FakeClock, builder_for};
use httpmock::Method::GET;
use httpmock::MockServer;

async fn response(status: u16, body: &str) -> Error {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/client-grants/cgr_1");
            then.status(status)
                .header("content-type", "application/json")
                .body(body);
        })
        .await;
    let client = builder_for(&server, &FakeClock::new())
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    client.client_grants().get("cgr_1").await.unwrap_err()
}

#[tokio::test]
async fn the_recorded_404_is_not_found_with_auth0s_message_and_code() {
    // The body of `GET /api/v2/client-grants/{id}` for a deleted grant (TestClientGrantManager_Delete).
    let error = response(
        404,
        r#"{"statusCode":404,"error":"Not Found","message":"The grant does not exist.","errorCode":"inexistent_client_grant"}"#,
    )
    .await;
    assert!(error.is_not_found());
    assert!(!error.is_conflict() && !error.is_rate_limited());
    assert_eq!(error.status(), Some(404));
    assert_eq!(error.error_code(), Some("inexistent_client_grant"));
    assert_eq!(
        error.to_string(),
        "404 Not Found: The grant does not exist. (inexistent_client_grant)"
    );
    let Error::Api(api) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (api.status(), api.error(), api.message()),
        (404, Some("Not Found"), "The grant does not exist.")
    );
}

#[tokio::test]
async fn every_documented_error_status_is_an_api_error() {
    for status in [400, 401, 403, 409, 429] {
        let error = response(
            status,
            &format!(r#"{{"statusCode":{status},"error":"E","message":"m{status}"}}"#),
        )
        .await;
        assert!(matches!(error, Error::Api(_)), "{status}: {error:?}");
        assert_eq!(error.status(), Some(status));
        assert!(error.to_string().ends_with(&format!(": m{status}")), "{error}");
    }
    assert!(
        response(409, r#"{"statusCode":409,"error":"Conflict","message":"exists"}"#)
            .await
            .is_conflict()
    );
}

#[tokio::test]
async fn empty_html_and_truncated_error_bodies_keep_the_status() {
    let empty = response(500, "").await;
    assert_eq!(empty.to_string(), "500 Internal Server Error: (empty body)");
    let html = response(502, "<html><body>Bad gateway</body></html>").await;
    assert_eq!(
        html.to_string(),
        "502 Bad Gateway: <html><body>Bad gateway</body></html>"
    );
    let truncated = response(404, r#"{"statusCode":404,"error":"Not Fo"#).await;
    assert!(truncated.is_not_found());
    assert_eq!(
        truncated.to_string(),
        r#"404 Not Found: {"statusCode":404,"error":"Not Fo"#
    );
}

#[tokio::test]
async fn a_success_body_of_the_wrong_shape_is_a_decode_error_naming_the_json_path() {
    let error = response(200, r#"{"id":"cgr_1","scope":["read:a",7]}"#).await;
    let Error::Decode(decode) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(decode.path(), "scope[1]");
    assert_eq!(decode.operation(), "get_client_grant");
    assert_eq!(error.status(), Some(200));
    assert!(
        error.to_string().starts_with(
            "cannot decode the 200 response to get_client_grant at `scope[1]`: invalid type: integer `7`"
        ),
        "{error}"
    );
}

#[tokio::test]
async fn a_success_status_the_operation_does_not_document_is_a_decode_error_that_says_so() {
    let error = response(203, r#"{"id":"cgr_1","audience":"https://api/","scope":[]}"#).await;
    let Error::Decode(decode) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(decode.operation(), "get_client_grant");
    assert_eq!(decode.path(), ".");
    assert_eq!(
        decode.body_snippet(),
        "",
        "the body of an undocumented status is not read"
    );
    assert_eq!(error.status(), Some(203));
    assert_eq!(
        error.to_string(),
        "cannot decode the 203 response to get_client_grant at `.`: a success status the API does not \
         document for this operation"
    );
}

#[tokio::test]
async fn a_success_body_that_is_not_json_is_a_decode_error_with_a_bounded_snippet() {
    let page = format!("<html>{}</html>", "maintenance ".repeat(100));
    let error = response(200, &page).await;
    let Error::Decode(decode) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(decode.path(), ".");
    assert!(decode.body_snippet().starts_with("<html>maintenance"));
    assert_eq!(
        decode.body_snippet().chars().count(),
        201,
        "200 characters and an ellipsis"
    );
}
