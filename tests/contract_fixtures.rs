//! Every body the contract tests serve from `tests/fixtures/` matches its operation's response
//! schema in `spec/client-grants.json`, so a fixture cannot drift from the contract the client
//! is generated from. The fixtures in `tests/fixtures/live/` record where the live API differs
//! from Auth0's published spec: each must still break Auth0's schema (else the deviation is
//! gone and the overlay correction can go) and match ours (which the overlay corrected).

mod common;

use common::contract::{assert_matches, upstream_violations};
use serde_json::Value;

/// (fixture, operation that answers with it, status)
const AS_PUBLISHED: [(&str, &str, u16); 5] = [
    ("client_grant.json", "get_client-grant", 200),
    ("client_grant_updated.json", "patch_client-grants_by_id", 200),
    ("client_grants_offset_page.json", "get_client-grants", 200),
    (
        "client_grant_organizations_page.json",
        "get_client-grant-organizations",
        200,
    ),
    ("clients_offset_page.json", "get_clients", 200),
];

/// (fixture, operation, status, schema of the response) of responses whole as Auth0 sends them, of
/// which the client reads only some fields (xtask/src/spec/narrow.rs): each matches Auth0's
/// schema, and what is read of it matches ours.
const READ_IN_PART: [(&str, &str, u16, &str); 1] = [(
    "resource_server.json",
    "get_resource-servers_by_id",
    200,
    "GetResourceServerResponseContent",
)];

/// (fixture, operation, status, the live behaviour it records)
const LIVE_DEVIATIONS: [(&str, &str, u16, &str); 2] = [
    (
        "live/organization_association.json",
        "create_organization-client-grants",
        201,
        "the association response names the grant `grant_id`, not `id`",
    ),
    (
        "live/organization_client_grants_page.json",
        "get_organization-client-grants",
        200,
        "organization grants carry `subject_type`",
    ),
];

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{path} is not JSON: {error}"))
}

#[test]
fn fixtures_as_published_match_both_our_spec_and_auth0s() {
    for (name, operation, status) in AS_PUBLISHED {
        let body = fixture(name);
        assert_matches(operation, status, &body);
        let upstream = upstream_violations(operation, status, &body);
        assert!(
            upstream.is_empty(),
            "{name} breaks Auth0's published schema ({upstream:?}); if that is a live behaviour, move it to tests/fixtures/live/"
        );
    }
}

#[test]
fn live_deviations_break_auth0s_published_schema_and_match_ours() {
    for (name, operation, status, behaviour) in LIVE_DEVIATIONS {
        let body = fixture(name);
        assert_matches(operation, status, &body);
        assert!(
            !upstream_violations(operation, status, &body).is_empty(),
            "{name} ({behaviour}) now matches Auth0's published schema: the deviation is gone upstream"
        );
    }
}

#[test]
fn responses_read_in_part_match_auth0s_schema_and_what_is_read_matches_ours() {
    let spec: Value = serde_json::from_str(include_str!("../spec/client-grants.json")).unwrap();
    for (name, operation, status, schema) in READ_IN_PART {
        let body = fixture(name);
        let upstream = upstream_violations(operation, status, &body);
        assert!(
            upstream.is_empty(),
            "{name} breaks Auth0's published schema: {upstream:?}"
        );
        let read = spec["components"]["schemas"][schema]["properties"]
            .as_object()
            .unwrap();
        let mut part = body.clone();
        part.as_object_mut()
            .unwrap()
            .retain(|field, _| read.contains_key(field));
        assert_matches(operation, status, &part);
    }
}

#[test]
fn every_fixture_file_is_in_one_of_the_tables() {
    let listed: Vec<&str> = AS_PUBLISHED
        .iter()
        .map(|(name, ..)| *name)
        .chain(LIVE_DEVIATIONS.iter().map(|(name, ..)| *name))
        .chain(READ_IN_PART.iter().map(|(name, ..)| *name))
        .collect();
    for folder in ["", "live/"] {
        let path = format!("{}/tests/fixtures/{folder}", env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(&path).unwrap() {
            let file = entry.unwrap().file_name().into_string().unwrap();
            if file.ends_with(".json") {
                let name = format!("{folder}{file}");
                assert!(
                    listed.contains(&name.as_str()),
                    "{name} is not checked against the spec"
                );
            }
        }
    }
}

#[test]
fn the_strict_check_catches_a_field_the_spec_does_not_list_and_a_wrong_type() {
    let mut body = fixture("client_grant.json");
    body["not_in_the_spec"] = Value::Bool(true);
    body["scope"] = Value::String("read:things".into());
    let problems = common::contract::violations("get_client-grant", 200, &body);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems.iter().any(|problem| problem.contains("not_in_the_spec")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|problem| problem.starts_with("at /scope")),
        "{problems:?}"
    );
}
