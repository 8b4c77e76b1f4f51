//! No self lock-out: a plan that deletes, takes scopes from, or makes require an organization,
//! the grant by which the credentials in use reach the Management API is refused, naming the
//! grant, whether it is planned, applied or saved and applied later, unless the caller allows it.

mod common;

use auth0_client_grants::testing::{ALL_SCOPES, FakeTenant};
use auth0_client_grants::{Client, NewClientGrant};
use auth0_grants::reconcile::{
    ApplyReport, Change, DesiredState, Mode, PlanWarning, ReconcileError, ReconcileExt, SavedPlan,
    SavedPlanError, SelfLockout,
};

use common::writes;

const OWN_SCOPES: [&str; 4] = [
    "read:client_grants",
    "create:client_grants",
    "update:client_grants",
    "delete:client_grants",
];

/// A tenant where the credentials' client has a grant on the Management API, beside one of
/// `reports`; its Management API's identifier; and the id of the credentials' grant.
async fn tenant() -> (FakeTenant, String, String) {
    let tenant = FakeTenant::start().await;
    let management_api = format!("{}/", tenant.base_url());
    let grants = tenant.client().client_grants();
    let own = grants
        .create(NewClientGrant::new(tenant.client_id(), management_api.clone()).scope(OWN_SCOPES))
        .await
        .unwrap();
    grants
        .create(NewClientGrant::new("reports", management_api.clone()).scope(["read:client_grants"]))
        .await
        .unwrap();
    (tenant, management_api, own.id)
}

/// A file that names only `reports` on the Management API.
fn reports_only(management_api: &str) -> DesiredState {
    DesiredState::from_toml(&format!(
        "[[grant]]\nclient_id = \"reports\"\naudience = \"{management_api}\"\nscope = [\"read:client_grants\"]\n"
    ))
    .unwrap()
}

/// A file that keeps the credentials' grant with `read:client_grants` only.
fn own_narrowed(tenant: &FakeTenant, management_api: &str) -> DesiredState {
    DesiredState::from_toml(&format!(
        "[[grant]]\nclient_id = \"{}\"\naudience = \"{management_api}\"\nscope = [\"read:client_grants\"]\n",
        tenant.client_id()
    ))
    .unwrap()
}

/// A file that keeps every scope of the credentials' grant but requires an organization of it:
/// their tokens are requested without one, which Auth0 then refuses.
fn own_requiring_an_organization(tenant: &FakeTenant, management_api: &str) -> DesiredState {
    let scopes: Vec<String> = OWN_SCOPES.iter().map(|scope| format!("{scope:?}")).collect();
    DesiredState::from_toml(&format!(
        "[[grant]]\nclient_id = \"{}\"\naudience = \"{management_api}\"\nscope = [{}]\n\
         organization_usage = \"require\"\n",
        tenant.client_id(),
        scopes.join(", ")
    ))
    .unwrap()
}

fn lockout_of(error: &ReconcileError) -> &SelfLockout {
    match error {
        ReconcileError::SelfLockout(lockout) => lockout,
        other => panic!("expected a SelfLockout, got {other:?}"),
    }
}

/// Applies `saved` through `client`, as a later run does, allowing a lock-out or not.
async fn apply_saved(
    saved: &SavedPlan,
    client: &Client,
    management_api: &str,
    allow_self_lockout: bool,
) -> Result<ApplyReport, SavedPlanError> {
    saved
        .reconcile(client)
        .management_api(management_api)
        .allow_self_lockout(allow_self_lockout)
        .apply_saved(saved)
        .await
}

