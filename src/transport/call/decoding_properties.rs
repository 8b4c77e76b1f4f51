//! Fuzzing every decoder a server's response goes through (inputs in src/tests/fuzz_inputs.rs): each
//! operation's success body (`ClientGrant` for get, create and update; the list responses in
//! their shapes; the association response; `()`, the type `run` is given for the deletes, whose
//! responses progenitor does not decode), with the open enums inside them and the paging
//! arithmetic applied to what they decode; the error bodies (`ApiError::from_parts`,
//! `TokenError::from_response`); the token endpoint's response; and `DecodeError::locate` on every
//! body a success decoder refuses. None may panic, and what each returns must make sense.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use reqwest::header::HeaderValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::generated::types::{
    AssociateOrganizationClientGrantResponseContent as Association, ClientGrant, ErrorBody,
};
use crate::api::list_responses::{
    ListClientGrantOrganizationsResponseContent as GrantOrganizations,
    ListClientGrantResponseContent as Grants,
    ListOrganizationClientGrantsResponseContent as OrganizationGrants, ListResponse,
};
use crate::api::pagination::{next_cursor, offset_has_more, whole_number};
use crate::error::{ApiError, DecodeError, Error, SNIPPET_CHARS, TokenError};
use crate::tests::fuzz_inputs::{
    ACCEPTED, FIXTURES, JSON_BYTES, OTHER_BODIES, TOKEN_KEYS, deeply_nested, fuzz, keys, known_body, mutated,
    object, response_shaped_json, shown, string,
};
use crate::transport::token::read_token_response;

// ---------------------------------------------------------------------------------------------
// The decoders and what must hold of their results

/// Every decoder a body from the server can go through; returns how many ran.
fn decode_every_way(body: &[u8]) -> u64 {
    success::<ClientGrant>("get_client_grant", 200, body);
    success::<ClientGrant>("post_client_grants", 201, body);
    if let Some(list) = success::<Grants>("get_client_grants", 200, body) {
        walk(list);
    }
    if let Some(list) = success::<GrantOrganizations>("get_client_grant_organizations", 200, body) {
        walk(list);
    }
    if let Some(list) = success::<OrganizationGrants>("get_organization_client_grants", 200, body) {
        walk(list);
    }
    if let Some(response) = success::<Association>("create_organization_client_grants", 201, body) {
        // What `associate` keeps: the live API's `grant_id`, else the spec's `id`.
        let _ = response.grant_id.or(response.id);
    }
    success::<()>("delete_client_grants_by_id", 200, body);
    api_error(404, body);
    api_error(429, body);
    token_error(401, body);
    token_response(body, UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    12
}

/// progenitor's decoding of a success body (`serde_json::from_slice`), then what
/// `Client::run` does with a body it refuses (`DecodeError::locate`).
fn success<T: DeserializeOwned + Serialize>(operation: &'static str, status: u16, body: &[u8]) -> Option<T> {
    match serde_json::from_slice::<T>(body) {
        Ok(value) => {
            // What was accepted can be written out (a caller's cache, logs) and read again.
            let again = serde_json::to_vec(&value).expect("a decoded response serializes");
            if let Err(error) = serde_json::from_slice::<T>(&again) {
                panic!(
                    "{operation}: {} does not read back: {error}",
                    String::from_utf8_lossy(&again)
                );
            }
            ACCEPTED.set(ACCEPTED.get() + 1);
            Some(value)
        }
        Err(_) => {
            let error = DecodeError::locate::<T>(operation, status, body);
            check_decode_error(error, operation, status, body);
            None
        }
    }
}

fn check_decode_error(error: DecodeError, operation: &str, status: u16, body: &[u8]) {
    assert_eq!(error.operation(), operation);
    check_snippet(error.body_snippet(), body);
    let text = error.to_string();
    // The JSON path (empty only for a key that is itself empty), then where in the body.
    assert!(text.contains(&format!("at `{}`: ", error.path())), "{text}");
    assert!(
        text.contains(" line ") && text.contains(" column "),
        "no location: {text}"
    );
    assert!(
        !text.contains("decodes on a second reading"),
        "serde_json refused the body but `locate` found nothing wrong: {text}"
    );
    assert_eq!(Error::Decode(error).status(), Some(status));
}

/// A snippet is the start of the body, on one line, at most `SNIPPET_CHARS` (plus `…`).
fn check_snippet(snippet: &str, body: &[u8]) {
    assert!(
        snippet.chars().count() <= SNIPPET_CHARS + 1,
        "a snippet of {} characters",
        snippet.chars().count()
    );
    assert!(
        !snippet.chars().any(|c| c.is_whitespace() && c != ' '),
        "a snippet on more than one line: {snippet:?}"
    );
    let one_line = String::from_utf8_lossy(body)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let kept: String = snippet.chars().take(SNIPPET_CHARS).collect();
    assert!(
        one_line.starts_with(&kept),
        "{snippet:?} is not the start of the body"
    );
}

/// The error-body parser keeps the status whatever the body, and always has a message.
fn api_error(status: u16, body: &[u8]) {
    let error = ApiError::from_parts(status, body, None);
    assert_eq!(error.status(), status);
    assert!(!error.message().is_empty(), "an empty message for {body:?}");
    let from_fields = serde_json::from_slice::<ErrorBody>(body).is_ok_and(|parsed| {
        [parsed.message, parsed.error_description, parsed.error]
            .into_iter()
            .flatten()
            .any(|text| !text.trim().is_empty())
    });
    if !from_fields && !String::from_utf8_lossy(body).trim().is_empty() {
        check_snippet(error.message(), body);
    }
    assert!(error.to_string().starts_with(&format!("{status} ")));
    assert_eq!(Error::Api(error).status(), Some(status));
}

/// The token endpoint's error responses keep their status whatever the body.
fn token_error(status: u16, body: &[u8]) {
    let error = TokenError::from_response(status, body);
    assert_eq!(error.status(), Some(status));
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("no access token: the token endpoint answered {status}")),
        "{text}"
    );
    // An OAuth error body (whose other fields serde_json skips unread, invalid UTF-8 and all)
    // is quoted as sent; anything else as a snippet.
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct OAuthError {
        error: Option<String>,
        error_description: Option<String>,
    }
    let structured = serde_json::from_slice::<OAuthError>(body).is_ok();
    if !structured && let Some(description) = error.error_description() {
        check_snippet(description, body);
    }
}

