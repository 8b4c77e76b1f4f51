//! `--demo`: an in-process fake tenant with sample applications, APIs, grants and
//! organizations, so that every command can be tried with no Auth0 account.
//! `examples/grants.toml` is written for it, naming the applications by their names: their ids
//! are new in every demo tenant, as they differ from one real tenant to the next.

use auth0_client_grants::testing::FakeTenant;
use auth0_client_grants::{Client, DefaultFor, Error, NewClientGrant, Organization, OrganizationUsage};

const API: &str = "https://api.example.com/";
const INVENTORY: &str = "https://inventory.example.com/";

/// The demo tenant, seeded; it stops when dropped.
pub async fn tenant() -> Result<FakeTenant, Error> {
    let tenant = FakeTenant::start().await;
    for (id, name) in [("org_acme", "acme"), ("org_globex", "globex")] {
        let organization = Organization::builder()
            .id(id.to_owned())
            .name(Some(name.to_owned()));
        tenant.insert_organization(organization.try_into().expect("the id is set"));
    }
    tenant.add_api(
        API,
        [
            "read:invoices",
            "write:invoices",
            "delete:invoices",
            "read:catalog",
        ],
    );
    tenant.add_api(INVENTORY, ["read:stock"]);
    let id = |name: &str| tenant.add_client(name).client_id;
    let applications = Applications {
        billing: id("Billing Service"),
        reports: id("Reports"),
        legacy_sync: id("Legacy Sync"),
        partner_portal: id("Partner Portal"),
        inventory_sync: id("Inventory Sync"),
    };
    // An application with no grant yet, which the example file gives one.
    tenant.add_client("Analytics");
    seed(&tenant.client(), &applications).await?;
    Ok(tenant)
}

/// The client ids of the demo's applications that have grants.
struct Applications {
    billing: String,
    reports: String,
    legacy_sync: String,
    partner_portal: String,
    inventory_sync: String,
}

async fn seed(client: &Client, applications: &Applications) -> Result<(), Error> {
    let grants = client.client_grants();
    grants
        .create(
            NewClientGrant::new(applications.billing.clone(), API).scope(["read:invoices", "write:invoices"]),
        )
        .await?;
    let reports = grants
        .create(
            NewClientGrant::new(applications.reports.clone(), API)
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
        .create(NewClientGrant::new(applications.legacy_sync.clone(), API).allow_all_scopes(true))
        .await?;
    grants
        .create(
            NewClientGrant::new(applications.partner_portal.clone(), API)
                .scope(["read:invoices", "delete:invoices"])
                .organization_usage(OrganizationUsage::Allow)
                .allow_any_organization(true),
        )
        .await?;
    grants
        .create(NewClientGrant::default_for(DefaultFor::ThirdPartyClients, API).scope(["read:catalog"]))
        .await?;
    grants
        .create(NewClientGrant::new(applications.inventory_sync.clone(), INVENTORY).scope(["read:stock"]))
        .await?;
    Ok(())
}
