//! Application names resolved against a tenant with more applications than one page of
//! `GET /clients` holds: every page is read, and a name on any page resolves.

use auth0_client_grants::testing::FakeTenant;
use auth0_grants::reconcile::{DesiredState, ReconcileError};

const API: &str = "https://api.example.com/";

/// A tenant of 251 applications (its own first, then `app-000` to `app-249`, named `App 000`
/// to `App 249`): three pages of 100. `Last Page` is only on the third, and `Reports` names
/// one application on the first page and one on the third.
fn tenant_of_three_pages(tenant: &FakeTenant) {
    for index in 0..248 {
        let name = match index {
            10 => "Reports".to_owned(),
            _ => format!("App {index:03}"),
        };
        tenant.insert_client(&format!("app-{index:03}"), &name);
    }
    tenant.insert_client("app-248", "Last Page");
    tenant.insert_client("app-249", "Reports");
    assert_eq!(tenant.clients().len(), 251);
}

fn file(names: &[&str]) -> DesiredState {
    let grants: Vec<String> = names
        .iter()
        .map(|name| format!("[[grant]]\nclient = {name:?}\naudience = {API:?}\n"))
        .collect();
    DesiredState::from_toml(&grants.join("\n")).unwrap()
}

/// The queries of the `GET /clients` requests the tenant received, in order.
fn client_list_queries(tenant: &FakeTenant) -> Vec<String> {
    tenant
        .requests()
        .into_iter()
        .filter(|request| request.method == "GET" && request.path.ends_with("/clients"))
        .map(|request| request.query.unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn names_on_every_page_of_the_client_list_resolve_the_last_page_included() {
    let tenant = FakeTenant::start().await;
    tenant_of_three_pages(&tenant);
    let desired = file(&["App 000", "App 150", "Last Page"]);

    let resolved = desired.resolve(&tenant.client()).await.unwrap();

    let ids: Vec<Option<&str>> = resolved
        .grants
        .iter()
        .map(|grant| grant.client_id.as_deref())
        .collect();
    assert_eq!(ids, [Some("app-000"), Some("app-150"), Some("app-248")]);
    let queries = client_list_queries(&tenant);
    assert_eq!(queries.len(), 3, "three pages of 100: {queries:?}");
    assert!(
        queries.iter().all(|query| query.contains("take=100")),
        "{queries:?}"
    );
    assert!(!queries[0].contains("from="), "{queries:?}");
    assert!(
        queries[1..].iter().all(|query| query.contains("from=")),
        "each page after the first goes on from the one before: {queries:?}"
    );
}

#[tokio::test]
async fn a_name_shared_across_pages_is_refused_listing_both_ids() {
    let tenant = FakeTenant::start().await;
    tenant_of_three_pages(&tenant);
    let desired = file(&["Last Page", "Reports"]);

    let Err(ReconcileError::Desired(error)) = desired.resolve(&tenant.client()).await else {
        panic!("a name two applications share must be refused");
    };

    assert_eq!(error.field(), "grant[1].client");
    assert!(
        error
            .problem()
            .contains("2 applications are named `Reports` (app-010, app-249)"),
        "{}",
        error.problem()
    );
}
