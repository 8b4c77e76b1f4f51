//! Saved plans: a plan kept with what it read, applied exactly as reviewed, or not at all when
//! the tenant changed in between.

use auth0_client_grants::testing::FakeTenant;
use auth0_client_grants::{Client, ClientGrantUpdate, NewClientGrant, OrganizationUsage};
use auth0_grants::reconcile::{DesiredState, Mode, ReconcileExt, SavedPlan, SavedPlanError};

const API: &str = "https://api.example.com/";

/// A fake tenant with the API the grants here are for, which planning reads to check scopes.
async fn start() -> FakeTenant {
    let tenant = FakeTenant::start().await;
    tenant.add_api(API, ["read:invoices", "write:invoices", "delete:invoices"]);
    tenant
}

/// A tenant with `billing` (too little scope) and `reports` (one organization), and a file that
/// widens billing's scope, adds an organization to reports and creates `analytics`.
async fn tenant_and_file() -> (FakeTenant, Client, DesiredState, [String; 2]) {
    let tenant = start().await;
    let acme = tenant.add_organization("acme").id;
    let globex = tenant.add_organization("globex").id;
    let client = tenant.client();
    let grants = client.client_grants();
    grants
        .create(NewClientGrant::new("billing", API).scope(["read:invoices"]))
        .await
        .unwrap();
    let reports = grants
        .create(
            NewClientGrant::new("reports", API)
                .scope(["read:invoices"])
                .organization_usage(OrganizationUsage::Allow),
        )
        .await
        .unwrap();
    client
        .organization(acme.clone())
        .client_grants()
        .associate(&reports.id)
        .await
        .unwrap();
    let desired = DesiredState::from_toml(&format!(
        r#"
[[grant]]
client_id = "billing"
audience = "{API}"
scope = ["read:invoices", "write:invoices"]

[[grant]]
client_id = "reports"
audience = "{API}"
scope = ["read:invoices"]
organization_usage = "allow"
organizations = ["{acme}", "{globex}"]

[[grant]]
client_id = "analytics"
audience = "{API}"
scope = ["read:invoices"]
"#
    ))
    .unwrap();
    (tenant, client, desired, [acme, globex])
}

fn writes_since(tenant: &FakeTenant, since: usize) -> Vec<String> {
    tenant.requests()[since..]
        .iter()
        .filter(|request| request.method != "GET" && request.path != "/oauth/token")
        .map(|request| format!("{} {}", request.method, request.path))
        .collect()
}

fn id_of(tenant: &FakeTenant, client_id: &str) -> String {
    tenant
        .grants()
        .into_iter()
        .find(|grant| grant.client_id.as_deref() == Some(client_id))
        .unwrap()
        .id
}

/// Applies `saved` after the tenant changed, and returns what the refusal says.
async fn refused(tenant: &FakeTenant, client: &Client, saved: &SavedPlan) -> String {
    let before = tenant.requests().len();
    let error = saved.reconcile(client).apply_saved(saved).await.unwrap_err();
    assert!(matches!(error, SavedPlanError::Stale(_)), "{error:?}");
    assert_eq!(
        writes_since(tenant, before),
        Vec::<String>::new(),
        "nothing is written"
    );
    error.to_string()
}

#[tokio::test]
async fn a_saved_plan_goes_to_json_and_back_applies_and_then_plans_to_no_changes() {
    let (tenant, client, desired, _) = tenant_and_file().await;
    let saved = client
        .reconcile(&desired)
        .mode(Mode::Authoritative)
        .save_plan()
        .await
        .unwrap();
    assert_eq!(saved.plan.changes().len(), 3, "{}", saved.plan);
    assert_eq!(saved.read.len(), 3, "{:?}", saved.read);

    let read_back = SavedPlan::from_json(&saved.to_json()).unwrap();
    assert_eq!(read_back, saved);
    let report = read_back
        .reconcile(&client)
        .apply_saved(&read_back)
        .await
        .unwrap();

    assert_eq!(report.applied.len(), 3, "{report:?}");
    let again = client
        .reconcile(&desired)
        .mode(Mode::Authoritative)
        .plan()
        .await
        .unwrap();
    assert!(again.is_empty(), "{again}");
    assert_eq!(tenant.grants().len(), 3);
}

