//! The quickstart: `cargo run --example quickstart`.
//!
//! With no Auth0 account it starts a fake Auth0 tenant in this process and walks through what
//! a user does: get a token with client credentials, create a grant, list with pagination,
//! update (including a reset to null), associate with an organization, handle a 409 and a
//! 404, and delete.
//!
//! With `AUTH0_DOMAIN`, `AUTH0_CLIENT_ID` and `AUTH0_CLIENT_SECRET` set it runs against that
//! tenant instead, read-only. `--write` also creates, changes and deletes a grant of the
//! application `AUTH0_CLIENT_ID` for the API named by `QUICKSTART_AUDIENCE` (an API
//! identifier of that tenant the application has no grant for yet).

mod common;

use auth0_client_grants::{ClientGrantUpdate, Error, NewClientGrant, OrganizationUsage};
use common::Tenant;
use futures_util::TryStreamExt;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let tenant = Tenant::from_environment().await;
    let write = std::env::args().any(|argument| argument == "--write");
    println!("Running against {}.", tenant.describe());

    let audience = match &tenant {
        Tenant::Fake(fake) => {
            fake.seed_grants(120);
            "https://api.example.com/".to_owned()
        }
        Tenant::Real { .. } => match std::env::var("QUICKSTART_AUDIENCE") {
            Ok(audience) if write => audience,
            _ if write => {
                eprintln!(
                    "--write needs QUICKSTART_AUDIENCE: an API identifier to grant the application for a moment."
                );
                std::process::exit(2);
            }
            _ => String::new(),
        },
    };

    step(1, "Build a client with client credentials");
    let client = tenant.client_builder().build()?;
    println!(
        "   The client fetches a token on its first call, caches it and refreshes it before it expires."
    );

    step(2, "List every grant, 50 a page, with checkpoint paging");
    let mut pages = client.client_grants().list().take(50).pages();
    let mut total = 0;
    while let Some(page) = pages.try_next().await? {
        total += page.items.len();
        let more = if page.next.is_some() {
            "more to come"
        } else {
            "last page"
        };
        println!("   a page of {:>3} grants ({more})", page.items.len());
    }
    println!("   {total} grants in all");

    let Tenant::Fake(fake) = &tenant else {
        if !write {
            println!(
                "\nRead-only against a real tenant: pass --write to create, change and delete a grant too."
            );
            return Ok(());
        }
        return write_steps(&client, tenant.client_id(), &audience, None).await;
    };
    let organization = fake.add_organization("acme");
    write_steps(&client, tenant.client_id(), &audience, Some(&organization.id)).await?;
    println!(
        "\nDone: the fake tenant received {} requests, {} of them for a token.",
        fake.requests().len(),
        fake.token_requests()
    );
    Ok(())
}

async fn write_steps(
    client: &auth0_client_grants::Client,
    client_id: &str,
    audience: &str,
    organization: Option<&str>,
) -> Result<(), Error> {
    let grants = client.client_grants();

    step(3, "Create a grant");
    let created = grants
        .create(
            NewClientGrant::new(client_id, audience)
                .scope(["read:things", "write:things"])
                .organization_usage(OrganizationUsage::Allow),
        )
        .await?;
    println!(
        "   created {} for {audience} with scopes {:?}",
        created.id, created.scope
    );

    step(4, "Create it again: Auth0 answers 409");
    match grants.create(NewClientGrant::new(client_id, audience)).await {
        Err(error) if error.is_conflict() => println!("   conflict, as expected: {error}"),
        other => println!("   unexpected: {other:?}"),
    }

    step(
        5,
        "Update it: narrow the scopes and reset organization_usage to null",
    );
    let changed = grants
        .update(
            &created.id,
            ClientGrantUpdate::new()
                .scope(["read:things"])
                .reset_organization_usage(),
        )
        .await?;
    println!(
        "   scopes now {:?}, organization_usage now {:?}",
        changed.scope, changed.organization_usage
    );

    if let Some(organization) = organization {
        step(
            6,
            "Associate it with an organization and list that organization's grants",
        );
        let in_org = client.organization(organization).client_grants();
        in_org.associate(&created.id).await?;
        let listed: Vec<_> = in_org.list().stream().try_collect().await?;
        println!(
            "   {organization} now holds {} grant(s): {}",
            listed.len(),
            listed[0].id
        );
        in_org.remove(&created.id).await?;
        println!("   and no longer after remove()");
    }

    step(7, "Delete it, then read it: Auth0 answers 404");
    grants.delete(&created.id).await?;
    match grants.get(&created.id).await {
        Err(error) if error.is_not_found() => println!("   not found, as expected: {error}"),
        other => println!("   unexpected: {other:?}"),
    }
    Ok(())
}

fn step(number: u32, title: &str) {
    println!("\n{number}. {title}");
}
