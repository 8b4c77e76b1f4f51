//! Lists every client grant of a tenant as a table: `cargo run --example list_table`.
//!
//! Uses checkpoint paging through `stream()`, which neither skips nor repeats grants while the
//! list changes, and holds one page in memory at a time. Runs against a fake tenant unless
//! `AUTH0_DOMAIN`, `AUTH0_CLIENT_ID` and `AUTH0_CLIENT_SECRET` are set.

mod common;

use auth0_client_grants::Error;
use common::Tenant;
use futures_util::TryStreamExt;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let tenant = Tenant::from_environment().await;
    if let Tenant::Fake(fake) = &tenant {
        fake.seed_grants(7);
    }
    eprintln!("Listing the client grants of {}.", tenant.describe());
    let client = tenant.client_builder().build()?;

    println!(
        "{:<22} {:<34} {:<8} {:<30} scopes",
        "id", "client", "subject", "audience"
    );
    let mut grants = client.client_grants().list().take(100).stream();
    let mut count = 0;
    while let Some(grant) = grants.try_next().await? {
        count += 1;
        let subject = grant.subject_type.as_ref().map_or("", |subject| subject.as_str());
        println!(
            "{:<22} {:<34} {:<8} {:<30} {}",
            grant.id,
            grant.client_id.as_deref().unwrap_or("(default)"),
            subject,
            grant.audience,
            grant.scope.join(" ")
        );
    }
    eprintln!("{count} grants.");
    Ok(())
}
