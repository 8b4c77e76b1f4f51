//! Grants an API to an application idempotently, as a deploy tool does:
//! `cargo run --example grant_idempotently`.
//!
//! Creating first and treating 409 as "already there" is the safe order: listing everything
//! and then creating what looked missing races with other writers, and offset paging over a
//! changing list can miss a grant. When the grant exists, it is looked up by client,
//! audience and subject type (two grants may share client and audience) and its scopes are
//! brought to the wanted set. Runs against a fake tenant unless `AUTH0_DOMAIN`,
//! `AUTH0_CLIENT_ID` and `AUTH0_CLIENT_SECRET` are set, in which case `QUICKSTART_AUDIENCE`
//! names the API to grant.

mod common;

use auth0_client_grants::{Client, ClientGrant, ClientGrantUpdate, Error, NewClientGrant, SubjectType};
use common::Tenant;
use futures_util::TryStreamExt;

/// Makes sure `client_id` may call `audience` with exactly `scopes`; returns the grant.
async fn ensure_grant(
    client: &Client,
    client_id: &str,
    audience: &str,
    scopes: &[&str],
) -> Result<ClientGrant, Error> {
    let grants = client.client_grants();
    let wanted = NewClientGrant::new(client_id, audience)
        .subject_type(SubjectType::Client)
        .scope(scopes.iter().copied());
    match grants.create(wanted).await {
        Ok(created) => {
            println!("   created {}", created.id);
            return Ok(created);
        }
        Err(error) if error.is_conflict() => {}
        Err(error) => return Err(error),
    }
    let existing = grants
        .list()
        .client_id(client_id)
        .audience(audience)
        .subject_type(SubjectType::Client)
        .stream()
        .try_next()
        .await?
        .expect("Auth0 reported a conflict, so the grant exists");
    let mut have: Vec<&str> = existing.scope.iter().map(String::as_str).collect();
    let mut want = scopes.to_vec();
    have.sort_unstable();
    want.sort_unstable();
    if have == want {
        println!(
            "   {} already has exactly these scopes; nothing to do",
            existing.id
        );
        return Ok(existing);
    }
    println!("   {} exists with {:?}; updating", existing.id, existing.scope);
    grants
        .update(
            &existing.id,
            ClientGrantUpdate::new().scope(scopes.iter().copied()),
        )
        .await
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let tenant = Tenant::from_environment().await;
    println!("Running against {}.", tenant.describe());
    let audience = match &tenant {
        Tenant::Fake(_) => "https://api.example.com/".to_owned(),
        Tenant::Real { .. } => std::env::var("QUICKSTART_AUDIENCE").unwrap_or_else(|_| {
            eprintln!("set QUICKSTART_AUDIENCE to the API identifier to grant");
            std::process::exit(2)
        }),
    };
    let client = tenant.client_builder().build()?;
    for (round, scopes) in [
        ["read:things"].as_slice(),
        &["read:things"],
        &["read:things", "write:things"],
    ]
    .into_iter()
    .enumerate()
    {
        println!("\nRun {}: want {scopes:?}", round + 1);
        ensure_grant(&client, tenant.client_id(), &audience, scopes).await?;
    }
    Ok(())
}