/// The lock-out an apply of a saved plan was refused for.
fn saved_lockout_of(refused: &SavedPlanError) -> &SelfLockout {
    match refused {
        SavedPlanError::Apply(error) => lockout_of(&error.source),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_authoritative_plan_that_deletes_the_credentials_grant_is_refused_unless_allowed() {
    let (tenant, management_api, own) = tenant().await;
    let client = tenant.client();
    let desired = reports_only(&management_api);
    let before = writes(&tenant).len();
    let reconcile = client
        .reconcile(&desired)
        .management_api(&management_api)
        .mode(Mode::Authoritative);

    let error = reconcile.plan().await.unwrap_err();

    let lockout = lockout_of(&error);
    assert_eq!(lockout.id, own);
    assert!(lockout.removed_scopes.is_empty());
    assert!(
        error
            .to_string()
            .starts_with(&format!("refused: the plan deletes {own} (fake-client-id → "))
            && error.to_string().contains("nothing was written"),
        "{error}"
    );
    let additive = client.reconcile(&desired).management_api(&management_api);
    assert!(
        additive.plan().await.unwrap().is_empty(),
        "additive mode deletes nothing"
    );

    let allowed = reconcile.allow_self_lockout(true);
    let plan = allowed.plan().await.unwrap();
    assert!(
        matches!(plan.changes(), [Change::Delete { id, .. }] if *id == own),
        "{plan}"
    );
    assert_eq!(writes(&tenant).len(), before, "planning writes nothing");
}

#[tokio::test]
async fn taking_scopes_from_it_is_refused_in_additive_mode_too_naming_the_scopes() {
    let (tenant, management_api, own) = tenant().await;
    let client = tenant.client();
    let desired = own_narrowed(&tenant, &management_api);
    // Auth0's own identifier shape needs no `management_api` setting; this tenant's does.
    let error = client
        .reconcile(&desired)
        .management_api(&management_api)
        .plan()
        .await
        .unwrap_err();

    let lockout = lockout_of(&error);
    assert_eq!(lockout.id, own);
    assert_eq!(
        lockout.removed_scopes,
        [
            "create:client_grants",
            "delete:client_grants",
            "update:client_grants"
        ]
    );
}

#[tokio::test]
async fn apply_refuses_a_plan_made_elsewhere_before_writing_anything() {
    let (tenant, management_api, own) = tenant().await;
    let client = tenant.client();
    let desired = reports_only(&management_api);
    let allowed = client
        .reconcile(&desired)
        .management_api(&management_api)
        .mode(Mode::Authoritative)
        .allow_self_lockout(true);
    let plan = allowed.plan().await.unwrap();
    let before = writes(&tenant).len();

    let error = allowed
        .clone()
        .allow_self_lockout(false)
        .apply(&plan)
        .await
        .unwrap_err();

    assert_eq!(lockout_of(&error.source).id, own);
    assert!(error.done.applied.is_empty());
    assert_eq!(writes(&tenant).len(), before);
    allowed.apply(&plan).await.unwrap();
    assert!(
        tenant.grants().iter().all(|grant| grant.id != own),
        "allowed, it is deleted"
    );
}

#[tokio::test]
async fn a_saved_plan_is_checked_again_when_applied_whatever_it_allowed_when_saved() {
    let (tenant, management_api, own) = tenant().await;
    let client = tenant.client();
    let desired = own_narrowed(&tenant, &management_api);
    let saved = client
        .reconcile(&desired)
        .management_api(&management_api)
        .allow_self_lockout(true)
        .save_plan()
        .await
        .unwrap();
    let before = tenant.requests().len();

    let refused = apply_saved(&saved, &client, &management_api, false)
        .await
        .unwrap_err();

    assert_eq!(saved_lockout_of(&refused).id, own);
    assert_eq!(tenant.requests().len(), before, "nothing read, nothing written");
    apply_saved(&saved, &client, &management_api, true).await.unwrap();
    let own_grant = tenant.grants().into_iter().find(|grant| grant.id == own).unwrap();
    assert_eq!(own_grant.scope, ["read:client_grants"]);
}

#[tokio::test]
async fn with_a_token_the_client_is_named_by_hand_or_the_plan_warns_it_could_not_check() {
    let (tenant, management_api, own) = tenant().await;
    let token_client = Client::builder()
        .base_url(tenant.base_url())
        .token(tenant.issue_token(ALL_SCOPES))
        .build()
        .unwrap();
    let desired = reports_only(&management_api);
    let reconcile = token_client
        .reconcile(&desired)
        .management_api(&management_api)
        .mode(Mode::Authoritative);

    let plan = reconcile.plan().await.unwrap();
    assert_eq!(plan.warnings(), [PlanWarning::LockoutNotChecked]);
    assert!(
        plan.warnings()[0].to_string().contains("client id is unknown"),
        "{:?}",
        plan.warnings()
    );

    let error = reconcile
        .own_client_id(tenant.client_id())
        .plan()
        .await
        .unwrap_err();
    assert_eq!(lockout_of(&error).id, own);
}

#[tokio::test]
async fn requiring_an_organization_of_it_is_refused_by_plan_apply_and_a_saved_plan_unless_allowed() {
    let (tenant, management_api, own) = tenant().await;
    let client = tenant.client();
    let desired = own_requiring_an_organization(&tenant, &management_api);
    let reconcile = client.reconcile(&desired).management_api(&management_api);

    let error = reconcile.plan().await.unwrap_err();

    let lockout = lockout_of(&error);
    assert_eq!(lockout.id, own);
    assert!(lockout.removed_scopes.is_empty());
    assert!(lockout.requires_organization);
    assert!(
        error.to_string().starts_with(&format!(
            "refused: the plan makes {own} (fake-client-id → {management_api} (client)) require an \
             organization (`organization_usage` → `require`)"
        )) && error.to_string().contains("nothing was written"),
        "{error}"
    );

    let allowed = reconcile.clone().allow_self_lockout(true);
    let plan = allowed.plan().await.unwrap();
    assert!(
        matches!(plan.changes(), [Change::Update { id, fields, .. }]
            if *id == own && fields.iter().any(|field| field.field == "organization_usage")),
        "{plan}"
    );
    let before = writes(&tenant).len();
    let refused = reconcile.apply(&plan).await.unwrap_err();
    assert!(lockout_of(&refused.source).requires_organization);
    assert!(refused.done.applied.is_empty());
    assert_eq!(writes(&tenant).len(), before, "apply refuses it before writing");

    let saved = allowed.save_plan().await.unwrap();
    let requests = tenant.requests().len();
    let refused = apply_saved(&saved, &client, &management_api, false)
        .await
        .unwrap_err();
    assert!(saved_lockout_of(&refused).requires_organization);
    assert_eq!(tenant.requests().len(), requests, "nothing read, nothing written");

    apply_saved(&saved, &client, &management_api, true).await.unwrap();
    let own_grant = tenant.grants().into_iter().find(|grant| grant.id == own).unwrap();
    assert_eq!(
        own_grant.organization_usage,
        Some(auth0_client_grants::OrganizationUsage::Require)
    );
}

#[tokio::test]
async fn with_a_token_requiring_an_organization_of_a_management_api_grant_warns_it_was_not_checked() {
    let (tenant, management_api, _) = tenant().await;
    let token_client = Client::builder()
        .base_url(tenant.base_url())
        .token(tenant.issue_token(ALL_SCOPES))
        .build()
        .unwrap();
    let desired = own_requiring_an_organization(&tenant, &management_api);

    let plan = token_client
        .reconcile(&desired)
        .management_api(&management_api)
        .plan()
        .await
        .unwrap();

    assert_eq!(plan.warnings(), [PlanWarning::LockoutNotChecked]);
}