/// A token the decoder accepts can be sent, and expires after it was asked for.
fn token_response(body: &[u8], requested_at: SystemTime) {
    match read_token_response(reqwest::StatusCode::OK, body, requested_at) {
        Ok(token) => {
            ACCEPTED.set(ACCEPTED.get() + 1);
            assert!(!token.secret().is_empty());
            assert!(
                HeaderValue::try_from(format!("Bearer {}", token.secret())).is_ok(),
                "an access token that cannot be sent: {:?}",
                token.secret()
            );
            if let Some(expires_at) = token.expires_at() {
                assert!(expires_at >= requested_at);
            }
        }
        Err(error) => {
            assert_eq!(error.status(), None);
            assert!(error.to_string().contains("access_token"), "{error}");
        }
    }
}

/// What the streams do with a decoded list response.
fn walk<T>(response: ListResponse<T>) {
    match response {
        ListResponse::Array(_) => walk_checkpoint(None),
        ListResponse::Checkpoint { next, .. } => walk_checkpoint(next.as_deref()),
        ListResponse::Offset {
            items, start, total, ..
        } => walk_offset(items.len(), start, total),
    }
}

/// What the checkpoint streams do with a decoded page's cursor.
fn walk_checkpoint(next: Option<&str>) {
    let mut seen = HashSet::new();
    if let Ok(Some(cursor)) = next_cursor("get_client_grants", next, &mut seen) {
        assert!(!cursor.is_empty());
        assert!(next_cursor("get_client_grants", Some(&cursor), &mut seen).is_err());
    }
}

