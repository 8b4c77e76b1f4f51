//! The quickstart: `cargo run --example quickstart`.
//!
//! With no Auth0 account it starts a local stand-in for a tenant (a mock server answering
//! with traffic recorded from a real tenant) and walks through what the client does today:
//! client-credentials tokens, reading a grant, and handling a 404.
//!
//! With `AUTH0_DOMAIN`, `AUTH0_CLIENT_ID` and `AUTH0_CLIENT_SECRET` set, it reads the grant
//! whose id is given as the first argument from that real tenant instead (read-only).

use auth0_client_grants::{Client, Error};
use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use serde_json::json;

const RECORDED_GRANT: &str = include_str!("../tests/fixtures/client_grant.json");

#[tokio::main]
async fn main() -> Result<(), Error> {
    if let (Ok(domain), Ok(client_id), Ok(client_secret)) = (
        std::env::var("AUTH0_DOMAIN"),
        std::env::var("AUTH0_CLIENT_ID"),
        std::env::var("AUTH0_CLIENT_SECRET"),
    ) {
        let grant_id = std::env::args().nth(1).unwrap_or_default();
        println!("Reading client grant {grant_id:?} from {domain}");
        let client = Client::builder()
            .domain(domain)
            .client_credentials(client_id, client_secret)
            .build()?;
        let grant = client.client_grants().get(&grant_id).await?;
        println!("{grant:#?}");
        return Ok(());
    }

    println!("No AUTH0_DOMAIN set: using a local stand-in for an Auth0 tenant.\n");
    let tenant = MockServer::start_async().await;
    tenant
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200).json_body(json!({
                "access_token": "local-token", "token_type": "Bearer", "expires_in": 86400
            }));
        })
        .await;
    tenant
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/client-grants/cgr_1knWIGy7bcAfm7DZ");
            then.status(200)
                .header("x-ratelimit-limit", "50")
                .header("x-ratelimit-remaining", "49")
                .header("x-ratelimit-reset", "1700000000")
                .body(RECORDED_GRANT);
        })
        .await;
    tenant
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/client-grants/cgr_missing");
            then.status(404).json_body(json!({
                "statusCode": 404, "error": "Not Found",
                "message": "The grant does not exist.", "errorCode": "inexistent_client_grant"
            }));
        })
        .await;

    println!("1. Build a client with client credentials (tokens are fetched, cached and refreshed for you)");
    let client = Client::builder()
        .base_url(tenant.url("/api/v2"))
        .client_credentials("QUICKSTART_CLIENT_ID", "QUICKSTART_CLIENT_SECRET")
        .build()?;
    println!("   {}\n", tenant.url("/api/v2"));

    println!("2. Read a client grant");
    let grant = client.client_grants().get("cgr_1knWIGy7bcAfm7DZ").await?;
    println!("   id:       {}", grant.id);
    println!("   client:   {}", grant.client_id.as_deref().unwrap_or("?"));
    println!("   audience: {}", grant.audience);
    println!("   scope:    {}", grant.scope.join(", "));
    if let Some(limit) = client.last_rate_limit() {
        println!(
            "   rate limit: {} of {} requests left in this window",
            limit.remaining, limit.limit
        );
    }
    println!();

    println!("3. Handle a grant that does not exist");
    match client.client_grants().get("cgr_missing").await {
        Err(error) if error.is_not_found() => println!("   not found, as expected: {error}"),
        other => println!("   unexpected: {other:?}"),
    }
    println!("\nDone. Creating, listing and updating grants arrive with the next issues; see README.md.");
    Ok(())
}
