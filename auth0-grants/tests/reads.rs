//! Reading the tenant: the organizations of the grants are read while the walk of the grants
//! goes on, for a plan as for an export, so that the rate limit's allowance is not left unused
//! while each page crosses the network; and they say how far they have got.

mod common;

use auth0_client_grants::testing::RecordedRequest;
use auth0_grants::reconcile::{self, Mode, Progress, ReconcileExt};

/// Where, among `requests`, the first read of a grant's organizations is, and the request for
/// the last page of grants.
fn first_organization_read_and_last_page(requests: &[RecordedRequest]) -> (usize, usize) {
    let first_read = requests
        .iter()
        .position(|request| request.path.ends_with("/organizations"))
        .expect("organizations were read");
    let last_page = requests
        .iter()
        .rposition(|request| request.method == "GET" && request.path == "/api/v2/client-grants")
        .expect("grants were listed");
    let pages = requests
        .iter()
        .filter(|request| request.method == "GET" && request.path == "/api/v2/client-grants")
        .count();
    assert_eq!(pages, 3, "250 grants at 100 a page");
    (first_read, last_page)
}

#[tokio::test]
async fn a_plan_reads_organizations_while_it_walks_the_grants() {
    let (tenant, _) = common::three_pages_of_grants(|_| true).await;
    let client = tenant.client();
    let desired = reconcile::export(&client).await.unwrap();
    let before = tenant.requests().len();

    let plan = client
        .reconcile(&desired)
        .mode(Mode::Authoritative)
        .plan()
        .await
        .unwrap();

    assert!(plan.is_empty(), "{plan}");
    let (first_read, last_page) = first_organization_read_and_last_page(&tenant.requests()[before..]);
    assert!(
        first_read < last_page,
        "the first organizations read (request {first_read}) waited for the last page (request {last_page})"
    );
}

#[tokio::test]
async fn an_export_reads_organizations_while_it_walks_the_grants() {
    let (tenant, _) = common::three_pages_of_grants(|_| true).await;
    let client = tenant.client();

    let exported = reconcile::export(&client).await.unwrap();

    assert_eq!(exported.grants.len(), 250);
    let (first_read, last_page) = first_organization_read_and_last_page(&tenant.requests());
    assert!(
        first_read < last_page,
        "the first organizations read (request {first_read}) waited for the last page (request {last_page})"
    );
}

#[tokio::test]
async fn an_export_reports_the_grants_read_page_by_page() {
    let (tenant, _) = common::three_pages_of_grants(|n| n % 5 == 0).await;
    let client = tenant.client();
    let reported = std::sync::Mutex::new(Vec::new());
    let progress = |progress: Progress| {
        if let Progress::Read { grants } = progress {
            reported.lock().unwrap().push(grants);
        }
    };

    let exported = reconcile::export(&client).on_progress(&progress).await.unwrap();

    assert_eq!(exported.grants.len(), 250);
    assert_eq!(*reported.lock().unwrap(), [100, 200]);
}
