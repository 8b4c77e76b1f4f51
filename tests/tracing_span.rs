//! What an operation shows to `tracing` (README.md, "Telemetry and tracing"): one span, however many
//! attempts it takes, with the operation, method, path, the number of attempts made, the last
//! status and the time it took.

mod common;

use std::time::Duration;

use auth0_client_grants::RetryPolicy;
use auth0_client_grants::testing::{FakeTenant, Fault};
use common::captured_log::CapturedLog;

#[tokio::test]
async fn an_operation_retried_once_is_one_span_with_its_path_attempts_status_and_elapsed_time() {
    let tenant = FakeTenant::start().await;
    let grant = tenant.seed_grants(1).remove(0);
    let client = tenant
        .client_builder()
        .retry(RetryPolicy::standard().initial_backoff(Duration::from_millis(1)))
        .build()
        .unwrap();
    // A first call fetches the token, so that the call below makes only API requests.
    client.client_grants().get(&grant.id).await.unwrap();
    tenant.inject(1, Fault::Status(503));
    let captured = CapturedLog::default();
    let _guard = tracing::subscriber::set_default(captured.subscriber());

    client.client_grants().get(&grant.id).await.unwrap();

    let log = captured.text();
    let closed: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("auth0_request{") && line.contains(" close "))
        .collect();
    assert_eq!(closed.len(), 1, "one span for the operation:\n{log}");
    let span = closed[0];
    for field in [
        "operation=\"get_client_grant\"".to_owned(),
        "method=GET".to_owned(),
        format!("path=\"/api/v2/client-grants/{}\"", grant.id),
        "attempt=2".to_owned(),
        "status=200".to_owned(),
        "elapsed_ms=".to_owned(),
    ] {
        assert!(span.contains(&field), "{field} missing from the span:\n{span}");
    }
    // The retry is an event inside the span.
    assert!(
        log.lines()
            .any(|line| line.contains("auth0_request{") && line.contains("retrying")),
        "{log}"
    );
}
