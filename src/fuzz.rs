//! Fuzzing, as proptest properties (cargo-fuzz needs nightly): every decoder a server answer
//! goes through gets arbitrary bytes and must never panic, and what it returns must still make
//! sense.
//!
//! The decoders: each operation's success body (`ClientGrant` for get, create and update; the
//! three list shapes of `GET /client-grants`; the organization pages of a grant; the
//! organization's grant pages; the association answer; `()` for the deletes, which
//! [`DecodeError::locate`] reads on an undocumented success), with the open enums of
//! `models.rs` inside them and the paging arithmetic applied to what they decode; the error
//! bodies (`ApiError::from_parts`, `TokenError::from_answer`); the token endpoint's answer
//! (`token::read_token_answer`); `DecodeError::locate` on every body a success decoder
//! refuses; and the headers (`RateLimit::from_headers`, `retry_after`, and the retry decision
//! that uses both).
//!
//! The inputs: raw bytes; a soup of JSON's own bytes; JSON values shaped like each answer, with
//! fields of the right type or not, then mutated byte by byte; the recorded fixture bodies of
//! `tests/fixtures`, mutated and truncated; nesting up to past `serde_json`'s depth limit.
//!
//! CI runs a fixed budget, the cases each property names below (about 5 s in a debug build on
//! two cores): `cargo test --locked --lib fuzz`. Longer by hand, with the same number of cases
//! for every property (about 70 s once built, on two cores) and the executions printed:
//!
//! ```text
//! PROPTEST_CASES=200000 cargo test --release --locked --lib fuzz -- --nocapture
//! ```
//!
//! Each run draws new inputs; `PROPTEST_RNG_SEED=<n>` repeats one. A failure prints the
//! smallest input found: keep it as a regular test at the end of this file.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt::Debug;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use proptest::collection::vec;
use proptest::option::weighted;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

use crate::error::{ApiError, DecodeError, Error, SNIPPET_CHARS, TokenError};
use crate::generated::types::{
    AssociateOrganizationClientGrantResponseContent as Association, ClientGrant, ErrorBody,
};
use crate::list_answers::{
    ListClientGrantOrganizationsResponseContent as GrantOrganizations,
    ListClientGrantResponseContent as Grants,
    ListOrganizationClientGrantsResponseContent as OrganizationGrants,
};
use crate::models::{DefaultFor, OrganizationUsage, SubjectType};
use crate::pagination::{next_cursor, offset_has_more, whole_number};
use crate::rate_limit::{LATEST_RESET_SECS, MAX_RETRY_AFTER, RateLimit, retry_after};
use crate::retry::{Decision, Outcome, RetryPolicy, decide};
use crate::token::read_token_answer;

// ---------------------------------------------------------------------------------------------
// The runner

/// Runs `check` on `ci_cases` inputs from `strategy` (or `PROPTEST_CASES`), and prints how many
/// cases and decoder runs it made. `check` returns how many decoders it ran.
fn fuzz<S>(name: &str, ci_cases: u32, strategy: S, check: impl Fn(S::Value) -> u64)
where
    S: Strategy,
    S::Value: Debug,
{
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = ci_cases;
    }
    // Failures are kept by hand as regular tests, not in files beside the sources.
    config.failure_persistence = None;
    let cases = config.cases;
    let runs = Cell::new(0u64);
    let accepted_before = ACCEPTED.get();
    let started = Instant::now();
    let result = TestRunner::new(config).run(&strategy, |input| {
        runs.set(runs.get() + check(input));
        Ok(())
    });
    let accepted = match ACCEPTED.get() - accepted_before {
        0 => String::new(),
        accepted => format!(" ({accepted} decoded as an answer)"),
    };
    eprintln!(
        "fuzz {name}: {cases} cases, {} decoder runs{accepted}, {:.2?}",
        runs.get(),
        started.elapsed()
    );
    if let Err(failure) = result {
        panic!("fuzz {name}: {failure}");
    }
}

// ---------------------------------------------------------------------------------------------
// The decoders and what must hold of their results

thread_local! {
    /// How many bodies a decoder of success answers (the API's or the token endpoint's)
    /// accepted on this thread: shows that the inputs get past the first byte.
    static ACCEPTED: Cell<u64> = const { Cell::new(0) };
}

