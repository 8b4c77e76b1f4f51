//! What an operation shows to `tracing` (README.md, "Telemetry and tracing"): one span,
//! however many attempts it takes, with the operation, method, path, the number of attempts
//! made, the last status and the time it took, whichever way the operation ends.

mod common;

use std::time::Duration;

use auth0_client_grants::testing::{FakeTenant, Fault};
use auth0_client_grants::{Client, RetryPolicy};
use common::captured_log::CapturedLog;

/// A tenant with one grant, and a client that fetched its token already (so that the calls
/// under test make only API requests) and retries at most twice, at once.
async fn tenant_with_grant() -> (FakeTenant, Client, String) {
    let tenant = FakeTenant::start().await;
    let id = tenant.seed_grants(1).remove(0).id;
    let client = tenant
        .client_builder()
        .retry(
            RetryPolicy::standard()
                .max_retries(2)
                .initial_backoff(Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    client.client_grants().get(&id).await.unwrap();
    (tenant, client, id)
}

/// The fields of the one `auth0_request` span that closed while `log` was captured. The log
/// lists a field again each time it is recorded; the last value is the one it ended with.
fn closed_span_fields(log: &str) -> Vec<(String, String)> {
    let closed: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("auth0_request{") && line.contains(" close "))
        .collect();
    assert_eq!(closed.len(), 1, "one span for the operation:\n{log}");
    let fields = closed[0]
        .split_once("auth0_request{")
        .and_then(|(_, rest)| rest.split_once("}:"))
        .map(|(fields, _)| fields)
        .unwrap_or_else(|| panic!("no span fields in {}", closed[0]));
    fields
        .split(' ')
        .filter_map(|field| field.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.trim_matches('"').to_owned()))
        .collect()
}

fn last<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .rev()
        .find(|(field, _)| field == name)
        .map(|(_, value)| value.as_str())
        .unwrap_or_else(|| panic!("{name} missing from the span: {fields:?}"))
}

fn assert_span(log: &str, id: &str, attempts: &str, status: &str) {
    let fields = closed_span_fields(log);
    assert_eq!(last(&fields, "operation"), "get_client_grant", "{fields:?}");
    assert_eq!(last(&fields, "method"), "GET", "{fields:?}");
    assert_eq!(
        last(&fields, "path"),
        format!("/api/v2/client-grants/{id}"),
        "{fields:?}"
    );
    assert_eq!(last(&fields, "attempt"), attempts, "{fields:?}");
    assert_eq!(last(&fields, "status"), status, "{fields:?}");
    let elapsed = last(&fields, "elapsed_ms");
    assert!(elapsed.parse::<u64>().is_ok(), "elapsed_ms={elapsed}");
}

#[tokio::test]
async fn an_operation_retried_once_is_one_span_with_two_attempts_and_the_last_status() {
    let (tenant, client, id) = tenant_with_grant().await;
    tenant.inject(1, Fault::Status(503));
    let (captured, _guard) = CapturedLog::install();

    client.client_grants().get(&id).await.unwrap();

    let log = captured.text();
    assert_span(&log, &id, "2", "200");
    // The retry is an event inside the span.
    assert!(
        log.lines()
            .any(|line| line.contains("auth0_request{") && line.contains("retrying")),
        "{log}"
    );
}

#[tokio::test]
async fn an_operation_that_runs_out_of_retries_counts_every_attempt() {
    let (tenant, client, id) = tenant_with_grant().await;
    tenant.inject(3, Fault::Status(503));
    let (captured, _guard) = CapturedLog::install();

    let error = client.client_grants().get(&id).await.unwrap_err();

    assert_eq!(error.status(), Some(503), "{error}");
    assert_span(&captured.text(), &id, "3", "503");
}

#[tokio::test]
async fn an_answer_no_retry_can_fix_ends_the_span_after_one_attempt() {
    let (_tenant, client, _) = tenant_with_grant().await;
    let (captured, _guard) = CapturedLog::install();

    let error = client.client_grants().get("cgr_missing").await.unwrap_err();

    assert_eq!(error.status(), Some(404), "{error}");
    assert_span(&captured.text(), "cgr_missing", "1", "404");
}

#[tokio::test]
async fn a_request_sent_again_with_a_fresh_token_counts_as_an_attempt() {
    let (tenant, client, id) = tenant_with_grant().await;
    tenant.inject(1, Fault::Status(401));
    let (captured, _guard) = CapturedLog::install();

    client.client_grants().get(&id).await.unwrap();

    assert_span(&captured.text(), &id, "2", "200");
}

#[tokio::test]
async fn a_cancelled_call_still_records_how_long_it_ran() {
    let (tenant, client, id) = tenant_with_grant().await;
    tenant.inject(1, Fault::Hang(Duration::from_secs(5)));
    let (captured, _guard) = CapturedLog::install();

    let grants = client.client_grants();
    let cancelled = tokio::time::timeout(Duration::from_millis(50), grants.get(&id)).await;

    assert!(cancelled.is_err(), "the call should still have been waiting");
    let fields = closed_span_fields(&captured.text());
    let elapsed: u64 = last(&fields, "elapsed_ms").parse().expect("a number");
    assert!(elapsed >= 50, "elapsed_ms={elapsed}");
    assert_eq!(last(&fields, "path"), format!("/api/v2/client-grants/{id}"));
    assert!(
        fields.iter().all(|(name, _)| name != "status"),
        "no response, no status: {fields:?}"
    );
}
