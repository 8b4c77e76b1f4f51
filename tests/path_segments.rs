//! Every id that goes into a URL path is exactly one path segment, in every operation that
//! takes one: whatever it holds, the server receives a path that decodes to exactly that id in
//! its place, or, for ids no encoding keeps in place, nothing at all.

mod common;

use auth0_client_grants::{Client, ClientGrantUpdate, Error, RetryPolicy};
use common::raw_server::{RawServer, Reply, response};
use percent_encoding::percent_decode_str;

/// Ids that would escape or split their segment if sent as they are. `..\clients` sent
/// unencoded reaches `GET /api/v2/clients`: URL parsers read `\` as `/` in http(s) URLs.
const HOSTILE_IDS: &[&str] = &[
    "..\\clients",
    "\\",
    "a\\b",
    ".\\",
    "../clients",
    "a/b",
    "/",
    "x?y=1",
    "?",
    "x#y",
    "#",
    "%",
    "%2F",
    "%5C",
    "%2e%2e%2fclients",
    "a b",
    "tab\there",
    "cr\r\nlf",
    "nul\u{0}",
    "ü",
    "...",
    "a;b=c",
    "auth0|123",
    "@evil.example",
];

/// Ids refused before sending: empty, and dot segments, also percent-encoded.
const REFUSED_IDS: &[&str] = &["", ".", "..", "%2e", "%2E", ".%2e", "%2e%2E", "%252e"];

/// Every operation that takes an id, run with `id` in each of its id places in turn (with a
/// plain id in the others), each with the path segments the server must receive: `None` marks
/// where the id goes.
fn operations() -> Vec<(&'static str, Vec<Option<&'static str>>)> {
    let grant = vec![Some(""), Some("api"), Some("v2"), Some("client-grants"), None];
    let grant_organizations = [grant.clone(), vec![Some("organizations")]].concat();
    let organization = vec![
        Some(""),
        Some("api"),
        Some("v2"),
        Some("organizations"),
        None,
        Some("client-grants"),
    ];
    let organization_grant = [organization.clone(), vec![Some("cgr_1")]].concat();
    let grant_in_organization = vec![
        Some(""),
        Some("api"),
        Some("v2"),
        Some("organizations"),
        Some("org_1"),
        Some("client-grants"),
        None,
    ];
    vec![
        ("get", grant.clone()),
        ("update", grant.clone()),
        ("delete", grant),
        ("organizations", grant_organizations),
        ("organization list", organization.clone()),
        ("associate", organization),
        ("remove (organization)", organization_grant),
        ("remove (grant)", grant_in_organization),
    ]
}

async fn run(client: &Client, operation: &str, id: &str) -> Result<(), Error> {
    let grants = client.client_grants();
    match operation {
        "get" => grants.get(id).await.map(drop),
        "update" => grants
            .update(id, ClientGrantUpdate::new().scope(["read:things"]))
            .await
            .map(drop),
        "delete" => grants.delete(id).await,
        "organizations" => grants.organizations(id).send().await.map(drop),
        "organization list" => client
            .organization(id)
            .client_grants()
            .list()
            .send_offset()
            .await
            .map(drop),
        "associate" => client
            .organization(id)
            .client_grants()
            .associate("cgr_1")
            .await
            .map(drop),
        "remove (organization)" => client.organization(id).client_grants().remove("cgr_1").await,
        "remove (grant)" => client.organization("org_1").client_grants().remove(id).await,
        other => unreachable!("{other}"),
    }
}

async fn not_found_server() -> RawServer {
    RawServer::start(|_| {
        let body = br#"{"statusCode":404,"error":"Not Found","message":"no such thing"}"#;
        Reply::Bytes(response(
            "404 Not Found",
            &[("content-type", "application/json")],
            body,
        ))
    })
    .await
}

fn client_for(server: &RawServer) -> Client {
    Client::builder()
        .base_url(server.url("/api/v2"))
        .token("test-token")
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_operation_sends_every_hostile_id_as_exactly_one_segment_that_decodes_to_it() {
    let server = not_found_server().await;
    let client = client_for(&server);
    let mut checked = 0;
    for (operation, expected) in operations() {
        for id in HOSTILE_IDS {
            let sent_before = server.requests().len();
            let result = run(&client, operation, id).await;
            assert!(
                result.as_ref().is_err_and(Error::is_not_found),
                "{operation} {id:?}: {result:?}"
            );
            let requests = server.requests();
            assert_eq!(requests.len(), sent_before + 1, "{operation} {id:?}: one request");
            let path = requests.last().unwrap().path().to_owned();
            let segments: Vec<&str> = path.split('/').collect();
            assert_eq!(segments.len(), expected.len(), "{operation} {id:?}: sent {path}");
            for (segment, expected) in segments.iter().zip(&expected) {
                match expected {
                    Some(fixed) => assert_eq!(segment, fixed, "{operation} {id:?}: sent {path}"),
                    None => assert_eq!(
                        percent_decode_str(segment).decode_utf8().unwrap(),
                        *id,
                        "{operation} {id:?}: sent {path}"
                    ),
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 8 * HOSTILE_IDS.len());
}

#[tokio::test]
async fn ids_that_would_name_another_path_are_refused_before_anything_is_sent() {
    let server = not_found_server().await;
    let client = client_for(&server);
    for (operation, _) in operations() {
        for id in REFUSED_IDS {
            let result = run(&client, operation, id).await;
            let Err(Error::InvalidInput(refused)) = &result else {
                panic!("{operation} {id:?}: expected InvalidInput, got {result:?}");
            };
            assert!(
                refused.problem().contains("must not be"),
                "{operation} {id:?}: {refused}"
            );
        }
    }
    assert_eq!(server.requests().len(), 0, "{:?}", server.requests());
}