/// Every decoder a body from the server can go through; returns how many ran.
fn decode_every_way(body: &[u8]) -> u64 {
    success::<ClientGrant>("get_client_grant", 200, body);
    success::<ClientGrant>("post_client_grants", 201, body);
    if let Some(list) = success::<Grants>("get_client_grants", 200, body) {
        match list {
            Grants::Array(_) => walk_checkpoint(None),
            Grants::ListClientGrantPaginatedResponseContent(page) => walk_checkpoint(page.next.as_deref()),
            Grants::ListClientGrantOffsetPaginatedResponseContent(page) => {
                walk_offset(page.client_grants.len(), page.start, page.total)
            }
        }
    }
    if let Some(list) = success::<GrantOrganizations>("get_client_grant_organizations", 200, body) {
        match list {
            GrantOrganizations::Array(_) => walk_checkpoint(None),
            GrantOrganizations::ListClientGrantOrganizationsPaginatedResponseContent(page) => {
                walk_checkpoint(page.next.as_deref())
            }
            GrantOrganizations::ListClientGrantOrganizationsOffsetPaginatedResponseContent(page) => {
                walk_offset(page.organizations.len(), page.start, page.total)
            }
        }
    }
    if let Some(list) = success::<OrganizationGrants>("get_organization_client_grants", 200, body) {
        match list {
            OrganizationGrants::Array(_) => walk_checkpoint(None),
            OrganizationGrants::ListOrganizationClientGrantsOffsetPaginatedResponseContent(page) => {
                walk_offset(page.client_grants.len(), page.start, page.total)
            }
        }
    }
    if let Some(answer) = success::<Association>("create_organization_client_grants", 201, body) {
        // What `associate` keeps: the live API's `grant_id`, else the spec's `id`.
        let _ = answer.grant_id.or(answer.id);
    }
    success::<()>("delete_client_grants_by_id", 200, body);
    api_error(404, body);
    api_error(429, body);
    token_error(401, body);
    token_answer(body, UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    12
}

/// progenitor's decoding of a success body (`serde_json::from_slice`), then what
/// `Client::run` does with a body it refuses (`DecodeError::locate`).
fn success<T: DeserializeOwned + Serialize>(operation: &'static str, status: u16, body: &[u8]) -> Option<T> {
    match serde_json::from_slice::<T>(body) {
        Ok(value) => {
            // What was accepted can be written out (a caller's cache, logs) and read again.
            let again = serde_json::to_vec(&value).expect("a decoded answer serializes");
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

/// The token endpoint's error answers keep their status whatever the body.
fn token_error(status: u16, body: &[u8]) {
    let error = TokenError::from_answer(status, body);
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
fn token_answer(body: &[u8], requested_at: SystemTime) {
    match read_token_answer(reqwest::StatusCode::OK, body, requested_at) {
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

/// What the checkpoint streams do with a decoded page's cursor.
fn walk_checkpoint(next: Option<&str>) {
    let mut seen = HashSet::new();
    if let Ok(Some(cursor)) = next_cursor(next, &mut seen) {
        assert!(!cursor.is_empty());
        assert!(next_cursor(Some(&cursor), &mut seen).is_err());
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
// Inputs

const FIXTURES: [&str; 6] = [
    include_str!("../tests/fixtures/client_grant.json"),
    include_str!("../tests/fixtures/client_grant_updated.json"),
    include_str!("../tests/fixtures/client_grants_offset_page.json"),
    include_str!("../tests/fixtures/client_grant_organizations_page.json"),
    include_str!("../tests/fixtures/live/organization_association.json"),
    include_str!("../tests/fixtures/live/organization_client_grants_page.json"),
];

/// Bodies the fixtures do not cover: the other list shapes, error bodies, token answers.
const OTHER_BODIES: [&str; 7] = [
    r#"{"client_grants":[{"id":"cgr_1","audience":"https://api/","scope":["read:x"],"organization_usage":"require","default_for":"third_party_clients"}],"next":"MjAyNC0wMS0wMQ"}"#,
    r#"[{"id":"cgr_1","client_id":"c","audience":"https://api/","subject_type":"client","allow_all_scopes":true,"is_system":false}]"#,
    r##"{"organizations":[{"id":"org_1","name":"n","metadata":{"k":"v","n":null},"token_quota":{"client_credentials":{"enforce":true,"per_day":100,"per_hour":10}},"branding":{"colors":{"primary":"#000000","page_background":"#ffffff"}}}],"next":"b3Jn"}"##,
    r#"{"statusCode":404,"error":"Not Found","message":"The client grant does not exist.","errorCode":"inexistent_client_grant"}"#,
    r#"{"error":"too_many_requests","error_description":"Global limit has been reached"}"#,
    r#"{"access_token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln","scope":"read:client_grants","expires_in":86400,"token_type":"Bearer"}"#,
    "<html><body><h1>502 Bad Gateway</h1></body></html>",
];

fn known_body() -> impl Strategy<Value = &'static str> {
    select(
        FIXTURES
            .iter()
            .chain(OTHER_BODIES.iter())
            .copied()
            .collect::<Vec<_>>(),
    )
}

/// Bytes that mean something to JSON, and strings that trip number and string parsing.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "\\",
    " ",
    "\n",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "-0",
    "0.5",
    "1e999",
    "-1e999",
    "1e-999",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "NaN",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "\"\\\"",
    "\"x\"",
    "{}",
    "[]",
    "\"id\":\"x\",",
    "\"total\":",
    "\"client_grants\":[",
    "\"organizations\":[",
    "\"next\":",
    "\"scope\":[1],",
    "\"subject_type\":",
    "\"metadata\":{\"k\":1}",
    "\u{feff}",
    "é",
    "\u{2028}",
];

fn insertion() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 1..8),
        select(TOKENS).prop_map(|token| token.as_bytes().to_vec()),
    ]
}

/// One edit of a body; positions are drawn as fractions of its length.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(Index),
    Remove(Index, usize),
    Insert(Index, Vec<u8>),
    Replace(Index, u8),
    Repeat(Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), 1usize..16).prop_map(|(at, len)| Mutation::Remove(at, len)),
        (any::<Index>(), insertion()).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Replace(at, byte)),
        (any::<Index>(), 1usize..32).prop_map(|(at, len)| Mutation::Repeat(at, len)),
    ]
}

