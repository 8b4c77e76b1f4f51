//! A client tuned for a busy tenant behind a proxy: `cargo run --example custom_retry_and_proxy`.
//!
//! Retries: up to 6, backoff from 250 ms, and a 429 whose reset is more than 20 s away comes
//! back at once (with its `RateLimit`) instead of sleeping. Proxy: `HTTPS_PROXY` if set, through
//! your own `reqwest::Client`. Runs against a fake tenant that answers the first two calls with
//! 503 unless `AUTH0_DOMAIN`, `AUTH0_CLIENT_ID` and `AUTH0_CLIENT_SECRET` are set.

mod common;

use std::time::Duration;

use auth0_client_grants::RetryPolicy;
use auth0_client_grants::testing::Fault;
use common::Tenant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tenant = Tenant::from_environment().await;
    println!("Running against {}.", tenant.describe());

    // Auth0 never redirects these endpoints: a client that follows redirects could carry a
    // request (a token request's client secret included) to another origin.
    let mut http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none());
    if let Ok(proxy) = std::env::var("HTTPS_PROXY") {
        println!("Using the proxy {proxy}");
        let proxy = reqwest::Proxy::https(&proxy)
            .map_err(|error| format!("HTTPS_PROXY is not a proxy URL: {error}"))?;
        http = http.proxy(proxy);
    }
    let http = http
        .build()
        .map_err(|error| format!("cannot build the HTTP client: {error}"))?;

    let client = tenant
        .client_builder()
        .http_client(http)
        .retry(
            RetryPolicy::standard()
                .max_retries(6)
                .initial_backoff(Duration::from_millis(250))
                .max_delay(Duration::from_secs(20)),
        )
        .timeout(Duration::from_secs(15))
        .build()?;

    if let Tenant::Fake(fake) = &tenant {
        fake.inject(2, Fault::Status(503));
        println!("The fake tenant will answer the next two calls with 503.");
    }
    let page = client.client_grants().list().take(5).send().await?;
    println!("Listed {} grants (the 503s were retried).", page.items.len());
    if let Some(limit) = client.last_rate_limit() {
        println!("Rate limit: {} of {} left", limit.remaining, limit.limit);
    }
    Ok(())
}
