//! An apply writes many changes at once against the fake tenant, in the order that matters, and
//! stops cleanly: after a failure, or when told to, no change starts, those under way finish,
//! the report lists what did not start, and the next apply converges. (The loop's timing is
//! shown in virtual time in src/reconcile/schedule/tests.rs; here the tenant is real.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use auth0_client_grants::testing::{ALL_SCOPES, FakeTenant, RecordedRequest};
use auth0_client_grants::{Client, NewClientGrant, OrganizationUsage, SubjectType};
use auth0_grants::reconcile::{
    Change, DesiredGrant, DesiredState, Mode, Progress, ReconcileError, ReconcileExt,
};

const API: &str = "https://api.example.com/";

/// A tenant whose every request and response takes a few milliseconds, so that changes
/// started together are under way together.
async fn slow_tenant() -> FakeTenant {
    with_api(
        FakeTenant::builder()
            .latency(Duration::from_millis(20))
            .start()
            .await,
    )
}

/// `tenant` with the API the grants here are for, which planning reads to check scopes.
fn with_api(tenant: FakeTenant) -> FakeTenant {
    tenant.add_api(API, ["read:invoices", "read:old"]);
    tenant
}

async fn create(client: &Client, client_id: &str, scope: &str) -> String {
    client
        .client_grants()
        .create(NewClientGrant::new(client_id, API).scope([scope]))
        .await
        .unwrap()
        .id
}

/// The index of the first request that `matches`.
fn position(requests: &[RecordedRequest], matches: impl Fn(&RecordedRequest) -> bool) -> usize {
    requests.iter().position(matches).expect("the request was sent")
}

fn grant_id_of(tenant: &FakeTenant, client_id: &str) -> String {
    tenant
        .grants()
        .into_iter()
        .find(|grant| grant.client_id.as_deref() == Some(client_id))
        .map(|grant| grant.id)
        .expect("the grant exists")
}

/// Grants for `new-0`, `new-1`, … with `organizations` each, and the scope `read:invoices`
/// for `kept-0`, `kept-1`, …
fn desired(new: usize, kept: usize, organizations: &[String]) -> DesiredState {
    let created = (0..new).map(|n| {
        DesiredGrant::new(format!("new-{n}"), API)
            .scope(["read:invoices"])
            .organization_usage(OrganizationUsage::Allow)
            .organizations(organizations.to_vec())
    });
    let kept = (0..kept).map(|n| DesiredGrant::new(format!("kept-{n}"), API).scope(["read:invoices"]));
    DesiredState::new(created.chain(kept)).unwrap()
}

#[tokio::test]
async fn a_grant_is_created_before_its_organizations_are_associated_and_every_change_is_made() {
    let tenant = slow_tenant().await;
    let client = tenant.client();
    let organizations: Vec<String> = ["acme", "globex"]
        .iter()
        .map(|name| tenant.add_organization(name).id)
        .collect();
    for n in 0..3 {
        create(&client, &format!("kept-{n}"), "read:old").await;
        create(&client, &format!("gone-{n}"), "read:old").await;
    }
    let desired = desired(4, 3, &organizations);
    let reconcile = client
        .reconcile(&desired)
        .mode(Mode::Authoritative)
        .parallelism(8);
    let plan = reconcile.plan().await.unwrap();
    assert_eq!(
        plan.changes().len(),
        4 + 4 * 2 + 3 + 3,
        "creates, associations, updates, deletes: {plan}"
    );
    let before = tenant.requests().len();

    let report = reconcile.apply(&plan).await.unwrap();

    assert_eq!(report.applied.len(), plan.changes().len(), "{report:?}");
    assert!(report.not_started.is_empty());
    assert!(reconcile.plan().await.unwrap().is_empty());
    let requests = &tenant.requests()[before..];
    for n in 0..4 {
        let client_id = format!("new-{n}");
        let id = grant_id_of(&tenant, &client_id);
        let created = position(requests, |request| {
            request.method == "POST"
                && request.path == "/api/v2/client-grants"
                && request
                    .body
                    .as_ref()
                    .is_some_and(|body| body["client_id"] == *client_id)
        });
        assert_eq!(requests[created].status, Some(201));
        for organization in &organizations {
            let associated = position(requests, |request| {
                request.path == format!("/api/v2/organizations/{organization}/client-grants")
                    && request.body.as_ref().is_some_and(|body| body["grant_id"] == *id)
            });
            assert!(
                created < associated,
                "{client_id} associated with {organization} (request {associated}) before it was created (request {created})"
            );
        }
    }
}

/// So that an apply can be spawned on a multi-threaded runtime.
#[tokio::test]
async fn an_apply_and_an_export_can_run_on_any_thread() {
    fn on_any_thread<T: Send>(_: &T) {}
    let tenant = with_api(FakeTenant::start().await);
    let client = tenant.client();
    let desired = desired(1, 0, &[]);
    let stop = AtomicBool::new(false);
    let progress = |_: Progress| {};
    let reconcile = client.reconcile(&desired).on_progress(&progress).stop_when(&stop);
    let plan = reconcile.plan().await.unwrap();
    let apply = reconcile.apply(&plan);
    on_any_thread(&apply);
    apply.await.unwrap();
    // Both ways of reading an export, by name as well (which reads the applications too).
    let export = auth0_grants::reconcile::export(&client).by_name(true);
    let run = export.clone().run();
    on_any_thread(&run);
    assert_eq!(run.await.unwrap().grants.len(), 1);
    let awaited = export.into_future();
    on_any_thread(&awaited);
    assert_eq!(awaited.await.unwrap().grants.len(), 1);
}

