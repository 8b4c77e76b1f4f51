//! The scopes a grants file lists, checked against the APIs they are for when planning: a scope
//! the API does not define, or an audience that names no API, fails before anything is written;
//! without the permission to read APIs the plan goes on and says what it did not check.

mod common;

use auth0_client_grants::testing::{ALL_SCOPES, FakeTenant};
use auth0_grants::reconcile::{
    DesiredError, DesiredState, PlanWarning, ReconcileError, ReconcileExt, SavedPlan,
};

use common::writes;

const API: &str = "https://api.example.com/";

fn file(audience: &str, scope: &str) -> DesiredState {
    DesiredState::from_toml(&format!(
        "[[grant]]\nclient_id = \"billing\"\naudience = \"{audience}\"\nscope = {scope}\n"
    ))
    .unwrap()
}

fn desired_error(result: Result<auth0_grants::reconcile::Plan, ReconcileError>) -> DesiredError {
    match result {
        Err(ReconcileError::Desired(error)) => error,
        other => panic!("expected a DesiredError, got {other:?}"),
    }
}

#[tokio::test]
async fn a_scope_the_api_does_not_define_fails_the_plan_listing_the_apis_scopes() {
    let tenant = FakeTenant::start().await;
    tenant.add_api(API, ["read:invoices", "write:invoices"]);
    let desired = file(API, r#"["read:invoices", "wirte:invoices"]"#);

    let error = desired_error(tenant.client().reconcile(&desired).plan().await);

    assert_eq!((error.field(), error.line()), ("grant[0].scope", Some(4)));
    assert_eq!(
        error.problem(),
        "grant[0] (line 4): `wirte:invoices` is not a scope of `https://api.example.com/`, which \
         defines `read:invoices`, `write:invoices`"
    );
    assert_eq!(writes(&tenant).len(), 0);
}

#[tokio::test]
async fn an_audience_that_names_no_api_fails_the_plan_at_its_line() {
    let tenant = FakeTenant::start().await;
    let desired = file("https://gone.example.com/", "[]");

    let error = desired_error(tenant.client().reconcile(&desired).plan().await);

    assert_eq!((error.field(), error.line()), ("grant[0].audience", Some(3)));
    assert!(
        error
            .problem()
            .contains("`https://gone.example.com/` names no API of the tenant"),
        "{error}"
    );
}

#[tokio::test]
async fn the_management_apis_scopes_are_checked_too() {
    let tenant = FakeTenant::start().await;
    let management_api = format!("{}/", tenant.base_url());
    let client = tenant.client();

    let wrong = file(&management_api, r#"["read:client_grants", "read:everything"]"#);
    let error = desired_error(client.reconcile(&wrong).plan().await);
    assert!(
        error.problem().contains("`read:everything` is not a scope of")
            && ALL_SCOPES.iter().all(|scope| error.problem().contains(scope)),
        "{error}"
    );

    let right = file(&management_api, r#"["read:client_grants"]"#);
    let plan = client.reconcile(&right).plan().await.unwrap();
    assert_eq!(plan.changes().len(), 1);
    assert!(plan.warnings().is_empty(), "{:?}", plan.warnings());
}

#[tokio::test]
async fn without_read_resource_servers_the_plan_goes_on_and_warns_even_from_a_saved_plan() {
    let scopes = ALL_SCOPES
        .iter()
        .filter(|scope| **scope != "read:resource_servers");
    let tenant = FakeTenant::builder().scopes(scopes.copied()).start().await;
    let client = tenant.client();
    let desired = file(API, r#"["no:such-scope"]"#);

    let plan = client.reconcile(&desired).plan().await.unwrap();

    assert_eq!(plan.changes().len(), 1);
    assert_eq!(plan.warnings(), [PlanWarning::ScopesNotChecked]);
    let warning = plan.warnings()[0].to_string();
    assert!(
        warning.contains("not checked") && warning.contains("read:resource_servers"),
        "{warning}"
    );
    let saved = client.reconcile(&desired).save_plan().await.unwrap();
    let read_back = SavedPlan::from_json(&saved.to_json()).unwrap();
    assert_eq!(read_back.plan.warnings(), plan.warnings());
}
