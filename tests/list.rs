//! Listing client grants: checkpoint paging over several pages, offset pages with totals, the
//! three response shapes, laziness, and the end of a list.

mod common;

use auth0_client_grants::{DefaultFor, Error, PaginationErrorKind, SubjectType};
use common::{FakeClock, client_for};
use futures::{StreamExt, TryStreamExt};
use httpmock::Method::GET;
use httpmock::{Mock, MockServer};
use serde_json::{Value, json};

const OFFSET_PAGE: &str = include_str!("fixtures/client_grants_offset_page.json");

fn grant(id: &str) -> Value {
    json!({"id": id, "client_id": "c", "audience": "https://api.example.com/", "scope": ["read:a"]})
}

/// A checkpoint page answered for `from` (None: the first page), with the given `next`.
async fn checkpoint_page<'a>(
    server: &'a MockServer,
    from: Option<&str>,
    ids: &[&str],
    next: Value,
) -> Mock<'a> {
    let items: Vec<Value> = ids.iter().map(|id| grant(id)).collect();
    server
        .mock_async(|when, then| {
            let when = when
                .method(GET)
                .path("/api/v2/client-grants")
                .query_param("take", "2")
                .query_param("audience", "https://api.example.com/")
                .query_param_missing("include_totals")
                .query_param_missing("page")
                .query_param_missing("per_page");
            match from {
                Some(cursor) => when.query_param("from", cursor),
                None => when.query_param_missing("from"),
            };
            then.status(200)
                .json_body(json!({"client_grants": items, "next": next}));
        })
        .await
}

#[tokio::test]
async fn stream_walks_every_checkpoint_page_sending_the_filters_each_time() {
    let server = MockServer::start_async().await;
    let first = checkpoint_page(&server, None, &["g1", "g2"], json!("cursor-2")).await;
    let second = checkpoint_page(&server, Some("cursor-2"), &["g3", "g4"], json!("cursor-3")).await;
    let last = checkpoint_page(&server, Some("cursor-3"), &["g5"], Value::Null).await;
    let client = client_for(&server, &FakeClock::new());

    let grants: Vec<_> = client
        .client_grants()
        .list()
        .audience("https://api.example.com/")
        .take(2)
        .stream()
        .try_collect()
        .await
        .unwrap();

    let ids: Vec<&str> = grants.iter().map(|grant| grant.id.as_str()).collect();
    assert_eq!(ids, ["g1", "g2", "g3", "g4", "g5"]);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
    last.assert_calls_async(1).await;
}

