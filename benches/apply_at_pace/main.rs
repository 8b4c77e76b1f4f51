//! Grants as code at the tenant's pace: an authoritative apply of 1,000 changes and an export of
//! 10,000 grants against a fake tenant whose bucket lets 15 requests a second through, 100 ms
//! away each way, against the floor the bucket sets (the requests it let through ÷ its rate),
//! with the same apply one change at a time beside it.
//!
//! `cargo bench -p benches --bench apply_at_pace` prints the table; `cargo xtask bench --only
//! apply` also writes it to BENCHMARKS.md. `-- --quick` runs every scenario with smaller sizes
//! and a faster bucket (a smoke run, its numbers mean nothing).

#[path = "../client_vs_baseline/setup.rs"]
#[allow(
    dead_code,
    reason = "this benchmark needs only the remote tenant of the shared setup"
)]
mod setup;

use std::time::{Duration, Instant, SystemTime};

use auth0_client_grants::testing::{FakeTenant, RateLimitSettings};
use auth0_client_grants::{Client, ClientGrant};
use auth0_grants::reconcile::{self, DesiredGrant, DesiredState, Mode, ReconcileExt};
use serde_json::json;
use setup::{client_runtime, publish, remote};

const AUDIENCE: &str = "https://api.example.com/";
const GOAL: f64 = 1.15;
/// The most of the requests that may be answered 429.
const REFUSED_GOAL: f64 = 0.01;

/// The sizes of one run.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    /// Requests a second the bucket refills, and the most it holds.
    rate: f64,
    burst: u32,
    latency: Duration,
    /// Each of creates (each with one association), updates and deletes.
    changes_of_each_kind: usize,
    grants: usize,
    with_organizations: usize,
    quick: bool,
}

const FULL: Sizes = Sizes {
    rate: 15.0,
    burst: 15,
    latency: Duration::from_millis(100),
    changes_of_each_kind: 250,
    grants: 10_000,
    with_organizations: 2_000,
    quick: false,
};

const QUICK: Sizes = Sizes {
    rate: 100.0,
    burst: 20,
    latency: Duration::from_millis(5),
    changes_of_each_kind: 10,
    grants: 500,
    with_organizations: 100,
    quick: true,
};

/// Organizations the grants are spread over: an organization holds at most 100 grants.
const ORGANIZATIONS: usize = 100;

/// One measured run.
struct Run {
    scenario: String,
    parallelism: usize,
    /// Changes applied, or grants exported.
    items: usize,
    requests: usize,
    refused: usize,
    errors: usize,
    wall: Duration,
    rate: f64,
    /// Whether the goals are for this run; the others are shown for comparison.
    goal: bool,
}

impl Run {
    /// The least time the bucket allows for the requests it let through.
    fn floor(&self) -> f64 {
        (self.requests - self.refused) as f64 / self.rate
    }

    fn ratio(&self) -> f64 {
        self.wall.as_secs_f64() / self.floor()
    }

