//! The fake tenant (feature `testing`) behaves as Auth0 does, driven through the public client.

use std::time::Duration;

use auth0_client_grants::testing::{FakeTenant, Fault, RateLimitReset, RateLimitSettings};
use auth0_client_grants::{
    Client, ClientGrant, ClientGrantUpdate, Error, NewClientGrant, Organization,
    OrganizationClientAssociation, OrganizationUsage, RetryPolicy, ThirdPartyClientAccess,
};
use futures::TryStreamExt;

const API: &str = "https://api.example.com/";

fn api_error(result: Result<impl std::fmt::Debug, Error>) -> (u16, Option<String>) {
    match result {
        Err(error @ Error::Api(_)) => (error.status().unwrap(), error.error_code().map(str::to_owned)),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_client_with_the_tenants_credentials_creates_reads_updates_and_deletes_a_grant() {
    let tenant = FakeTenant::start().await;
    let grants = tenant.client().client_grants();

    let created = grants
        .create(NewClientGrant::new("app", API).scope(["read:things", "write:things"]))
        .await
        .unwrap();
    assert!(
        created.id.starts_with("cgr_") && created.id.len() == 20,
        "{}",
        created.id
    );
    assert_eq!(
        grants.get(&created.id).await.unwrap().scope,
        ["read:things", "write:things"]
    );

    let changed = grants
        .update(
            &created.id,
            ClientGrantUpdate::new()
                .reset_scope()
                .organization_usage(OrganizationUsage::Allow),
        )
        .await
        .unwrap();
    assert!(changed.scope.is_empty());
    assert_eq!(changed.organization_usage, Some(OrganizationUsage::Allow));
    let reset = grants
        .update(&created.id, ClientGrantUpdate::new().reset_organization_usage())
        .await
        .unwrap();
    assert_eq!(reset.organization_usage, None);

    grants.delete(&created.id).await.unwrap();
    grants.delete(&created.id).await.unwrap();
    assert!(grants.get(&created.id).await.unwrap_err().is_not_found());
    assert!(tenant.grants().is_empty());
    assert_eq!(tenant.token_requests(), 1, "one token serves every call");
}

#[tokio::test]
async fn a_second_grant_for_the_same_client_and_audience_is_a_conflict_and_not_stored() {
    let tenant = FakeTenant::start().await;
    let grants = tenant.client().client_grants();
    grants.create(NewClientGrant::new("app", API)).await.unwrap();
    let again = grants.create(NewClientGrant::new("app", API)).await.unwrap_err();
    assert!(again.is_conflict(), "{again}");
    assert_eq!(tenant.grants().len(), 1);
}

#[tokio::test]
async fn system_grants_cannot_be_changed_or_deleted() {
    let tenant = FakeTenant::start().await;
    let mut system = tenant.seed_grants(1).remove(0);
    system.id = String::new();
    system.audience = "https://system.example.com/".into();
    system.is_system = Some(true);
    let system = tenant.insert_grant(system);
    let grants = tenant.client().client_grants();
    let update = grants
        .update(&system.id, ClientGrantUpdate::new().scope(["x"]))
        .await;
    assert_eq!(api_error(update).0, 403);
    assert_eq!(api_error(grants.delete(&system.id).await).0, 403);
    assert_eq!(tenant.grants().len(), 2);
}

#[tokio::test]
async fn checkpoint_streams_walk_every_seeded_grant_and_offset_pages_report_totals() {
    let tenant = FakeTenant::start().await;
    let seeded: Vec<String> = tenant.seed_grants(23).into_iter().map(|grant| grant.id).collect();
    let grants = tenant.client().client_grants();

    let streamed: Vec<ClientGrant> = grants.list().take(10).stream().try_collect().await.unwrap();
    let streamed: Vec<String> = streamed.into_iter().map(|grant| grant.id).collect();
    assert_eq!(streamed, seeded);
    let list_requests = tenant
        .requests()
        .iter()
        .filter(|request| request.path == "/api/v2/client-grants")
        .count();
    assert_eq!(list_requests, 3, "23 grants in pages of 10");

    let offset = grants.list().page(2).per_page(10).send_offset().await.unwrap();
    assert_eq!((offset.start, offset.limit, offset.total), (20, 10, 23));
    assert_eq!(offset.items.len(), 3);

    let filtered = grants.list().client_id("seed-client-7").send().await.unwrap();
    assert_eq!(filtered.items.len(), 1);
    assert_eq!(filtered.next, None);
}

#[tokio::test]
async fn organizations_hold_associations_and_list_them_both_ways() {
    let tenant = FakeTenant::start().await;
    let organization = tenant.add_organization("acme");
    let grant = tenant.seed_grants(3).remove(1);
    let client = tenant.client();
    let in_org = client.organization(&organization.id).client_grants();

    in_org.associate(&grant.id).await.unwrap();
    assert!(in_org.associate(&grant.id).await.unwrap_err().is_conflict());
    let listed: Vec<_> = in_org
        .list()
        .grant_ids([grant.id.as_str()])
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, grant.id);
    let organizations: Vec<_> = client
        .client_grants()
        .organizations(&grant.id)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(organizations.len(), 1);
    assert_eq!(organizations[0].id, organization.id);

    in_org.remove(&grant.id).await.unwrap();
    let left: Vec<_> = in_org.list().stream().try_collect().await.unwrap();
    assert!(left.is_empty());
    let unknown = client
        .organization("org_missing")
        .client_grants()
        .associate(&grant.id)
        .await;
    assert_eq!(api_error(unknown), (404, Some("inexistent_organization".into())));
}

#[tokio::test]
async fn a_seeded_association_is_seen_by_the_api_and_sent_no_request() {
    let tenant = FakeTenant::start().await;
    let organization = tenant.add_organization("acme");
    let grant = tenant.seed_grants(1).remove(0);

    tenant.associate(&organization.id, &grant.id);

    assert!(tenant.requests().is_empty());
    let organizations: Vec<Organization> = tenant
        .client()
        .client_grants()
        .organizations(&grant.id)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(organizations.len(), 1);
    assert_eq!(organizations[0].id, organization.id);
}

#[tokio::test]
#[should_panic(expected = "cannot associate")]
async fn seeding_an_association_the_api_would_refuse_panics() {
    let tenant = FakeTenant::start().await;
    let grant = tenant.seed_grants(1).remove(0);
    tenant.associate("org_missing", &grant.id);
}

#[tokio::test]
async fn an_organization_keeps_the_fields_auth0_added_in_august_2026() {
    let tenant = FakeTenant::start().await;
    let association = OrganizationClientAssociation::builder()
        .use_for_member_access(Some(true))
        .try_into()
        .unwrap();
    let organization: Organization = Organization::builder()
        .id("org_third_party")
        .name(Some("acme".to_owned()))
        .third_party_client_access(Some(ThirdPartyClientAccess::Allow))
        .is_app_entitlement_active(Some(false))
        .client(Some(association))
        .try_into()
        .unwrap();
    let organization = tenant.insert_organization(organization);
    let grant = tenant.seed_grants(1).remove(0);
    let client = tenant.client();
    client
        .organization(&organization.id)
        .client_grants()
        .associate(&grant.id)
        .await
        .unwrap();

    let listed: Vec<Organization> = client
        .client_grants()
        .organizations(&grant.id)
        .stream()
        .try_collect()
        .await
        .unwrap();

    assert_eq!(listed, [organization]);
    assert_eq!(
        listed[0].third_party_client_access,
        Some(ThirdPartyClientAccess::Allow)
    );
    assert_eq!(
        listed[0]
            .client
            .as_ref()
            .and_then(|client| client.use_for_member_access),
        Some(true)
    );
}

#[tokio::test]
async fn wrong_credentials_missing_tokens_and_missing_scopes_are_refused_as_auth0_does() {
    let tenant = FakeTenant::start().await;
    let wrong_secret = Client::builder()
        .base_url(tenant.base_url())
        .client_credentials(tenant.client_id(), "not-the-secret")
        .build()
        .unwrap();
    match wrong_secret.client_grants().get("cgr_x").await {
        Err(Error::Token(error)) => {
            assert_eq!(error.status(), Some(401));
            assert_eq!(error.error(), Some("access_denied"));
        }
        other => panic!("expected a token error, got {other:?}"),
    }

    let unknown_token = Client::builder()
        .base_url(tenant.base_url())
        .token("made-up")
        .build()
        .unwrap();
    assert_eq!(api_error(unknown_token.client_grants().get("cgr_x").await).0, 401);

    let read_only = Client::builder()
        .base_url(tenant.base_url())
        .token(tenant.issue_token(["read:client_grants"]))
        .build()
        .unwrap();
    let refused = read_only
        .client_grants()
        .create(NewClientGrant::new("app", API))
        .await;
    assert_eq!(api_error(refused), (403, Some("insufficient_scope".into())));
    assert!(tenant.grants().is_empty());
}

#[tokio::test]
async fn expired_tokens_are_refused_and_the_client_fetches_a_new_one() {
    let tenant = FakeTenant::builder()
        .token_lifetime(Duration::from_secs(0))
        .start()
        .await;
    let client = tenant
        .client_builder()
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    // A token that expires at once is refused (401); the client drops it, gets another
    // (also expired by then) and gives up after that one retry.
    let error = client.client_grants().get("cgr_x").await.unwrap_err();
    assert_eq!(error.status(), Some(401));
    assert_eq!(tenant.token_requests(), 2);
}

#[tokio::test]
async fn out_of_range_queries_and_bodies_are_answered_with_400_like_auth0() {
    let tenant = FakeTenant::start().await;
    let grant = tenant.seed_grants(1).remove(0);
    let token = tenant.issue_token(auth0_client_grants::testing::ALL_SCOPES);
    let http = reqwest::Client::new();
    let base = tenant.base_url();
    for (method, path, body) in [
        ("GET", "/client-grants?take=101".to_owned(), None),
        ("GET", "/client-grants?per_page=0".to_owned(), None),
        (
            "GET",
            "/client-grants?allow_any_organization=false".to_owned(),
            None,
        ),
        (
            "GET",
            "/client-grants?client_id=a&default_for=third_party_clients".to_owned(),
            None,
        ),
        ("GET", "/client-grants?unknown=1".to_owned(), None),
        (
            "POST",
            "/client-grants".to_owned(),
            Some(serde_json::json!({"client_id": "a"})),
        ),
        (
            "POST",
            "/client-grants".to_owned(),
            Some(serde_json::json!({"client_id": "a", "audience": API, "scope": [""]})),
        ),
        (
            "PATCH",
            format!("/client-grants/{}", grant.id),
            Some(serde_json::json!({})),
        ),
        (
            "PATCH",
            format!("/client-grants/{}", grant.id),
            Some(serde_json::json!({"audience": API})),
        ),
        (
            "GET",
            format!("/organizations/{}/client-grants", "o".repeat(51)),
            None,
        ),
        (
            "GET",
            format!("/organizations/org_1/client-grants?{}", "grant_ids=g&".repeat(11)),
            None,
        ),
    ] {
        let mut request = http
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .bearer_auth(&token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(status, 400, "{method} {path}: {body}");
        assert_eq!(body["statusCode"], 400, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
}

#[tokio::test]
async fn a_rate_limited_tenant_sends_the_headers_on_every_answer_and_429s_when_empty() {
    let tenant = FakeTenant::builder()
        .rate_limit(RateLimitSettings::new(1.0, 2))
        .start()
        .await;
    let grant = tenant.seed_grants(1).remove(0);
    // Without pacing, which would wait for the refill instead of meeting the 429.
    let client = tenant
        .client_builder()
        .retry(RetryPolicy::disabled())
        .pacing(false)
        .build()
        .unwrap();
    client.client_grants().get(&grant.id).await.unwrap();
    let limit = client.last_rate_limit().expect("rate-limit headers on a success");
    assert_eq!((limit.limit, limit.remaining), (2, 1));
    client.client_grants().get(&grant.id).await.unwrap();
    let refused = client.client_grants().get(&grant.id).await.unwrap_err();
    assert!(refused.is_rate_limited(), "{refused}");
    assert_eq!(refused.rate_limit().unwrap().remaining, 0);
}

/// A raw GET, to see headers exactly as the tenant sends them.
async fn raw_get(tenant: &FakeTenant, token: &str, id: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/client-grants/{id}", tenant.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn raw_token(tenant: &FakeTenant) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{}/oauth/token", tenant.address()))
        .json(&serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": tenant.client_id(),
            "client_secret": tenant.client_secret(),
            "audience": format!("{}/", tenant.base_url()),
        }))
        .send()
        .await
        .unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> Option<u64> {
    response.headers().get(name)?.to_str().ok()?.parse().ok()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn the_reset_announces_the_full_bucket_or_the_next_request_as_the_tenant_is_set() {
    // 1 a second, 10 at once: after 2 requests, full again in 2 s, one more allowed now.
    let settings = RateLimitSettings::new(1.0, 10);
    for (meaning, earliest, latest) in [
        (RateLimitReset::WhenFull, 2, 3),
        (RateLimitReset::WhenNextRequestAllowed, 0, 1),
    ] {
        let tenant = FakeTenant::builder()
            .rate_limit(settings)
            .rate_limit_reset(meaning)
            .start()
            .await;
        let grant = tenant.seed_grants(1).remove(0);
        let token: serde_json::Value = raw_token(&tenant).await.json().await.unwrap();
        let token = token["access_token"].as_str().unwrap();
        raw_get(&tenant, token, &grant.id).await;
        let before = unix_now();
        let response = raw_get(&tenant, token, &grant.id).await;
        let reset = header(&response, "x-ratelimit-reset").unwrap();
        assert_eq!(header(&response, "x-ratelimit-remaining"), Some(8));
        assert!(
            (before + earliest..=unix_now() + latest).contains(&reset),
            "{meaning:?}: reset {reset}, now {before}"
        );
    }
}

#[tokio::test]
async fn a_429_carries_retry_after_unless_the_tenant_is_set_not_to() {
    for sent in [true, false] {
        let tenant = FakeTenant::builder()
            .rate_limit(RateLimitSettings::new(0.1, 1))
            .rate_limit_retry_after(sent)
            .start()
            .await;
        let grant = tenant.seed_grants(1).remove(0);
        let token: serde_json::Value = raw_token(&tenant).await.json().await.unwrap();
        let token = token["access_token"].as_str().unwrap();
        assert_eq!(raw_get(&tenant, token, &grant.id).await.status(), 200);
        let refused = raw_get(&tenant, token, &grant.id).await;
        assert_eq!(refused.status(), 429);
        assert_eq!(header(&refused, "retry-after").is_some(), sent);
        assert_eq!(header(&refused, "x-ratelimit-remaining"), Some(0));
    }
}

#[tokio::test]
async fn the_token_endpoint_can_share_the_apis_bucket() {
    let tenant = FakeTenant::builder()
        .rate_limit(RateLimitSettings::new(0.1, 2))
        .rate_limit_token_endpoint(true)
        .start()
        .await;
    let grant = tenant.seed_grants(1).remove(0);
    // The token takes one of the two; the get the other.
    let client = tenant
        .client_builder()
        .retry(RetryPolicy::disabled())
        .pacing(false)
        .build()
        .unwrap();
    client.client_grants().get(&grant.id).await.unwrap();
    assert_eq!(client.last_rate_limit().unwrap().remaining, 0);
    let refused = raw_token(&tenant).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(header(&refused, "x-ratelimit-remaining"), Some(0));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests", "{body}");
    // A second program on the tenant cannot get a token at all.
    let second = tenant
        .client_builder()
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    let error = second.client_grants().get(&grant.id).await.unwrap_err();
    assert!(
        matches!(error, Error::Token(_)) && error.status() == Some(429),
        "{error}"
    );
}

#[tokio::test]
async fn separately_built_clients_share_the_tenants_bucket() {
    let tenant = FakeTenant::builder()
        .rate_limit(RateLimitSettings::new(0.1, 5))
        .start()
        .await;
    let grant = tenant.seed_grants(1).remove(0);
    let first = tenant.client_builder().pacing(false).build().unwrap();
    let second = tenant.client_builder().pacing(false).build().unwrap();
    first.client_grants().get(&grant.id).await.unwrap();
    first.client_grants().get(&grant.id).await.unwrap();
    second.client_grants().get(&grant.id).await.unwrap();
    assert_eq!(
        second.last_rate_limit().unwrap().remaining,
        2,
        "the first took two"
    );
    let token_requests = tenant
        .requests()
        .iter()
        .filter(|request| request.path == "/oauth/token")
        .count();
    assert_eq!(token_requests, 2, "each has its own token");
}

#[tokio::test]
async fn latency_delays_every_request_and_answer() {
    let latency = Duration::from_millis(40);
    let tenant = FakeTenant::builder().latency(latency).start().await;
    let grant = tenant.seed_grants(1).remove(0);
    let client = tenant.client();
    client.client_grants().get(&grant.id).await.unwrap();
    // A lower bound only: the way there and back, whatever else the machine is doing.
    let started = std::time::Instant::now();
    client.client_grants().get(&grant.id).await.unwrap();
    assert!(started.elapsed() >= latency * 2, "{:?}", started.elapsed());
}

#[tokio::test]
async fn injected_faults_hit_the_next_requests_and_retries_get_past_them() {
    let tenant = FakeTenant::start().await;
    let grant = tenant.seed_grants(1).remove(0);
    let client = tenant
        .client_builder()
        .retry(RetryPolicy::standard().initial_backoff(Duration::from_millis(1)))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();

    tenant.inject(2, Fault::Status(503));
    client.client_grants().get(&grant.id).await.unwrap();

    tenant.inject(1, Fault::CloseConnection);
    client.client_grants().get(&grant.id).await.unwrap();

    tenant.inject(1, Fault::Hang(Duration::from_secs(5)));
    client.client_grants().get(&grant.id).await.unwrap();

    let statuses: Vec<Option<u16>> = tenant
        .requests()
        .iter()
        .filter(|request| request.path.starts_with("/api/v2/"))
        .map(|request| request.status)
        .collect();
    assert_eq!(
        statuses,
        [Some(503), Some(503), Some(200), None, Some(200), None, Some(200)]
    );
}

#[tokio::test]
async fn a_create_that_meets_a_500_is_not_retried_and_not_applied() {
    let tenant = FakeTenant::start().await;
    let client = tenant.client();
    tenant.inject(1, Fault::Status(500));
    let error = client
        .client_grants()
        .create(NewClientGrant::new("app", API))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(500));
    assert!(tenant.grants().is_empty());
    let creates = tenant
        .requests()
        .iter()
        .filter(|request| request.method == "POST" && request.path == "/api/v2/client-grants")
        .count();
    assert_eq!(creates, 1);
}

#[tokio::test]
async fn the_request_log_keeps_bodies_but_never_token_secrets() {
    let tenant = FakeTenant::start().await;
    tenant
        .client()
        .client_grants()
        .create(NewClientGrant::new("app", API))
        .await
        .unwrap();
    let requests = tenant.requests();
    assert_eq!(requests[0].path, "/oauth/token");
    assert_eq!(requests[0].body, None);
    assert_eq!(
        requests[1].body,
        Some(serde_json::json!({"client_id": "app", "audience": API}))
    );
    assert!(!format!("{requests:?}").contains(tenant.client_secret()));
}