#[tokio::test]
async fn the_list_ends_on_next_absent_null_or_empty() {
    for next in [None, Some(Value::Null), Some(json!(""))] {
        let server = MockServer::start_async().await;
        let mut body = json!({"client_grants": [grant("g1")]});
        if let Some(next) = &next {
            body["next"] = next.clone();
        }
        let only = server
            .mock_async(|when, then| {
                when.method(GET).path("/api/v2/client-grants");
                then.status(200).json_body(body.clone());
            })
            .await;
        let client = client_for(&server, &FakeClock::new());

        let pages: Vec<_> = client.client_grants().list().pages().try_collect().await.unwrap();

        assert_eq!(pages.len(), 1, "{next:?}");
        assert_eq!(pages[0].next.as_deref().unwrap_or(""), "");
        only.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn nothing_is_sent_until_the_stream_is_polled() {
    let server = MockServer::start_async().await;
    let first = checkpoint_page(&server, None, &["g1"], Value::Null).await;
    let client = client_for(&server, &FakeClock::new());

    let stream = client
        .client_grants()
        .list()
        .audience("https://api.example.com/")
        .take(2)
        .stream();
    first.assert_calls_async(0).await;
    let grants: Vec<_> = stream.try_collect().await.unwrap();

    assert_eq!(grants.len(), 1);
    first.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_cursor_that_comes_back_is_an_error_not_an_endless_loop() {
    let server = MockServer::start_async().await;
    checkpoint_page(&server, None, &["g1"], json!("loop")).await;
    let looping = checkpoint_page(&server, Some("loop"), &["g2"], json!("loop")).await;
    let client = client_for(&server, &FakeClock::new());

    let results: Vec<_> = client
        .client_grants()
        .list()
        .audience("https://api.example.com/")
        .take(2)
        .pages()
        .collect()
        .await;

    assert_eq!(results.len(), 3, "two pages, then the error, then the end");
    assert!(results[0].is_ok() && results[1].is_ok());
    let Err(Error::Pagination(error)) = &results[2] else {
        panic!("expected a pagination error, got {:?}", results[2])
    };
    assert_eq!(error.kind(), PaginationErrorKind::RepeatedCursor);
    assert_eq!(error.operation(), "get_client_grants");
    assert_eq!(error.cursor(), Some("loop"));
    looping.assert_calls_async(1).await;
}

#[tokio::test]
async fn an_error_ends_the_stream_after_being_yielded_once() {
    let server = MockServer::start_async().await;
    checkpoint_page(&server, None, &["g1", "g2"], json!("next")).await;
    let failing = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/client-grants")
                .query_param("from", "next");
            then.status(403)
                .json_body(json!({"statusCode": 403, "error": "Forbidden", "message": "Insufficient scope"}));
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    let results: Vec<_> = client
        .client_grants()
        .list()
        .audience("https://api.example.com/")
        .take(2)
        .stream()
        .collect()
        .await;

    assert_eq!(results.len(), 3);
    assert_eq!(results[2].as_ref().unwrap_err().status(), Some(403));
    failing.assert_calls_async(1).await;
}

#[tokio::test]
async fn send_offset_reads_the_recorded_page_with_totals() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/client-grants")
                .query_param("client_id", "qRCn6tUH3W1FJ8zPCLtBdPGSqP1NQ9hi")
                .query_param("include_totals", "true")
                .query_param("per_page", "50")
                .query_param("page", "0")
                .query_param_missing("take");
            then.status(200).body(OFFSET_PAGE);
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    let page = client
        .client_grants()
        .list()
        .client_id("qRCn6tUH3W1FJ8zPCLtBdPGSqP1NQ9hi")
        .page(0)
        .per_page(50)
        .send_offset()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!((page.start, page.limit, page.total), (0, 50, 1));
    assert_eq!(page.items[0].id, "cgr_u03NqDMrHK3MOGB5");
}

#[tokio::test]
async fn float_totals_and_a_bare_array_both_decode() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/client-grants")
                .query_param("include_totals", "true");
            then.status(200).json_body(
                json!({"start": 0.0, "limit": 50.0, "total": 2.0, "client_grants": [grant("a"), grant("b")]}),
            );
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/client-grants")
                .query_param("take", "50");
            then.status(200).json_body(json!([grant("c")]));
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    let offset = client.client_grants().list().send_offset().await.unwrap();
    assert_eq!((offset.total, offset.items.len()), (2, 2));
    let page = client.client_grants().list().send().await.unwrap();
    assert_eq!((page.items.len(), page.next), (1, None));
}

#[tokio::test]
async fn an_offset_page_that_comes_back_without_totals_is_an_error_not_made_up_totals() {
    // Totals made up from the page (`start + items`) would end a walk over the pages after
    // the first full one, silently.
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/client-grants")
                .query_param("include_totals", "true")
                .query_param("page", "0");
            then.status(200).json_body(json!([grant("a"), grant("b")]));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/client-grants")
                .query_param("include_totals", "true")
                .query_param("page", "1");
            then.status(200)
                .json_body(json!({"client_grants": [grant("c")], "next": "cursor"}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/client-grants/cgr_1/organizations")
                .query_param("include_totals", "true");
            then.status(200).json_body(json!([{"id": "org_1"}]));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/organizations/org_1/client-grants")
                .query_param("include_totals", "true");
            then.status(200).json_body(json!([grant("d")]));
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    let responses = [
        (
            "get_client_grants",
            client
                .client_grants()
                .list()
                .page(0)
                .send_offset()
                .await
                .map(drop),
        ),
        (
            "get_client_grants",
            client
                .client_grants()
                .list()
                .page(1)
                .send_offset()
                .await
                .map(drop),
        ),
        (
            "get_client_grant_organizations",
            client
                .client_grants()
                .organizations("cgr_1")
                .send_offset()
                .await
                .map(drop),
        ),
        (
            "get_organization_client_grants",
            client
                .organization("org_1")
                .client_grants()
                .list()
                .send_offset()
                .await
                .map(drop),
        ),
    ];
    for (operation, response) in responses {
        let Err(Error::Decode(error)) = response else {
            panic!("{operation}: expected a decode error, got {response:?}");
        };
        assert_eq!(error.operation(), operation);
        assert!(error.to_string().contains("no `total`"), "{error}");
    }
    // The organization's list walks its pages on the totals too: it fails instead of stopping.
    let walked: Vec<_> = client
        .organization("org_1")
        .client_grants()
        .list()
        .stream()
        .collect()
        .await;
    assert_eq!(walked.len(), 1);
    assert!(matches!(walked[0], Err(Error::Decode(_))), "{walked:?}");
}

#[tokio::test]
async fn every_filter_is_sent_as_the_api_spells_it() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/client-grants")
                .query_param("allow_any_organization", "true")
                .query_param("subject_type", "client")
                .query_param("default_for", "third_party_clients")
                .query_param("from", "cursor")
                .query_param("take", "100")
                .query_param_missing("client_id");
            then.status(200)
                .json_body(json!({"client_grants": [], "next": null}));
        })
        .await;
    let client = client_for(&server, &FakeClock::new());

    client
        .client_grants()
        .list()
        .allow_any_organization()
        .subject_type(SubjectType::Client)
        .default_for(DefaultFor::ThirdPartyClients)
        .from("cursor")
        .take(100)
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
}

#[tokio::test]
async fn out_of_range_page_sizes_and_contradictory_filters_are_refused_without_a_request() {
    let server = MockServer::start_async().await;
    let anything = server.mock_async(|_, then| {
        then.status(200).json_body(json!([]));
    });
    let anything = anything.await;
    let client = client_for(&server, &FakeClock::new());
    let grants = client.client_grants();

    let refusals = [
        grants.list().take(0).send().await.unwrap_err(),
        grants.list().take(101).send().await.unwrap_err(),
        grants.list().per_page(0).send_offset().await.unwrap_err(),
        grants.list().per_page(101).send_offset().await.unwrap_err(),
        grants
            .list()
            .client_id("c")
            .default_for(DefaultFor::ThirdPartyClients)
            .send()
            .await
            .unwrap_err(),
        grants
            .list()
            .take(500)
            .stream()
            .next()
            .await
            .unwrap()
            .unwrap_err(),
    ];

    let parameters: Vec<&str> = refusals
        .iter()
        .map(|error| match error {
            Error::InvalidInput(invalid) => invalid.parameter(),
            other => panic!("expected InvalidInput, got {other:?}"),
        })
        .collect();
    assert_eq!(
        parameters,
        ["take", "take", "per_page", "per_page", "default_for", "take"]
    );
    anything.assert_calls_async(0).await;
}