    fn met(&self) -> bool {
        self.errors == 0 && self.ratio() <= GOAL && self.refused as f64 <= REFUSED_GOAL * self.requests as f64
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sizes = if args.iter().any(|arg| arg == "--quick") {
        QUICK
    } else {
        FULL
    };
    let runtime = client_runtime();
    let runs = runtime.block_on(async {
        eprintln!("apply, {} at a time …", reconcile::DEFAULT_PARALLELISM);
        let concurrent = apply(sizes, reconcile::DEFAULT_PARALLELISM).await;
        eprintln!("export, {} at a time …", reconcile::DEFAULT_PARALLELISM);
        let export = export(sizes, reconcile::DEFAULT_PARALLELISM).await;
        eprintln!("apply, one change at a time …");
        let sequential = apply(sizes, 1).await;
        vec![concurrent, sequential, export]
    });
    publish(&render(sizes, &runs), &args);
}

/// A tenant with the bucket and latency of `sizes`, the API the grants are for (planning reads
/// it to check scopes), and `ORGANIZATIONS` organizations.
async fn tenant(sizes: Sizes) -> (FakeTenant, Vec<String>) {
    let tenant = remote(
        FakeTenant::builder()
            .rate_limit(RateLimitSettings::new(sizes.rate, sizes.burst))
            .latency(sizes.latency),
    )
    .await;
    tenant.add_api(AUDIENCE, ["read:old", "read:new"]);
    let organizations = (0..ORGANIZATIONS)
        .map(|n| tenant.add_organization(&format!("organization-{n}")).id)
        .collect();
    (tenant, organizations)
}

/// Stores a grant as the API would have made it, without a request.
fn insert(tenant: &FakeTenant, client_id: &str, scope: &str, with_organizations: bool) -> ClientGrant {
    let mut grant = json!({
        "id": "",
        "client_id": client_id,
        "audience": AUDIENCE,
        "scope": [scope],
        "subject_type": "client",
    });
    if with_organizations {
        grant["organization_usage"] = json!("allow");
    }
    tenant.insert_grant(serde_json::from_value(grant).expect("a grant as the API sends it"))
}

/// API requests since `before`, and how many were answered 429.
fn requests_since(tenant: &FakeTenant, before: usize) -> (usize, usize) {
    let requests = tenant.requests();
    let api = requests[before..]
        .iter()
        .filter(|request| request.path.starts_with("/api/v2/"));
    let (mut all, mut refused) = (0, 0);
    for request in api {
        all += 1;
        refused += usize::from(request.status == Some(429));
    }
    (all, refused)
}

/// An authoritative apply of creates (each with an association), updates and deletes, the
/// plan read first through the same client, as `auth0-grants apply --yes` does.
async fn apply(sizes: Sizes, parallelism: usize) -> Run {
    let (tenant, organizations) = tenant(sizes).await;
    let each = sizes.changes_of_each_kind;
    for n in 0..each {
        insert(&tenant, &format!("updated-{n}"), "read:old", false);
        insert(&tenant, &format!("deleted-{n}"), "read:old", false);
    }
    let updated = (0..each).map(|n| DesiredGrant::new(format!("updated-{n}"), AUDIENCE).scope(["read:new"]));
    let created = (0..each).map(|n| {
        DesiredGrant::new(format!("created-{n}"), AUDIENCE)
            .scope(["read:new"])
            .organization_usage(auth0_client_grants::OrganizationUsage::Allow)
            .organizations([organizations[n % ORGANIZATIONS].clone()])
    });
    let desired = DesiredState::new(updated.chain(created)).expect("a valid desired state");
    let client: Client = tenant.client();
    let reconcile = client
        .reconcile(&desired)
        .mode(Mode::Authoritative)
        .parallelism(parallelism);
    let plan = reconcile.plan().await.expect("the plan");
    assert_eq!(plan.changes().len(), 4 * each, "{plan}");

    let before = tenant.requests().len();
    let started = Instant::now();
    let applied = reconcile.apply(&plan).await;
    let wall = started.elapsed();
    let (requests, refused) = requests_since(&tenant, before);
    let errors = match &applied {
        Ok(_) => 0,
        Err(error) => {
            eprintln!("the apply failed: {error}");
            1 + error.also_failed.len()
        }
    };
    let errors = errors + usize::from(!reconcile.plan().await.expect("the plan after").is_empty());
    Run {
        scenario: format!(
            "authoritative apply: {each} creates, {each} associations with them, {each} updates (a read and a write each), {each} deletes"
        ),
        parallelism,
        items: plan.changes().len(),
        requests,
        refused,
        errors,
        wall,
        rate: sizes.rate,
        goal: parallelism > 1,
    }
}

/// An export of `grants` grants, `with_organizations` of them in two organizations each.
async fn export(sizes: Sizes, parallelism: usize) -> Run {
    let (tenant, organizations) = tenant(sizes).await;
    for n in 0..sizes.grants {
        let with_organizations = n < sizes.with_organizations;
        let grant = insert(
            &tenant,
            &format!("exported-{n}"),
            "read:things",
            with_organizations,
        );
        if with_organizations {
            tenant.associate(&organizations[n % ORGANIZATIONS], &grant.id);
            tenant.associate(&organizations[(n + 1) % ORGANIZATIONS], &grant.id);
        }
    }
    let client = tenant.client();
    // The token, as the plan's reads get it before an apply: not part of what is measured.
    client
        .client_grants()
        .list()
        .take(1)
        .send()
        .await
        .expect("a first page");
    let before = tenant.requests().len();
    let started = Instant::now();
    let exported = reconcile::export(&client).parallelism(parallelism).run().await;
    let wall = started.elapsed();
    let (requests, refused) = requests_since(&tenant, before);
    let errors = match exported {
        Ok(desired) => {
            let with_organizations = desired
                .grants
                .iter()
                .filter(|grant| grant.organizations.len() == 2)
                .count();
            usize::from(desired.grants.len() != sizes.grants)
                + usize::from(with_organizations != sizes.with_organizations)
        }
        Err(error) => {
            eprintln!("the export failed: {error}");
            1
        }
    };
    Run {
        scenario: format!(
            "export of {} grants, {} with organizations (two each)",
            sizes.grants, sizes.with_organizations
        ),
        parallelism,
        items: sizes.grants,
        requests,
        refused,
        errors,
        wall,
        rate: sizes.rate,
        goal: true,
    }
}

fn render(sizes: Sizes, runs: &[Run]) -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mut out = format!(
        "Measured {} on {cores} cores, `{}` profile, one run of each scenario{}. The fake tenant's \
         bucket lets {} requests a second through, {} at once, with `X-RateLimit-*` on every response; \
         the network takes {} ms each way. Floor = the requests the bucket let through ÷ {} a second. \
         Errors: changes or reads that failed, and a plan after the apply that is not empty (or an export \
         that lacks a grant or an organization). Goals for the concurrent runs, in one run: wall ≤ {GOAL} × \
         floor, 0 errors, at most {}% of requests answered 429; the one-at-a-time apply is shown for \
         comparison.\n\n\
         | scenario | at once | changes or grants | requests | 429s | errors | wall | floor | wall / floor | goal | met |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
        httpdate::fmt_http_date(SystemTime::now()),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        if sizes.quick {
            " (--quick: small sizes, its numbers mean nothing)"
        } else {
            ""
        },
        sizes.rate,
        sizes.burst,
        sizes.latency.as_millis(),
        sizes.rate,
        REFUSED_GOAL * 100.0,
    );
    for run in runs {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.1} s | {:.1} s | {:.2} | {} | {} |\n",
            run.scenario,
            run.parallelism,
            run.items,
            run.requests,
            run.refused,
            run.errors,
            run.wall.as_secs_f64(),
            run.floor(),
            run.ratio(),
            if run.goal {
                format!("≤ {GOAL} × floor, 0 errors, ≤ {}% 429s", REFUSED_GOAL * 100.0)
            } else {
                "-".to_owned()
            },
            match (run.goal, run.met()) {
                (false, _) => "-",
                (true, true) => "yes",
                (true, false) => "**no**",
            }
        ));
    }
    let all_met = runs.iter().filter(|run| run.goal).all(Run::met);
    out.push_str(&format!(
        "\nEvery goal met in this run: {}.\n",
        if all_met { "yes" } else { "**no**" }
    ));
    out
}