#[tokio::test]
async fn a_grant_recreated_with_a_new_id_since_the_plan_makes_apply_write_nothing() {
    let (tenant, client, desired, _) = tenant_and_file().await;
    let saved = client.reconcile(&desired).save_plan().await.unwrap();
    let old = id_of(&tenant, "billing");
    // Toggled in the dashboard: deleted, and created anew with a new id.
    let grants = client.client_grants();
    grants.delete(&old).await.unwrap();
    grants
        .create(NewClientGrant::new("billing", API).scope(["read:invoices"]))
        .await
        .unwrap();
    let new = id_of(&tenant, "billing");

    let message = refused(&tenant, &client, &saved).await;

    assert!(
        message.contains(&format!(
            "billing → {API} (client) ({old}): deleted since the plan; the tenant has {new} for it now"
        )),
        "{message}"
    );
}

#[tokio::test]
async fn a_scope_changed_since_the_plan_makes_apply_write_nothing() {
    let (tenant, client, desired, _) = tenant_and_file().await;
    let saved = client.reconcile(&desired).save_plan().await.unwrap();
    let billing = id_of(&tenant, "billing");
    client
        .client_grants()
        .update(
            &billing,
            ClientGrantUpdate::new().scope(["read:invoices", "delete:invoices"]),
        )
        .await
        .unwrap();

    let message = refused(&tenant, &client, &saved).await;

    assert!(message.contains("nothing was written"), "{message}");
    assert!(
        message.contains(&format!(
            "billing → {API} (client) ({billing}): changed since the plan: scope:"
        )),
        "{message}"
    );
}

#[tokio::test]
async fn an_association_added_since_the_plan_makes_apply_write_nothing() {
    let (tenant, client, desired, [_, globex]) = tenant_and_file().await;
    let saved = client.reconcile(&desired).save_plan().await.unwrap();
    let reports = id_of(&tenant, "reports");
    client
        .organization(globex.clone())
        .client_grants()
        .associate(&reports)
        .await
        .unwrap();

    let message = refused(&tenant, &client, &saved).await;

    assert!(
        message.contains(&format!(
            "reports → {API} (client) ({reports}): changed since the plan: organizations:"
        )),
        "{message}"
    );
}

#[tokio::test]
async fn a_grant_the_plan_creates_created_meanwhile_makes_apply_write_nothing() {
    let (tenant, client, desired, _) = tenant_and_file().await;
    let saved = client.reconcile(&desired).save_plan().await.unwrap();
    client
        .client_grants()
        .create(NewClientGrant::new("analytics", API))
        .await
        .unwrap();

    let message = refused(&tenant, &client, &saved).await;

    assert!(
        message.contains(&format!(
            "analytics → {API} (client): created since the plan, as cgr_"
        )),
        "{message}"
    );
}

#[test]
fn a_file_that_is_not_a_saved_plan_is_refused() {
    for text in [
        "{}",
        "[]",
        r#"{"format": "auth0-grants plan 99", "desired": {}, "plan": {}, "read": []}"#,
    ] {
        let error = SavedPlan::from_json(text).unwrap_err();
        assert!(
            matches!(error, SavedPlanError::Unreadable(_)),
            "{text}: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_saved_plan_whose_desired_state_was_edited_after_review_writes_nothing() {
    let (tenant, client, desired, _) = tenant_and_file().await;
    let saved = client.reconcile(&desired).save_plan().await.unwrap();
    // The plan, as reviewed, widens billing's scope; the desired state beside it in the file
    // is edited to take billing's last scope away instead.
    let mut json: serde_json::Value = serde_json::from_str(&saved.to_json()).unwrap();
    let billing = json["desired"]["grant"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|grant| grant["client_id"] == "billing")
        .unwrap();
    billing["scope"] = serde_json::json!([]);
    let edited = SavedPlan::from_json(&json.to_string()).unwrap();
    assert_eq!(edited.plan, saved.plan, "the plan itself is as reviewed");
    let before = tenant.requests().len();

    let error = edited.reconcile(&client).apply_saved(&edited).await.unwrap_err();

    assert!(
        matches!(error, SavedPlanError::Check(_)) && error.to_string().contains("does not follow"),
        "{error:?}"
    );
    assert_eq!(writes_since(&tenant, before), Vec::<String>::new());
    let billing = id_of(&tenant, "billing");
    let scope = client.client_grants().get(&billing).await.unwrap().scope;
    assert_eq!(scope, ["read:invoices"]);
}
