//! What the property tests feed the decoders (cargo-fuzz needs nightly, so fuzzing is done as
//! proptest properties, in the test module of the code each one guards): raw bytes; a soup of
//! JSON's own bytes; JSON values shaped like each response, with fields of the right type or not,
//! then mutated byte by byte; the recorded fixture bodies of `tests/fixtures`, mutated and
//! truncated; nesting up to past `serde_json`'s depth limit; header values. The responses' field
//! names are read from spec/client-grants.json, so a field Auth0 adds is fuzzed with no edit.
//!
//! CI runs a fixed budget, the cases each property names (a few seconds in a debug build on
//! two cores). Longer by hand, with the same number of cases for every property and the
//! executions printed:
//!
//! ```text
//! PROPTEST_CASES=200000 cargo test --release --locked --lib fuzz_ -- --nocapture
//! ```
//!
//! Each run draws new inputs; `PROPTEST_RNG_SEED=<n>` repeats one. A failure prints the
//! smallest input found: keep it as a regular test named `found_…` beside the property.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::LazyLock;
use std::time::{Duration, Instant, UNIX_EPOCH};

use proptest::collection::vec;
use proptest::option::weighted;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Number, Value};

// ---------------------------------------------------------------------------------------------
// The runner

/// Runs `check` on `ci_cases` inputs from `strategy` (or `PROPTEST_CASES`), and prints how many
/// cases and decoder runs it made. `check` returns how many decoders it ran.
pub(crate) fn fuzz<S>(name: &str, ci_cases: u32, strategy: S, check: impl Fn(S::Value) -> u64)
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
        accepted => format!(" ({accepted} decoded as a response)"),
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

thread_local! {
    /// How many bodies a decoder of success responses (the API's or the token endpoint's)
    /// accepted on this thread: shows that the inputs get past the first byte.
    pub(crate) static ACCEPTED: Cell<u64> = const { Cell::new(0) };
}

// ---------------------------------------------------------------------------------------------
// Bodies

pub(crate) const FIXTURES: [&str; 6] = [
    include_str!("../../tests/fixtures/client_grant.json"),
    include_str!("../../tests/fixtures/client_grant_updated.json"),
    include_str!("../../tests/fixtures/client_grants_offset_page.json"),
    include_str!("../../tests/fixtures/client_grant_organizations_page.json"),
    include_str!("../../tests/fixtures/live/organization_association.json"),
    include_str!("../../tests/fixtures/live/organization_client_grants_page.json"),
];

/// Bodies the fixtures do not cover: the other list shapes, error bodies, token responses.
pub(crate) const OTHER_BODIES: [&str; 7] = [
    r#"{"client_grants":[{"id":"cgr_1","audience":"https://api/","scope":["read:x"],"organization_usage":"require","default_for":"third_party_clients"}],"next":"MjAyNC0wMS0wMQ"}"#,
    r#"[{"id":"cgr_1","client_id":"c","audience":"https://api/","subject_type":"client","allow_all_scopes":true,"is_system":false}]"#,
    r##"{"organizations":[{"id":"org_1","name":"n","metadata":{"k":"v","n":null},"token_quota":{"client_credentials":{"enforce":true,"per_day":100,"per_hour":10}},"branding":{"colors":{"primary":"#000000","page_background":"#ffffff"}}}],"next":"b3Jn"}"##,
    r#"{"statusCode":404,"error":"Not Found","message":"The client grant does not exist.","errorCode":"inexistent_client_grant"}"#,
    r#"{"error":"too_many_requests","error_description":"Global limit has been reached"}"#,
    r#"{"access_token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln","scope":"read:client_grants","expires_in":86400,"token_type":"Bearer"}"#,
    "<html><body><h1>502 Bad Gateway</h1></body></html>",
];

pub(crate) fn known_body() -> impl Strategy<Value = &'static str> {
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

pub(crate) fn mutated(
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

// ---------------------------------------------------------------------------------------------
/// The property names of each schema in spec/client-grants.json.
static SCHEMA_KEYS: LazyLock<HashMap<String, Vec<&'static str>>> = LazyLock::new(|| {
    let spec: Value =
        serde_json::from_str(include_str!("../../spec/client-grants.json")).expect("the spec is JSON");
    let schemas = spec["components"]["schemas"]
        .as_object()
        .expect("the spec has schemas");
    schemas
        .iter()
        .map(|(name, schema)| {
            let properties = schema["properties"]
                .as_object()
                .map(Map::keys)
                .into_iter()
                .flatten();
            let names = properties
                .map(|key| &*Box::leak(key.clone().into_boxed_str()))
                .collect();
            (name.clone(), names)
        })
        .collect()
});

