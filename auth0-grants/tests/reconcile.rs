//! Declarative grants end to end against the fake tenant: the file format and its errors, plan
//! and apply, convergence when the tenant changes under a plan, and a failure midway.

use auth0_client_grants::testing::{FakeTenant, Fault};
use auth0_client_grants::{Client, ClientGrantUpdate, NewClientGrant, OrganizationUsage};
use auth0_grants::reconcile::{Change, DesiredGrant, DesiredState, Mode, ReconcileError, ReconcileExt};

const API: &str = "https://api.example.com/";

/// A fake tenant with the API the grants here are for, which planning reads to check scopes.
async fn start() -> FakeTenant {
    let tenant = FakeTenant::start().await;
    tenant.add_api(API, ["read:invoices", "write:invoices", "delete:invoices"]);
    tenant
}

const SAMPLE: &str = r#"
[[grant]]
client_id = "billing"
audience = "https://api.example.com/"
scope = ["read:invoices", "write:invoices"]

[[grant]]
client_id = "reports"
audience = "https://api.example.com/"
scope = ["read:invoices"]
organization_usage = "allow"
organizations = ["ORG"]
"#;

/// The field, line and problem of the error `text` is refused with.
fn invalid(text: &str) -> (String, Option<usize>, String) {
    match DesiredState::from_toml(text) {
        Err(error) => (error.field().to_owned(), error.line(), error.problem().to_owned()),
        Ok(state) => panic!("expected a DesiredError, got {state:?}"),
    }
}

#[test]
fn a_bad_file_names_the_field_and_the_line() {
    let (field, line, problem) =
        invalid("[[grant]]\nclient_id = \"a\"\naudience = \"x\"\nscopes = [\"read\"]\n");
    assert_eq!(field, "grant[0].scopes");
    assert_eq!(line, Some(4));
    assert!(
        problem.starts_with("line 4:") && problem.contains("unknown field `scopes`"),
        "{problem}"
    );

    let (field, line, problem) = invalid("[[grant]]\nclient_id = \"a\"\nscope = []\n");
    assert!(field.starts_with("grant[0]"), "{field}");
    assert_eq!(line, Some(1));
    assert!(
        problem.contains("missing field `audience`") && problem.contains("line 1"),
        "{problem}"
    );

    let (field, line, problem) =
        invalid("[[grant]]\nclient_id = \"a\"\naudience = \"x\"\norganization_usage = \"alow\"\n");
    assert_eq!(field, "grant[0].organization_usage");
    assert_eq!(line, Some(4));
    assert!(
        problem.starts_with("line 4:") && problem.contains("unknown value `alow`"),
        "{problem}"
    );

    let (field, line, problem) = invalid("[[grant]\nclient_id = \"a\"\n");
    assert_eq!(field, "file");
    assert_eq!(line, Some(1));
    assert!(problem.starts_with("line 1:"), "{problem}");

    let twice =
        "[[grant]]\nclient_id = \"a\"\naudience = \"x\"\n\n[[grant]]\nclient_id = \"a\"\naudience = \"x\"\n";
    let (field, line, problem) = invalid(twice);
    assert_eq!(field, "grant[1]");
    assert_eq!(line, Some(5));
    assert!(
        problem.contains("line 5") && problem.contains("the same grant as grant[0] (line 1)"),
        "{problem}"
    );

    let (field, line, problem) = invalid("[[grant]]\naudience = \"x\"\n");
    assert_eq!(field, "grant[0].client_id");
    assert_eq!(line, Some(1));
    assert!(
        problem.contains("exactly one of `client`, `client_id` and `default_for`"),
        "{problem}"
    );
}

#[test]
fn a_desired_state_goes_to_toml_and_back() {
    let state = DesiredState::from_toml(SAMPLE).unwrap();
    assert_eq!(state.grants.len(), 2);
    assert_eq!(state.grants[1].organization_usage, Some(OrganizationUsage::Allow));
    assert_eq!(DesiredState::from_toml(&state.to_toml()).unwrap(), state);
    let json = serde_json::to_value(&state).unwrap();
    assert_eq!(json["grant"][0]["subject_type"], "client");
}

/// The sample, with the organization's real id.
fn sample(organization_id: &str) -> DesiredState {
    DesiredState::from_toml(&SAMPLE.replace("ORG", organization_id)).unwrap()
}

fn scopes(tenant: &FakeTenant, client_id: &str) -> Vec<String> {
    let grants = tenant.grants();
    let grant = grants
        .iter()
        .find(|grant| grant.client_id.as_deref() == Some(client_id))
        .unwrap_or_else(|| panic!("no grant for {client_id}"));
    let mut scope = grant.scope.clone();
    scope.sort();
    scope
}