#[tokio::test]
async fn a_recreate_creates_the_new_grant_before_it_deletes_the_old() {
    let tenant = slow_tenant().await;
    let client = tenant.client();
    let old = create(&client, "reports", "read:invoices").await;
    let desired = DesiredState::new([DesiredGrant::new("reports", API)
        .scope(["read:invoices"])
        .subject_type(SubjectType::User)])
    .unwrap();
    let reconcile = client.reconcile(&desired).mode(Mode::Authoritative);
    let plan = reconcile.plan().await.unwrap();
    assert!(matches!(plan.changes(), [Change::Recreate { .. }]), "{plan}");
    let before = tenant.requests().len();

    reconcile.apply(&plan).await.unwrap();

    let requests = &tenant.requests()[before..];
    let created = position(requests, |request| {
        request.method == "POST" && request.path == "/api/v2/client-grants"
    });
    let deleted = position(requests, |request| {
        request.method == "DELETE" && request.path == format!("/api/v2/client-grants/{old}")
    });
    assert!(created < deleted, "{requests:?}");
    assert!(reconcile.plan().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_write_that_fails_stops_the_apply_cleanly_and_the_next_apply_converges() {
    let tenant = slow_tenant().await;
    let client = tenant.client();
    let organizations = vec![
        tenant.add_organization("acme").id,
        tenant.add_organization("globex").id,
    ];
    for n in 0..3 {
        create(&client, &format!("kept-{n}"), "read:old").await;
        create(&client, &format!("gone-{n}"), "read:old").await;
    }
    // Every scope but the one to create grants: the one create fails with a 403, a failure
    // that no retry fixes; the updates and deletes start with it, and the create's
    // associations wait for it.
    let scopes = ALL_SCOPES
        .iter()
        .filter(|scope| **scope != "create:client_grants");
    let restricted = Client::builder()
        .base_url(tenant.base_url())
        .token(tenant.issue_token(scopes.copied()))
        .build()
        .unwrap();
    let desired = desired(1, 3, &organizations);
    let reconcile = restricted
        .reconcile(&desired)
        .mode(Mode::Authoritative)
        .parallelism(10);
    let plan = reconcile.plan().await.unwrap();
    assert_eq!(plan.changes().len(), 1 + 2 + 3 + 3, "{plan}");
    let before = tenant.requests().len();

    let stopped = reconcile.apply(&plan).await.unwrap_err();

    assert!(matches!(stopped.failed, Change::Create { .. }), "{stopped}");
    assert!(
        matches!(&stopped.source, ReconcileError::Client(error) if error.status() == Some(403)),
        "{stopped:?}"
    );
    assert!(stopped.also_failed.is_empty(), "{stopped:?}");
    let not_started = &stopped.done.not_started;
    assert_eq!(not_started.len(), 2, "{stopped:?}");
    assert!(
        not_started
            .iter()
            .all(|change| matches!(change, Change::Associate { .. })),
        "{not_started:?}"
    );
    let associations_sent = tenant.requests()[before..]
        .iter()
        .filter(|request| request.path.starts_with("/api/v2/organizations/"))
        .count();
    assert_eq!(associations_sent, 0, "nothing that waits for the create ran");
    assert_eq!(
        stopped.done.applied.len(),
        6,
        "the updates and deletes under way finished: {stopped:?}"
    );
    assert!(
        tenant
            .grants()
            .iter()
            .all(|grant| !grant.client_id.as_deref().unwrap_or("").starts_with("gone-"))
    );
    assert!(stopped.to_string().contains("(2 not started)"), "{stopped}");

    // With the scope, the next apply makes what is left, and then there is nothing to do.
    let reconcile = client.reconcile(&desired).mode(Mode::Authoritative);
    let plan = reconcile.plan().await.unwrap();
    assert_eq!(plan.changes().len(), 3, "the create and its associations: {plan}");
    reconcile.apply(&plan).await.unwrap();
    assert!(reconcile.plan().await.unwrap().is_empty());
}

#[tokio::test]
async fn told_to_stop_it_starts_no_more_changes_finishes_those_under_way_and_lists_the_rest() {
    let tenant = slow_tenant().await;
    let client = tenant.client();
    for n in 0..6 {
        create(&client, &format!("gone-{n}"), "read:old").await;
    }
    create(&client, "kept-0", "read:invoices").await;
    let desired = desired(0, 1, &[]);
    let stop = AtomicBool::new(false);
    // Ctrl-C, as it were, as soon as the first change is done.
    let progress = |progress: Progress| {
        if let Progress::Applied { done: 1, .. } = progress {
            stop.store(true, Ordering::Relaxed);
        }
    };
    let reconcile = client
        .reconcile(&desired)
        .mode(Mode::Authoritative)
        .parallelism(2)
        .on_progress(&progress)
        .stop_when(&stop);
    let plan = reconcile.plan().await.unwrap();
    assert_eq!(plan.changes().len(), 6, "{plan}");

    let report = reconcile.apply(&plan).await.unwrap();

    assert_eq!(
        report.applied.len(),
        2,
        "the two under way when told to stop: {report:?}"
    );
    assert_eq!(report.not_started.len(), 4, "{report:?}");
    assert_eq!(tenant.grants().len(), 5);
    let reconcile = client.reconcile(&desired).mode(Mode::Authoritative);
    let plan = reconcile.plan().await.unwrap();
    assert_eq!(plan.changes(), report.not_started.as_slice());
    reconcile.apply(&plan).await.unwrap();
    assert_eq!(tenant.grants().len(), 1);
}