/// The property names of `schema` in the spec.
pub(crate) fn keys(schema: &str) -> &'static [&'static str] {
    SCHEMA_KEYS
        .get(schema)
        .unwrap_or_else(|| panic!("spec/client-grants.json has no schema {schema}"))
}

/// The keys of the page objects of the list whose schemas start with `list`: its offset page's
/// and its checkpoint page's.
pub(crate) fn page_keys(list: &str) -> &'static [&'static str] {
    let mut names = keys(&format!("{list}OffsetPaginatedResponseContent")).to_vec();
    names.extend(keys(&format!("{list}PaginatedResponseContent")));
    names.sort_unstable();
    names.dedup();
    Box::leak(names.into_boxed_slice())
}

// JSON shaped like the responses: each field present or not, of the right type or not.

/// The token endpoint's response is not in the spec (it is the Authentication API's).
pub(crate) const TOKEN_KEYS: &[&str] = &["access_token", "expires_in", "token_type", "scope"];

pub(crate) fn string() -> BoxedStrategy<String> {
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

pub(crate) fn number() -> BoxedStrategy<Number> {
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

pub(crate) fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        string().prop_map(Value::String),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep, with keys mostly from the responses.
pub(crate) fn any_json() -> BoxedStrategy<Value> {
    let key = prop_oneof![
        select(
            keys("ClientGrantResponseContent")
                .iter()
                .chain(page_keys("ListClientGrantOrganizations"))
                .chain(page_keys("ListClientGrant"))
                .chain(keys("ErrorBody"))
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

/// The value of `key` as the responses have it (four times in five), or any value.
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
        "client_grants" => prop_oneof![
            vec(object(keys("ClientGrantResponseContent")), 0..4),
            vec(object(keys("OrganizationClientGrant")), 0..3),
            vec(
                object(keys("AssociateOrganizationClientGrantResponseContent")),
                0..3
            )
        ]
        .prop_map(Value::Array)
        .boxed(),
        "organizations" => vec(object(keys("Organization")), 0..4)
            .prop_map(Value::Array)
            .boxed(),
        "branding" => object(keys("OrganizationBranding")),
        "colors" => object(keys("OrganizationBrandingColors")),
        "token_quota" => object(keys("TokenQuota")),
        "client_credentials" => object(keys("TokenQuotaClientCredentials")),
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
pub(crate) fn object(keys: &'static [&'static str]) -> BoxedStrategy<Value> {
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

pub(crate) fn response_shaped_json() -> impl Strategy<Value = Value> {
    prop_oneof![
        object(keys("ClientGrantResponseContent")),
        object(keys("AssociateOrganizationClientGrantResponseContent")),
        object(page_keys("ListClientGrant")),
        object(page_keys("ListClientGrantOrganizations")),
        object(keys("ErrorBody")),
        object(TOKEN_KEYS),
        vec(object(keys("ClientGrantResponseContent")), 0..4).prop_map(Value::Array),
        vec(object(keys("Organization")), 0..4).prop_map(Value::Array),
        any_json(),
    ]
}

/// Where deep nesting goes: at the top (where an untagged list response once buffered any value), in
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

pub(crate) fn deeply_nested() -> impl Strategy<Value = Vec<u8>> {
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

pub(crate) const JSON_BYTES: &[u8] = b"{}[]\":,0123456789-+.eEtrufalsn \\idx_";

/// Bytes, shown as a byte string when a case fails.
#[derive(Clone)]
pub(crate) struct Bytes(pub(crate) Vec<u8>);

impl Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

pub(crate) fn shown(bytes: impl Strategy<Value = Vec<u8>>) -> impl Strategy<Value = Bytes> {
    bytes.prop_map(Bytes)
}

// ---------------------------------------------------------------------------------------------
// Headers

/// A value of a rate-limit or `Retry-After` header: numbers of every size, HTTP dates, junk.
pub(crate) fn header_value() -> impl Strategy<Value = Vec<u8>> {
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

/// The headers the retry decision reads.
pub(crate) const HEADER_NAMES: [&str; 4] = [
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "retry-after",
];