#[tokio::test]
async fn plan_then_apply_converges_and_applying_again_changes_nothing() {
    let tenant = start().await;
    let organization = tenant.add_organization("acme");
    let client = tenant.client();
    // Already there with too little scope; and a stray grant on the same audience.
    client
        .client_grants()
        .create(NewClientGrant::new("billing", API).scope(["read:invoices"]))
        .await
        .unwrap();
    client
        .client_grants()
        .create(NewClientGrant::new("stray", API))
        .await
        .unwrap();
    let desired = sample(&organization.id);

    let additive = client.reconcile(&desired);
    let plan = additive.plan().await.unwrap();
    let text = plan.to_string();
    assert!(text.contains("+ create      reports"), "{text}");
    assert!(text.contains("~ update"), "{text}");
    assert!(!text.contains("- delete"), "additive never deletes: {text}");
    let before = tenant.requests().len();
    additive.plan().await.unwrap();
    assert!(
        tenant.requests()[before..]
            .iter()
            .all(|request| request.method == "GET"),
        "planning writes nothing"
    );

    let report = additive.apply(&plan).await.unwrap();
    assert_eq!(report.applied.len(), plan.changes().len());
    assert_eq!(scopes(&tenant, "billing"), ["read:invoices", "write:invoices"]);
    assert!(additive.plan().await.unwrap().is_empty());

    let authoritative = client.reconcile(&desired).mode(Mode::Authoritative);
    let plan = authoritative.plan().await.unwrap();
    assert!(matches!(plan.changes(), [Change::Delete { .. }]), "{plan}");
    authoritative.apply(&plan).await.unwrap();
    assert!(authoritative.plan().await.unwrap().is_empty());
    assert_eq!(tenant.grants().len(), 2);

    // The same plan again: everything is found done, nothing is created twice.
    let again = authoritative.apply(&plan).await.unwrap();
    // Auth0 answers 204 to a delete of a grant already gone, so the delete counts as written.
    assert!(
        again
            .applied
            .iter()
            .all(|change| matches!(change, Change::Delete { .. })),
        "{again:?}"
    );
    assert_eq!(tenant.grants().len(), 2);
}