fn mutate(body: &mut Vec<u8>, mutation: &Mutation) {
    let at = |index: &Index| index.index(body.len() + 1);
    match mutation {
        Mutation::Truncate(index) => body.truncate(at(index)),
        Mutation::Remove(index, len) => {
            let start = at(index);
            body.drain(start..(start + len).min(body.len()));
        }
        Mutation::Insert(index, bytes) => {
            let start = at(index);
            body.splice(start..start, bytes.iter().copied());
        }
        Mutation::Replace(index, byte) => {
            let start = at(index);
            if let Some(slot) = body.get_mut(start) {
                *slot = *byte;
            }
        }
        Mutation::Repeat(index, len) => {
            let start = at(index);
            let copy = body[start..(start + len).min(body.len())].to_vec();
            body.splice(start..start, copy);
        }
    }
}

fn mutated(
    body: impl Strategy<Value = Vec<u8>>,
    edits: std::ops::Range<usize>,
) -> impl Strategy<Value = Vec<u8>> {
    (body, vec(mutation(), edits)).prop_map(|(mut body, mutations)| {
        for mutation in &mutations {
            mutate(&mut body, mutation);
        }
        body
    })
}

// JSON shaped like the answers: each field present or not, of the right type or not.

const GRANT_KEYS: &[&str] = &[
    "id",
    "client_id",
    "audience",
    "scope",
    "subject_type",
    "organization_usage",
    "allow_any_organization",
    "allow_all_scopes",
    "is_system",
    "default_for",
    "authorization_details_types",
];
const ASSOCIATION_KEYS: &[&str] = &[
    "grant_id",
    "id",
    "client_id",
    "audience",
    "scope",
    "organization_usage",
    "allow_any_organization",
];
const ORGANIZATION_KEYS: &[&str] = &[
    "id",
    "name",
    "display_name",
    "branding",
    "metadata",
    "token_quota",
];
const GRANT_PAGE_KEYS: &[&str] = &["client_grants", "start", "limit", "total", "next"];
const ORGANIZATION_PAGE_KEYS: &[&str] = &["organizations", "start", "limit", "total", "next"];
const ERROR_KEYS: &[&str] = &["statusCode", "error", "message", "errorCode", "error_description"];
const TOKEN_KEYS: &[&str] = &["access_token", "expires_in", "token_type", "scope"];
const BRANDING_KEYS: &[&str] = &["logo_url", "colors"];
const COLORS_KEYS: &[&str] = &["primary", "page_background"];
const QUOTA_KEYS: &[&str] = &["client_credentials"];
const CREDENTIALS_QUOTA_KEYS: &[&str] = &["enforce", "per_day", "per_hour"];