/// What the offset lists do with a decoded page's totals.
fn walk_offset(len: usize, start: Option<f64>, total: f64) {
    let (start, total) = (whole_number(start), whole_number(Some(total)));
    for per_page in [1, 50, 100] {
        if offset_has_more(start, len, total, per_page) {
            assert!(len > 0 && start < total);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The properties

#[test]
fn fuzz_arbitrary_bytes_never_panic_a_decoder() {
    fuzz("arbitrary bytes", 2048, shown(vec(any::<u8>(), 0..256)), |body| {
        decode_every_way(&body.0)
    });
}

#[test]
fn fuzz_json_byte_soup_never_panics_a_decoder() {
    fuzz(
        "JSON byte soup",
        2048,
        shown(vec(select(JSON_BYTES), 0..128)),
        |body| decode_every_way(&body.0),
    );
}

#[test]
fn fuzz_response_shaped_json_decodes_or_is_located() {
    let body = response_shaped_json().prop_map(|value| serde_json::to_vec(&value).expect("JSON serializes"));
    fuzz("response-shaped JSON", 1024, shown(mutated(body, 0..3)), |body| {
        decode_every_way(&body.0)
    });
}

#[test]
fn fuzz_mutated_and_truncated_fixtures_never_panic_a_decoder() {
    let body = known_body().prop_map(|body| body.as_bytes().to_vec());
    fuzz("mutated fixtures", 2048, shown(mutated(body, 1..6)), |body| {
        decode_every_way(&body.0)
    });
}

#[test]
fn fuzz_deep_nesting_never_overflows_the_stack() {
    fuzz("deep nesting", 512, shown(deeply_nested()), |body| {
        decode_every_way(&body.0)
    });
}

#[test]
fn fuzz_error_parsers_keep_any_status() {
    let body = prop_oneof![
        vec(any::<u8>(), 0..300),
        object(keys("ErrorBody")).prop_map(|value| serde_json::to_vec(&value).expect("JSON serializes")),
        known_body().prop_map(|body| body.as_bytes().to_vec()),
    ];
    fuzz(
        "error bodies",
        2048,
        (any::<u16>(), shown(body)),
        |(status, body)| {
            api_error(status, &body.0);
            token_error(status, &body.0);
            2
        },
    );
}

#[test]
fn fuzz_token_responses_give_sendable_tokens() {
    let requested_at = prop_oneof![
        (0u64..4_102_444_800).prop_map(|seconds| UNIX_EPOCH + Duration::from_secs(seconds)),
        // A caller's clock may say anything `SystemTime` holds.
        (0u64..=i64::MAX as u64).prop_map(|seconds| UNIX_EPOCH + Duration::from_secs(seconds)),
    ];
    let body = prop_oneof![
        object(TOKEN_KEYS).prop_map(|value| serde_json::to_vec(&value).expect("JSON serializes")),
        (string(), any::<u64>()).prop_map(|(token, expires_in)| {
            serde_json::to_vec(&serde_json::json!({"access_token": token, "expires_in": expires_in}))
                .expect("JSON serializes")
        }),
    ];
    fuzz(
        "token responses",
        2048,
        (shown(mutated(body, 0..2)), requested_at),
        |(body, requested_at)| {
            token_response(&body.0, requested_at);
            1
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Findings, kept as regular tests

#[test]
fn the_fixtures_decode_as_their_operations_promise() {
    assert!(serde_json::from_str::<ClientGrant>(FIXTURES[0]).is_ok());
    assert!(serde_json::from_str::<ClientGrant>(FIXTURES[1]).is_ok());
    assert!(serde_json::from_str::<Grants>(FIXTURES[2]).is_ok());
    assert!(serde_json::from_str::<GrantOrganizations>(FIXTURES[3]).is_ok());
    assert!(serde_json::from_str::<Association>(FIXTURES[4]).is_ok());
    assert!(serde_json::from_str::<OrganizationGrants>(FIXTURES[5]).is_ok());
    for body in FIXTURES.iter().chain(OTHER_BODIES.iter()) {
        assert_eq!(decode_every_way(body.as_bytes()), 12);
    }
}

#[test]
fn found_trailing_characters_reported_as_a_body_that_decodes() {
    // `from_slice` refuses what follows a whole value; `locate` used to say the body decoded.
    for body in [&b"[]{"[..], br#"{"scope":[]}{"scope":[]}"#, b"[] x"] {
        let error = DecodeError::locate::<Grants>("get_client_grants", 200, body);
        assert_eq!(error.path(), ".");
        assert!(
            error
                .to_string()
                .contains(": trailing characters at line 1 column "),
            "{error}"
        );
    }
}

#[test]
fn found_list_decode_errors_without_a_path() {
    // When the list responses were untagged enums, serde said only "data did not match any
    // variant" at `.`, whatever item was wrong.
    let cases: [(&'static str, &[u8], &str, &str); 6] = [
        ("get_client_grants", b"[{}]", "[0]", "missing field `audience`"),
        (
            "get_client_grants",
            br#"{"client_grants":[{"id":"g","audience":"a","scope":[7]}],"next":"c"}"#,
            "client_grants[0].scope[0]",
            "invalid type: integer `7`",
        ),
        (
            "get_client_grants",
            br#"{"client_grants":[{"id":"g"}],"total":1}"#,
            "client_grants[0]",
            "missing field `audience`",
        ),
        (
            "get_client_grants",
            b"\"\"",
            ".",
            "expected an array of items or an object with `client_grants`",
        ),
        (
            "get_client_grant_organizations",
            br#"{"organizations":[{"id":"o","metadata":{"k":1}}],"total":1}"#,
            "organizations[0].metadata.k",
            "invalid type: integer `1`",
        ),
        (
            "get_organization_client_grants",
            br#"{"client_grants":[{"id":"g"}],"total":1}"#,
            "client_grants[0]",
            "missing field `audience`",
        ),
    ];
    for (operation, body, path, problem) in cases {
        let error = match operation {
            "get_client_grants" => DecodeError::locate::<Grants>(operation, 200, body),
            "get_client_grant_organizations" => {
                DecodeError::locate::<GrantOrganizations>(operation, 200, body)
            }
            _ => DecodeError::locate::<OrganizationGrants>(operation, 200, body),
        };
        assert_eq!(error.path(), path, "{error}");
        assert!(error.to_string().contains(problem), "{error}");
    }
}

#[test]
fn found_error_bodies_with_a_blank_message() {
    // Displayed as "500 Internal Server Error: " with nothing after it.
    let blank = ApiError::from_parts(500, br#"{"error_description":"","message":" "}"#, None);
    assert_eq!(blank.message(), r#"{"error_description":"","message":" "}"#);
    let fallback = ApiError::from_parts(500, br#"{"message":"","error":"Internal"}"#, None);
    assert_eq!(fallback.message(), "Internal");
    let token = TokenError::from_response(401, br#"{"error":"","error_description":" "}"#);
    assert_eq!(
        token.to_string(),
        "no access token: the token endpoint answered 401"
    );
}
