//! An export reads the organizations of many grants at once while it walks the grants, each
//! grant's once, and what it writes plans to no change. Its parallelism holds by name too.

mod common;

use std::time::{Duration, Instant};

use auth0_client_grants::ClientGrant;
use auth0_client_grants::testing::FakeTenant;
use auth0_grants::reconcile::{self, DesiredState, Export, Mode, ReconcileExt};

#[tokio::test]
async fn an_export_of_several_pages_reads_each_grants_organizations_once_and_plans_to_nothing() {
    let (tenant, mut with_organizations) = common::three_pages_of_grants(|n| n % 5 == 0).await;
    let client = tenant.client();

    let desired = reconcile::export(&client).parallelism(4).run().await.unwrap();

    assert_eq!(desired.grants.len(), 250);
    let exported_with_organizations = desired
        .grants
        .iter()
        .filter(|grant| grant.organizations.len() == 1)
        .count();
    assert_eq!(exported_with_organizations, 50);
    let mut read: Vec<String> = tenant
        .requests()
        .iter()
        .filter_map(|request| {
            request
                .path
                .strip_prefix("/api/v2/client-grants/")?
                .strip_suffix("/organizations")
                .map(str::to_owned)
        })
        .collect();
    read.sort();
    with_organizations.sort();
    assert_eq!(
        read, with_organizations,
        "each grant that may have organizations, once"
    );
    let plan = client
        .reconcile(&desired)
        .mode(Mode::Authoritative)
        .plan()
        .await
        .unwrap();
    assert!(plan.is_empty(), "{plan}");
}

/// The network's latency each way in [`named_tenant`].
const LATENCY: Duration = Duration::from_millis(20);
/// The grants of [`named_tenant`], each of which may have organizations.
const GRANTS: usize = 12;

/// A tenant `LATENCY` away with `GRANTS` grants that allow organizations, each in one: those of
/// `app-0`, `app-1`, … by a name no other application has, the last by a name two share.
async fn named_tenant() -> FakeTenant {
    let tenant = FakeTenant::builder().latency(LATENCY).start().await;
    tenant.add_api("https://api.example.com/", ["read:things"]);
    let organization = tenant.add_organization("acme").id;
    tenant.add_client("twin");
    for n in 0..GRANTS {
        let name = if n == GRANTS - 1 {
            "twin".to_owned()
        } else {
            format!("app-{n}")
        };
        let client_id = tenant.add_client(&name).client_id;
        let grant: ClientGrant = tenant.insert_grant(
            serde_json::from_value(serde_json::json!({
                "id": "",
                "client_id": client_id,
                "audience": "https://api.example.com/",
                "scope": ["read:things"],
                "subject_type": "client",
                "organization_usage": "allow",
            }))
            .unwrap(),
        );
        tenant.associate(&organization, &grant.id);
    }
    tenant
}

/// Runs `export`, and how long it took; an export that never ends (reads taken 0 at a time)
/// fails the test instead of hanging it.
async fn timed(export: Export<'_>) -> (DesiredState, Duration) {
    let started = Instant::now();
    let desired = tokio::time::timeout(Duration::from_secs(60), export.run())
        .await
        .expect("the export ends")
        .unwrap();
    (desired, started.elapsed())
}

/// One grant's organizations at a time, each read a round trip after the one before: never
/// sooner than this after the export started.
fn one_at_a_time() -> Duration {
    2 * LATENCY * u32::try_from(GRANTS).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_name_with_a_parallelism_of_1_reads_one_grant_at_a_time_and_gives_what_the_default_gives() {
    let tenant = named_tenant().await;
    let client = tenant.client();

    let (default, _) = timed(reconcile::export(&client).by_name(true)).await;
    let (one, took) = timed(reconcile::export(&client).by_name(true).parallelism(1)).await;

    assert_eq!(one, default);
    assert!(
        took >= one_at_a_time(),
        "{GRANTS} grants' organizations read one at a time take {:?} at least, not {took:?}",
        one_at_a_time()
    );
    let text = one.to_toml();
    assert_eq!(text.matches("client = \"app-").count(), GRANTS - 1, "{text}");
    assert_eq!(text.matches("client_id = ").count(), 1, "the shared name: {text}");
    assert_eq!(text.matches("organizations = [").count(), GRANTS, "{text}");
    // Awaited as it is built, the export is the same as run.
    assert_eq!(reconcile::export(&client).by_name(true).await.unwrap(), default);
    assert_eq!(
        Export::new(&client).run().await.unwrap(),
        reconcile::export(&client).await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parallelism_of_0_is_taken_as_1() {
    let tenant = named_tenant().await;
    let client = tenant.client();

    let (default, _) = timed(reconcile::export(&client)).await;
    let (zero, took) = timed(reconcile::export(&client).parallelism(0)).await;

    assert_eq!(zero, default);
    assert!(
        took >= one_at_a_time(),
        "one grant's organizations at a time, as with 1, take {:?} at least, not {took:?}",
        one_at_a_time()
    );
    assert!(
        format!("{:?}", reconcile::export(&client).parallelism(0)).contains("parallelism: 1"),
        "{:?}",
        reconcile::export(&client).parallelism(0)
    );
}

#[tokio::test]
async fn a_run_export_can_be_held_past_the_statement_that_built_it() {
    let tenant = named_tenant().await;
    let client = tenant.client();

    // As with a builder's `send()`: the future owns its export, so building, setting and
    // running it is one expression whose future outlives it.
    let pending = reconcile::export(&client).by_name(true).parallelism(4).run();
    let desired = pending.await.unwrap();

    assert_eq!(desired.grants.len(), GRANTS);
}