#[tokio::test]
async fn a_grant_created_or_changed_since_the_plan_is_brought_in_line_not_overwritten_blindly() {
    let tenant = start().await;
    let client = tenant.client();
    let existing = client
        .client_grants()
        .create(NewClientGrant::new("billing", API).scope(["read:invoices"]))
        .await
        .unwrap();
    let desired = DesiredState::new([
        DesiredGrant::new("billing", API).scope(["read:invoices", "write:invoices"]),
        DesiredGrant::new("reports", API).scope(["read:invoices"]),
    ])
    .unwrap();
    let reconcile = client.reconcile(&desired);
    let plan = reconcile.plan().await.unwrap();

    // Meanwhile someone else creates the reports grant (wrongly) and changes billing's.
    client
        .client_grants()
        .create(NewClientGrant::new("reports", API).scope(["admin"]))
        .await
        .unwrap();
    client
        .client_grants()
        .update(&existing.id, ClientGrantUpdate::new().scope(["write:invoices"]))
        .await
        .unwrap();

    let report = reconcile.apply(&plan).await.unwrap();
    assert_eq!(report.replanned.len(), 2, "{report:?}");
    assert_eq!(scopes(&tenant, "billing"), ["read:invoices", "write:invoices"]);
    assert_eq!(scopes(&tenant, "reports"), ["read:invoices"]);
    assert_eq!(tenant.grants().len(), 2, "no duplicate");
    assert!(reconcile.plan().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failure_midway_says_what_was_done_and_running_again_converges() {
    let tenant = start().await;
    let client: Client = tenant.client();
    // The association names an organization the tenant does not have: both creates go
    // through, then the association fails with a 404.
    let wrong = sample("org_missing");
    let reconcile = client.reconcile(&wrong);
    let plan = reconcile.plan().await.unwrap();
    let stopped = reconcile.apply(&plan).await.unwrap_err();
    assert!(matches!(stopped.failed, Change::Associate { .. }), "{stopped}");
    assert_eq!(stopped.done.applied.len(), 2, "{stopped:?}");
    assert!(
        matches!(&stopped.source, ReconcileError::Client(error) if error.status() == Some(404)),
        "{stopped:?}"
    );
    assert!(
        stopped
            .to_string()
            .contains("apply stopped at associate org_missing with reports"),
        "{stopped}"
    );

    // Fixed and run again: what was done is not done twice.
    let organization = tenant.add_organization("acme");
    let fixed = sample(&organization.id);
    let reconcile = client.reconcile(&fixed);
    let plan = reconcile.plan().await.unwrap();
    assert!(matches!(plan.changes(), [Change::Associate { .. }]), "{plan}");
    reconcile.apply(&plan).await.unwrap();
    assert!(reconcile.plan().await.unwrap().is_empty());
    assert_eq!(tenant.grants().len(), 2);
}

#[tokio::test]
async fn a_create_that_fails_writes_nothing_else_and_the_next_run_creates_it_once() {
    let tenant = start().await;
    let client: Client = tenant.client();
    let desired = DesiredState::new([DesiredGrant::new("billing", API).scope(["read:invoices"])]).unwrap();
    let reconcile = client.reconcile(&desired);
    let plan = reconcile.plan().await.unwrap();
    // A 500 on a create is not retried (it may have been applied); this one was not.
    tenant.inject(1, Fault::Status(500));
    let stopped = reconcile.apply(&plan).await.unwrap_err();
    assert!(stopped.done.applied.is_empty());
    assert!(tenant.grants().is_empty());
    reconcile.apply(&plan).await.unwrap();
    reconcile.apply(&plan).await.unwrap();
    assert_eq!(tenant.grants().len(), 1);
}

#[tokio::test]
async fn a_plan_reads_one_walk_of_the_grants_and_organizations_only_where_they_matter() {
    let tenant = start().await;
    let organization = tenant.add_organization("acme");
    tenant.seed_grants(250);
    let client = tenant.client();
    client
        .client_grants()
        .get("cgr_warm_up_the_token")
        .await
        .unwrap_err();
    let desired = sample(&organization.id);
    let before = tenant.requests().len();
    client
        .reconcile(&desired)
        .mode(Mode::Authoritative)
        .plan()
        .await
        .unwrap();
    let reads: Vec<String> = tenant.requests()[before..]
        .iter()
        .map(|request| request.path.clone())
        .collect();
    // 250 grants at 100 a page (checkpoint paging): 3 pages; no grant of the sample exists
    // yet, so no organization is read; and the one API the sample names, for its scopes.
    let (grant_pages, others): (Vec<&String>, Vec<&String>) =
        reads.iter().partition(|path| *path == "/api/v2/client-grants");
    assert_eq!(grant_pages.len(), 3, "{reads:?}");
    assert_eq!(
        others,
        ["/api/v2/resource-servers/https%3A%2F%2Fapi.example.com%2F"],
        "{reads:?}"
    );
}

#[tokio::test]
async fn a_grant_deleted_since_the_plan_is_created_again_with_all_its_organizations() {
    let tenant = start().await;
    let acme = tenant.add_organization("acme");
    let globex = tenant.add_organization("globex");
    let client = tenant.client();
    let existing = client
        .client_grants()
        .create(
            NewClientGrant::new("reports", API)
                .scope(["read:invoices"])
                .organization_usage(OrganizationUsage::Allow),
        )
        .await
        .unwrap();
    client
        .organization(acme.id.clone())
        .client_grants()
        .associate(&existing.id)
        .await
        .unwrap();
    let desired = DesiredState::new([DesiredGrant::new("reports", API)
        .scope(["read:invoices", "write:invoices"])
        .organization_usage(OrganizationUsage::Allow)
        .organizations([acme.id.clone(), globex.id.clone()])])
    .unwrap();
    let reconcile = client.reconcile(&desired);
    let plan = reconcile.plan().await.unwrap();
    assert_eq!(plan.changes().len(), 2, "an update and one association: {plan}");
    client.client_grants().delete(&existing.id).await.unwrap();

    reconcile.apply(&plan).await.unwrap();
    assert!(
        reconcile.plan().await.unwrap().is_empty(),
        "{}",
        reconcile.plan().await.unwrap()
    );
    assert_eq!(scopes(&tenant, "reports"), ["read:invoices", "write:invoices"]);
}

#[test]
fn who_a_grant_is_for_is_refused_at_the_key_to_change() {
    let two = "[[grant]]\naudience = \"x\"\nclient = \"Billing\"\ndefault_for = \"third_party_clients\"\n";
    let error = DesiredState::from_toml(two).unwrap_err();
    assert_eq!((error.field(), error.line()), ("grant[0].default_for", Some(4)));
    assert!(
        error
            .problem()
            .contains("`client` and `default_for` are both given; exactly one of"),
        "{error}"
    );

    let empty = "[[grant]]\naudience = \"x\"\nclient = \"\"\n";
    let error = DesiredState::from_toml(empty).unwrap_err();
    assert_eq!((error.field(), error.line()), ("grant[0].client", Some(3)));
    assert!(
        error.problem().contains("`client` is empty; exactly one of"),
        "{error}"
    );
}