fn string() -> BoxedStrategy<String> {
    prop_oneof![
        select(
            &[
                "client",
                "user",
                "deny",
                "allow",
                "require",
                "third_party_clients",
                "",
                "cgr_1",
                "org_1"
            ][..]
        )
        .prop_map(str::to_owned),
        "[a-z_:]{0,12}",
        any::<String>(),
        // What an `Authorization` header cannot carry.
        "[a-z]{0,4}[\\x00-\\x1f\\x7f][a-z]{0,4}",
    ]
    .boxed()
}

fn number() -> BoxedStrategy<Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        (0u64..200).prop_map(Number::from),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
        select(
            &[
                0.0,
                -0.0,
                0.5,
                -1.0,
                50.0,
                1e19,
                1.8446744073709552e19,
                1e300,
                -1e300,
                f64::MAX,
                f64::MIN_POSITIVE
            ][..]
        )
        .prop_filter_map("finite", Number::from_f64),
    ]
    .boxed()
}

fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        string().prop_map(Value::String),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep, with keys mostly from the answers.
fn any_json() -> BoxedStrategy<Value> {
    let key = prop_oneof![
        select(
            GRANT_KEYS
                .iter()
                .chain(ORGANIZATION_PAGE_KEYS)
                .chain(GRANT_PAGE_KEYS)
                .chain(ERROR_KEYS)
                .chain(TOKEN_KEYS)
                .copied()
                .collect::<Vec<_>>()
        )
        .prop_map(str::to_owned),
        string(),
    ];
    scalar()
        .prop_recursive(4, 32, 6, move |inner| {
            prop_oneof![
                vec(inner.clone(), 0..6).prop_map(Value::Array),
                vec((key.clone(), inner), 0..6).prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
        .boxed()
}

/// The value of `key` as the answers have it (four times in five), or any value.
fn field(key: &'static str) -> BoxedStrategy<Value> {
    let typed: BoxedStrategy<Value> = match key {
        "scope" | "authorization_details_types" => vec(string(), 0..4)
            .prop_map(|items| Value::Array(items.into_iter().map(Value::String).collect()))
            .boxed(),
        "allow_any_organization" | "allow_all_scopes" | "is_system" | "enforce" => {
            any::<bool>().prop_map(Value::Bool).boxed()
        }
        "start" | "limit" | "total" | "statusCode" | "expires_in" | "per_day" | "per_hour" => {
            number().prop_map(Value::Number).boxed()
        }
        "client_grants" => prop_oneof![vec(object(GRANT_KEYS), 0..4), vec(object(ASSOCIATION_KEYS), 0..3)]
            .prop_map(Value::Array)
            .boxed(),
        "organizations" => vec(object(ORGANIZATION_KEYS), 0..4)
            .prop_map(Value::Array)
            .boxed(),
        "branding" => object(BRANDING_KEYS),
        "colors" => object(COLORS_KEYS),
        "token_quota" => object(QUOTA_KEYS),
        "client_credentials" => object(CREDENTIALS_QUOTA_KEYS),
        "metadata" => vec((string(), weighted(0.8, string())), 0..4)
            .prop_map(|pairs| {
                Value::Object(
                    pairs
                        .into_iter()
                        .map(|(key, value)| (key, value.map_or(Value::Null, Value::String)))
                        .collect(),
                )
            })
            .boxed(),
        _ => string().prop_map(Value::String).boxed(),
    };
    prop_oneof![4 => typed, 1 => scalar(), 1 => any_json()].boxed()
}

/// An object with each of `keys` present or not, and sometimes one more.
fn object(keys: &'static [&'static str]) -> BoxedStrategy<Value> {
    let fields: Vec<_> = keys
        .iter()
        .map(|&key| weighted(0.8, field(key)).prop_map(move |value| (key, value)))
        .collect();
    (fields, weighted(0.2, (string(), scalar())))
        .prop_map(|(fields, extra)| {
            let mut object: Map<String, Value> = fields
                .into_iter()
                .filter_map(|(key, value)| Some((key.to_owned(), value?)))
                .collect();
            if let Some((key, value)) = extra {
                object.insert(key, value);
            }
            Value::Object(object)
        })
        .boxed()
}

fn answer_shaped_json() -> impl Strategy<Value = Value> {
    prop_oneof![
        object(GRANT_KEYS),
        object(ASSOCIATION_KEYS),
        object(GRANT_PAGE_KEYS),
        object(ORGANIZATION_PAGE_KEYS),
        object(ERROR_KEYS),
        object(TOKEN_KEYS),
        vec(object(GRANT_KEYS), 0..4).prop_map(Value::Array),
        vec(object(ORGANIZATION_KEYS), 0..4).prop_map(Value::Array),
        any_json(),
    ]
}

/// Where deep nesting goes: at the top (where an untagged list answer once buffered any value), in
/// a field nobody reads, in a map, in a field of the wrong type.
const NESTING_PLACES: &[(&str, &str)] = &[
    ("", ""),
    (r#"{"client_grants":"#, "}"),
    (r#"{"id":"x","audience":"y","unknown":"#, "}"),
    (r#"[{"id":"o","metadata":"#, "}]"),
    (r#"{"organizations":[{"id":"o","branding":"#, "}]}"),
    (r#"{"total":1,"client_grants":[],"start":"#, "}"),
    (r#"{"message":"#, "}"),
    (r#"{"access_token":"t","expires_in":"#, "}"),
];

fn deeply_nested() -> impl Strategy<Value = Vec<u8>> {
    (select(NESTING_PLACES), 0usize..300, any::<bool>(), any::<bool>()).prop_map(
        |((before, after), depth, objects, closed)| {
            let (open, close) = if objects { ("{\"a\":", "}") } else { ("[", "]") };
            let mut body = before.to_owned();
            body.push_str(&open.repeat(depth));
            body.push('1');
            if closed {
                body.push_str(&close.repeat(depth));
                body.push_str(after);
            }
            body.into_bytes()
        },
    )
}

const JSON_BYTES: &[u8] = b"{}[]\":,0123456789-+.eEtrufalsn \\idx_";

/// Bytes, shown as a byte string when a case fails.
#[derive(Clone)]
struct Bytes(Vec<u8>);

impl Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

fn shown(bytes: impl Strategy<Value = Vec<u8>>) -> impl Strategy<Value = Bytes> {
    bytes.prop_map(Bytes)
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
fn fuzz_answer_shaped_json_decodes_or_is_located() {
    let body = answer_shaped_json().prop_map(|value| serde_json::to_vec(&value).expect("JSON serializes"));
    fuzz("answer-shaped JSON", 1024, shown(mutated(body, 0..3)), |body| {
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
        object(ERROR_KEYS).prop_map(|value| serde_json::to_vec(&value).expect("JSON serializes")),
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
fn fuzz_token_answers_give_sendable_tokens() {
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
        "token answers",
        2048,
        (shown(mutated(body, 0..2)), requested_at),
        |(body, requested_at)| {
            token_answer(&body.0, requested_at);
            1
        },
    );
}

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<u64>().prop_map(|number| number.to_string().into_bytes()),
        (0u64..4_102_444_800).prop_map(|number| number.to_string().into_bytes()),
        select(
            &[
                "0",
                "18446744073709551615",
                "18446744073709551616",
                "9223372036854775807",
                "9223372036854775808",
                "-1",
                " 7 ",
                "1e3",
                "",
                "+5",
                "007",
                "Fri, 31 Dec 9999 23:59:59 GMT",
                "Thu, 01 Jan 1970 00:00:00 GMT",
                "Sun, 06 Nov 1994 08:49:37 GMT",
            ][..]
        )
        .prop_map(|value| value.as_bytes().to_vec()),
        (0u64..=253_402_300_799).prop_map(|seconds| {
            httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(seconds)).into_bytes()
        }),
        "[ -~]{0,40}".prop_map(String::into_bytes),
        vec(any::<u8>(), 0..40),
    ]
}

const HEADER_NAMES: [&str; 4] = [
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "retry-after",
];

#[test]
fn fuzz_rate_limit_headers_never_panic_the_retry_decision() {
    let headers = [
        weighted(0.8, shown(header_value())),
        weighted(0.8, shown(header_value())),
        weighted(0.8, shown(header_value())),
        weighted(0.5, shown(header_value())),
    ];
    let now = (0u64..4_102_444_800).prop_map(|seconds| UNIX_EPOCH + Duration::from_secs(seconds));
    let input = (headers, now, 0u32..6, any::<f64>(), any::<bool>());
    fuzz(
        "rate-limit headers",
        4096,
        input,
        |(values, now, retries_done, jitter, patient)| {
            let mut headers = HeaderMap::new();
            for (name, value) in HEADER_NAMES.iter().zip(values) {
                if let Some(value) = value.and_then(|value| HeaderValue::from_bytes(&value.0).ok()) {
                    headers.insert(HeaderName::from_static(name), value);
                }
            }
            if let Some(limit) = RateLimit::from_headers(&headers) {
                let number = |name: &str| headers[name].to_str().unwrap().trim().parse::<u64>().unwrap();
                assert_eq!(limit.limit, number("x-ratelimit-limit"));
                assert_eq!(limit.remaining, number("x-ratelimit-remaining"));
                assert!(limit.reset <= UNIX_EPOCH + Duration::from_secs(LATEST_RESET_SECS));
                let _ = limit.reset_after(now);
            }
            if let Some(wait) = retry_after(&headers, now) {
                assert!(wait <= MAX_RETRY_AFTER);
            }
            let policy = if patient {
                RetryPolicy::standard().max_delay(Duration::MAX)
            } else {
                RetryPolicy::standard()
            };
            for status in [429, 503] {
                for method in [Method::GET, Method::POST] {
                    let outcome = Outcome::Status {
                        status,
                        headers: &headers,
                    };
                    if let Decision::RetryAfter(wait) =
                        decide(&policy, &method, outcome, retries_done, now, jitter)
                        && !patient
                    {
                        assert!(wait <= Duration::from_secs(60), "{wait:?}");
                    }
                }
            }
            7
        },
    );
}

#[test]
fn fuzz_open_enums_keep_any_value() {
    fuzz("open enums", 1024, string(), |value| {
        let json = serde_json::to_string(&value).expect("a string serializes");
        macro_rules! check {
            ($name:ident) => {{
                let parsed = $name::from(value.as_str());
                assert_eq!(parsed.as_str(), value);
                assert_eq!(parsed.to_string(), value);
                assert_eq!(
                    matches!(parsed, $name::Unknown(_)),
                    !$name::KNOWN.contains(&value.as_str())
                );
                let decoded: $name = serde_json::from_str(&json).expect("any string decodes");
                assert_eq!(decoded, parsed);
                assert_eq!(serde_json::to_string(&decoded).expect("serializes"), json);
            }};
        }
        check!(SubjectType);
        check!(OrganizationUsage);
        check!(DefaultFor);
        3
    });
}

#[test]
fn fuzz_paging_arithmetic_takes_any_totals() {
    let total = prop_oneof![
        any::<f64>(),
        any::<u64>().prop_map(|number| number as f64),
        Just(1.8446744073709552e19)
    ];
    let input = (weighted(0.9, total.clone()), total, 0usize..=100, 1u64..=100);
    fuzz("paging totals", 4096, input, |(start, total, len, per_page)| {
        let (start, total) = (whole_number(start), whole_number(Some(total)));
        if offset_has_more(start, len, total, per_page) {
            assert!(len as u64 >= per_page && start < total);
        }
        1
    });
}

#[test]
fn fuzz_cursor_walks_end_on_the_first_repeat() {
    let cursors = vec(weighted(0.95, "[ab]{0,2}"), 1..12);
    fuzz("cursors", 1024, cursors, |cursors| {
        let mut seen = HashSet::new();
        for (index, cursor) in cursors.iter().enumerate() {
            let repeated = cursor.as_deref().is_some_and(|cursor| {
                !cursor.is_empty()
                    && cursors[..index]
                        .iter()
                        .any(|earlier| earlier.as_deref() == Some(cursor))
            });
            match next_cursor(cursor.as_deref(), &mut seen) {
                Ok(Some(next)) => assert_eq!(Some(next.as_str()), cursor.as_deref()),
                Ok(None) => {
                    assert!(cursor.as_deref().is_none_or(str::is_empty));
                    break;
                }
                Err(error) => {
                    assert!(repeated, "{error}");
                    break;
                }
            }
        }
        1
    });
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

fn rate_limit_headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|&(name, value)| {
            (
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            )
        })
        .collect()
}

#[test]
fn found_a_rate_limit_reset_past_what_system_time_holds() {
    // Panicked in `RateLimit::from_headers` ("overflow when adding duration to instant"), on
    // every answer that carried it, before any retry decision.
    let headers = rate_limit_headers(&[
        ("x-ratelimit-limit", "0"),
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", "9223372036854775808"),
    ]);
    assert_eq!(RateLimit::from_headers(&headers), None);
    // Fits in a `SystemTime`, but panicked in the pacer's arithmetic ("cannot convert float
    // seconds to Duration") with three requests in flight: no reset past the year 9999 is
    // taken as meant.
    let far = rate_limit_headers(&[
        ("x-ratelimit-limit", "2"),
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", "9223372036854775807"),
    ]);
    assert_eq!(RateLimit::from_headers(&far), None);
    let latest = rate_limit_headers(&[
        ("x-ratelimit-limit", "2"),
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", "253402300799"),
    ]);
    assert!(RateLimit::from_headers(&latest).is_some());
    let outcome = Outcome::Status {
        status: 429,
        headers: &headers,
    };
    let decision = decide(
        &RetryPolicy::standard(),
        &Method::GET,
        outcome,
        0,
        UNIX_EPOCH,
        0.0,
    );
    assert!(matches!(decision, Decision::RetryAfter(_)), "{decision:?}");
}

#[test]
fn found_a_retry_after_too_long_to_pad() {
    // Panicked in the retry decision of a 429 ("overflow when adding durations"): the wait
    // plus its padding and jitter did not fit in a `Duration`.
    let headers = rate_limit_headers(&[("retry-after", "16769767339735955968")]);
    assert_eq!(retry_after(&headers, UNIX_EPOCH), Some(MAX_RETRY_AFTER));
    let outcome = Outcome::Status {
        status: 429,
        headers: &headers,
    };
    let decision = decide(
        &RetryPolicy::standard(),
        &Method::GET,
        outcome,
        0,
        UNIX_EPOCH,
        0.9,
    );
    assert!(
        matches!(decision, Decision::GiveUp(crate::retry::GiveUp::WaitTooLong(_))),
        "{decision:?}"
    );
    let patient = RetryPolicy::standard().max_delay(Duration::MAX);
    let decision = decide(&patient, &Method::GET, outcome, 0, UNIX_EPOCH, 0.9);
    assert!(matches!(decision, Decision::RetryAfter(_)), "{decision:?}");
}

#[test]
fn found_an_offset_page_starting_past_u64() {
    // Overflowed (a panic in debug builds) when the server's `start` saturated to u64::MAX.
    let start = whole_number(Some(1.8446744073709552e19));
    assert!(!offset_has_more(start, 14, whole_number(Some(0.0)), 1));
    assert!(!offset_has_more(start, 100, u64::MAX, 100));
}

#[test]
fn found_token_answers_that_panicked_or_could_not_be_sent() {
    let requested_at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    // Panicked ("overflow when adding duration to instant"): now no known expiry.
    let far = read_token_answer(
        reqwest::StatusCode::OK,
        br#"{"access_token":"client","expires_in":9223372035879195683}"#,
        requested_at,
    )
    .unwrap();
    assert_eq!(far.expires_at(), None);
    // Accepted, then panicked in the transport building `Authorization: Bearer …`; or sent
    // as an empty bearer token.
    for body in [
        &br#"{"access_token":"\u0000","expires_in":0}"#[..],
        br#"{"access_token":"a\nb"}"#,
        br#"{"access_token":""}"#,
    ] {
        let error = read_token_answer(reqwest::StatusCode::OK, body, requested_at).unwrap_err();
        assert_eq!(
            error.to_string(),
            "no access token: the token endpoint's 200 OK answer has no usable access_token"
        );
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
    // When the list answers were untagged enums, serde said only "data did not match any
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
    let token = TokenError::from_answer(401, br#"{"error":"","error_description":" "}"#);
    assert_eq!(
        token.to_string(),
        "no access token: the token endpoint answered 401"
    );
}
