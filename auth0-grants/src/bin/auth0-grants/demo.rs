//! `--demo`: an in-process fake tenant with sample applications, APIs, grants and
//! organizations, so that every command can be tried with no Auth0 account.
//! `examples/grants.toml` is written for it and names the applications by their names. Their
//! ids are readable here (`billing-service`) so that a plan's lines are easy to follow; a real
//! tenant's are random and differ from one tenant to the next, which names hide.

use auth0_client_grants::testing::FakeTenant;
use auth0_client_grants::{Client, DefaultFor, Error, NewClientGrant, Organization, OrganizationUsage};

const API: &str = "https://api.example.com/";
const INVENTORY: &str = "https://inventory.example.com/";

/// The demo tenant, seeded; it stops when dropped.
pub async fn tenant() -> Result<FakeTenant, Error> {
    let tenant = FakeTenant::start().await;
    tenant.add_api(
        API,
        [
            "read:invoices",
            "write:invoices",
            "delete:invoices",
            "read:catalog",
        ],
    );
    tenant.add_api(INVENTORY, ["read:stock", "write:stock"]);
    // legacy-sync's application is gone, as `audit` says; its grant stayed behind.
    for (client_id, name) in [
        ("billing-service", "Billing Service"),
        ("reports", "Reports"),
        ("partner-portal", "Partner Portal"),
        ("analytics", "Analytics"),
        ("inventory-sync", "Inventory Sync"),
    ] {
        tenant.insert_client(client_id, name);
    }
    for (id, name) in [("org_acme", "acme"), ("org_globex", "globex")] {
        let organization = Organization::builder()
            .id(id.to_owned())
            .name(Some(name.to_owned()));
        tenant.insert_organization(organization.try_into().expect("the id is set"));
    }
    seed(&tenant.client()).await?;
    Ok(tenant)
}

async fn seed(client: &Client) -> Result<(), Error> {
    let grants = client.client_grants();
    grants
        .create(NewClientGrant::new("billing-service", API).scope(["read:invoices", "write:invoices"]))
        .await?;
    let reports = grants
        .create(
            NewClientGrant::new("reports", API)
                .scope(["read:invoices"])
                .organization_usage(OrganizationUsage::Allow),
        )
        .await?;
    client
        .organization("org_acme")
        .client_grants()
        .associate(&reports.id)
        .await?;
    grants
        .create(NewClientGrant::new("legacy-sync", API).allow_all_scopes(true))
        .await?;
    grants
        .create(
            NewClientGrant::new("partner-portal", API)
                .scope(["read:invoices", "delete:invoices"])
                .organization_usage(OrganizationUsage::Allow)
                .allow_any_organization(true),
        )
        .await?;
    grants
        .create(NewClientGrant::default_for(DefaultFor::ThirdPartyClients, API).scope(["read:catalog"]))
        .await?;
    grants
        .create(NewClientGrant::new("inventory-sync", INVENTORY).scope(["read:stock"]))
        .await?;
    Ok(())
}
