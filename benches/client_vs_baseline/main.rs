//! The crate against the physical limit, in one run: every scenario of the benchmark table
//! runs against an in-process fake tenant on loopback, once through this crate and once through
//! a minimal hand-written `reqwest` + `serde_json` client (baseline.rs), alternating, and the
//! table reports ratios of medians.
//!
//! `cargo bench -p benches --bench client_vs_baseline` prints the table; `cargo xtask bench` also
//! writes it to BENCHMARKS.md. `-- --quick` runs every scenario once with smaller sizes (a smoke
//! run, its numbers mean nothing); `-- --rate-limits-only` runs the rate-limit scenarios alone. Peak memory is measured in a child process (this same program with
//! `--child-memory`), so that the fake tenant's own memory does not count.

mod baseline;
mod rate_limits;
mod setup;

use std::future::Future;
use std::process::Command;
use std::time::{Duration, Instant};

use auth0_client_grants::Client;
use auth0_client_grants::testing::FakeTenant;
use baseline::Baseline;
use futures::{StreamExt, stream};
use setup::{client_runtime, failures, publish, remote, stream_all};

/// The most a get may cost against the baseline on loopback, one at a time or 32 at once: a
/// guard against pathologies, since a microsecond is nothing on a call that takes 50–300 ms
/// over a network.
const GET_GOAL: f64 = 1.15;
/// The most the walk over a large tenant may cost against the baseline.
const LIST_GOAL: f64 = 1.10;

/// The sizes and repetitions of one run.
#[derive(Debug, Clone, Copy)]
struct Plan {
    rounds: usize,
    gets: usize,
    concurrency: usize,
    small_tenant: usize,
    large_tenant: usize,
    page: u32,
    /// Grants in the tenant a reconcile plan reads.
    plan_tenant: usize,
    /// Runs of each rate-limit scenario with pacing on (once for the comparisons).
    rate_limit_rounds: usize,
    quick: bool,
}

const FULL: Plan = Plan {
    rounds: 21,
    gets: 2000,
    concurrency: 32,
    small_tenant: 10_000,
    large_tenant: 100_000,
    page: 100,
    plan_tenant: 10_000,
    rate_limit_rounds: 2,
    quick: false,
};

const QUICK: Plan = Plan {
    rounds: 1,
    gets: 200,
    concurrency: 32,
    small_tenant: 1_000,
    large_tenant: 5_000,
    page: 100,
    plan_tenant: 1_000,
    rate_limit_rounds: 1,
    quick: true,
};

const FIRST_CALLS: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|arg| arg == "--child-memory") {
        return child_memory(&args[at + 1..]);
    }
    let plan = if args.iter().any(|arg| arg == "--quick") {
        QUICK
    } else {
        FULL
    };
    let runtime = client_runtime();
    let report = if args.iter().any(|arg| arg == "--rate-limits-only") {
        let results = runtime.block_on(rate_limits::run_all(plan.quick, plan.rate_limit_rounds));
        rate_limits::render(&results, plan.quick)
    } else {
        runtime.block_on(run(plan))
    };
    publish(&report, &args);
}

async fn run(plan: Plan) -> String {
    let mut rows = Vec::new();

    let tenant = remote(FakeTenant::builder()).await;
    let id = tenant.seed_grants(1).remove(0).id;
    let client = tenant.client();
    let baseline = Baseline::connect(&tenant.base_url(), tenant.client_id(), tenant.client_secret()).await;
    let control = Baseline::connect(&tenant.base_url(), tenant.client_id(), tenant.client_secret()).await;
    client.client_grants().get(&id).await.expect("warm-up");
    baseline.get(&id).await.expect("warm-up");
    control.get(&id).await.expect("warm-up");

    eprintln!("get, {} sequential …", plan.gets);
    let comparison = compare(
        plan.rounds,
        || gets(&client, &id, plan.gets, 1),
        || baseline_gets(&baseline, &id, plan.gets, 1),
    )
    .await;
    rows.push(Row::ratio(
        &format!("get one grant, {} sequential", plan.gets),
        &comparison,
        GET_GOAL,
    ));
    let noise = compare(
        plan.rounds,
        || baseline_gets(&control, &id, plan.gets, 1),
        || baseline_gets(&baseline, &id, plan.gets, 1),
    )
    .await;
    rows.push(Row::control(&noise));

    eprintln!("get, {} at concurrency {} …", plan.gets, plan.concurrency);
    let comparison = compare(
        plan.rounds,
        || gets(&client, &id, plan.gets, plan.concurrency),
        || baseline_gets(&baseline, &id, plan.gets, plan.concurrency),
    )
    .await;
    rows.push(Row::ratio(
        &format!("get, {} at concurrency {}", plan.gets, plan.concurrency),
        &comparison,
        GET_GOAL,
    ));
    let noise = compare(
        plan.rounds,
        || baseline_gets(&control, &id, plan.gets, plan.concurrency),
        || baseline_gets(&baseline, &id, plan.gets, plan.concurrency),
    )
    .await;
    rows.push(Row::control(&noise));
    drop(tenant);

    eprintln!("list {} grants …", plan.large_tenant);
    let tenant = remote(FakeTenant::builder()).await;
    tenant.seed_grants(plan.small_tenant);
    let small = memory(&tenant, plan.small_tenant).await;
    tenant.seed_grants(plan.large_tenant - plan.small_tenant);
    let large = memory(&tenant, plan.large_tenant).await;
    let client = tenant.client();
    let baseline = Baseline::connect(&tenant.base_url(), tenant.client_id(), tenant.client_secret()).await;
    let control = Baseline::connect(&tenant.base_url(), tenant.client_id(), tenant.client_secret()).await;
    let comparison = compare(
        plan.rounds,
        || async {
            let count = stream_all(&client, plan.page).await;
            assert_eq!(count, plan.large_tenant);
        },
        || async {
            let count = baseline.count_all(plan.page).await.expect("baseline list");
            assert_eq!(count, plan.large_tenant);
        },
    )
    .await;
    rows.push(Row::ratio(
        &format!(
            "list {} grants with `stream()` (take={})",
            plan.large_tenant, plan.page
        ),
        &comparison,
        LIST_GOAL,
    ));
    let noise = compare(
        plan.rounds,
        || async {
            let count = control.count_all(plan.page).await.expect("control list");
            assert_eq!(count, plan.large_tenant);
        },
        || async {
            let count = baseline.count_all(plan.page).await.expect("baseline list");
            assert_eq!(count, plan.large_tenant);
        },
    )
    .await;
    rows.push(Row::control(&noise));
    rows.push(Row::memory(plan, small, large));
    drop(tenant);

    eprintln!("{FIRST_CALLS} concurrent first calls …");
    rows.push(first_calls().await);

    eprintln!("plan of {} grants …", plan.plan_tenant);
    rows.push(plan_requests(plan.plan_tenant).await);

    let limited = rate_limits::run_all(plan.quick, plan.rate_limit_rounds).await;
    render(plan, &rows, &limited)
}

/// Both sides' median wall times, and the median of the per-round ratios.
struct Comparison {
    ours: Duration,
    theirs: Duration,
    ratio: f64,
}

/// Runs both sides `rounds` times, back to back and alternating which goes first. Each
/// round's ratio compares two runs made moments apart, so noise from the rest of the machine
/// that comes and goes cancels out; the median of those ratios is what the table reports.
async fn compare<A, B, FA, FB>(rounds: usize, mut ours: A, mut theirs: B) -> Comparison
where
    A: FnMut() -> FA,
    B: FnMut() -> FB,
    FA: Future<Output = ()>,
    FB: Future<Output = ()>,
{
    let mut our_times = Vec::new();
    let mut their_times = Vec::new();
    for round in 0..rounds {
        if round % 2 == 0 {
            their_times.push(timed(theirs()).await);
            our_times.push(timed(ours()).await);
        } else {
            our_times.push(timed(ours()).await);
            their_times.push(timed(theirs()).await);
        }
    }
    let mut ratios: Vec<f64> = our_times
        .iter()
        .zip(&their_times)
        .map(|(ours, theirs)| ours.as_secs_f64() / theirs.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    Comparison {
        ratio: ratios[ratios.len() / 2],
        ours: median(our_times),
        theirs: median(their_times),
    }
}

async fn timed(work: impl Future<Output = ()>) -> Duration {
    let started = Instant::now();
    work.await;
    started.elapsed()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

async fn gets(client: &Client, id: &str, count: usize, concurrency: usize) {
    let grants = client.client_grants();
    stream::iter(0..count)
        .map(|_| grants.get(id))
        .buffer_unordered(concurrency)
        .for_each(|grant| async move {
            assert_eq!(grant.expect("get").id, id);
        })
        .await;
}

async fn baseline_gets(baseline: &Baseline, id: &str, count: usize, concurrency: usize) {
    stream::iter(0..count)
        .map(|_| baseline.get(id))
        .buffer_unordered(concurrency)
        .for_each(|grant| async move {
            assert_eq!(grant.expect("baseline get").id, id);
        })
        .await;
}

/// Peak resident memory of a child process walking every grant of `tenant`, in KiB, for the
/// crate and for the baseline.
async fn memory(tenant: &FakeTenant, expected: usize) -> (u64, u64) {
    let args = [
        tenant.base_url(),
        tenant.client_id().to_owned(),
        tenant.client_secret().to_owned(),
    ];
    let measure = |side: &'static str| {
        let args = args.clone();
        tokio::task::spawn_blocking(move || {
            let output = Command::new(std::env::current_exe().expect("this program"))
                .arg("--child-memory")
                .arg(side)
                .args(&args)
                .output()
                .expect("the child runs");
            let text = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success(),
                "child failed: {text} {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let mut fields = text
                .split_whitespace()
                .map(|field| field.parse::<u64>().expect("a number"));
            let (count, peak) = (fields.next().expect("count"), fields.next().expect("peak"));
            assert_eq!(count, expected as u64, "the {side} child walked every grant");
            peak
        })
    };
    let ours = measure("crate").await.expect("child task");
    let theirs = measure("baseline").await.expect("child task");
    (ours, theirs)
}

/// In the child: walk every grant, then print the count and the peak resident set (KiB).
fn child_memory(args: &[String]) {
    let [side, api, client_id, secret] = args else {
        panic!("usage: --child-memory crate|baseline API CLIENT_ID SECRET");
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let count = runtime.block_on(async {
        match side.as_str() {
            "crate" => {
                let client = Client::builder()
                    .base_url(api)
                    .client_credentials(client_id, secret)
                    .build()
                    .expect("client");
                stream_all(&client, FULL.page).await
            }
            _ => {
                let baseline = Baseline::connect(api, client_id, secret).await;
                baseline.count_all(FULL.page).await.expect("baseline list")
            }
        }
    });
    println!("{count} {}", peak_rss_kib());
}

/// `VmHWM` from /proc/self/status (Linux); 0 elsewhere.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// 100 calls at once on a new client: they must share one token request.
/// The requests an authoritative plan makes on a tenant of `grants` grants, with a desired
/// state naming 100 of them, 10 with an organization, against the least it can make: the pages
/// of one walk at 100 a page, one organization read for each grant whose organizations
/// matter, and one read of the API they are for, whose scopes the plan checks.
async fn plan_requests(grants: usize) -> Row {
    use auth0_grants::reconcile::{DesiredGrant, DesiredState, Mode, ReconcileExt};
    let tenant = remote(FakeTenant::builder()).await;
    let seeded = tenant.seed_grants(grants);
    tenant.add_api("https://seed.example.com/", ["read:things"]);
    let organization = tenant.add_organization("acme");
    let desired = DesiredState::new(seeded.iter().take(100).enumerate().map(|(n, grant)| {
        let named = DesiredGrant::new(
            grant.client_id.clone().expect("seeded for a client"),
            grant.audience.clone(),
        )
        .scope(grant.scope.clone());
        if n < 10 {
            named.organizations([organization.id.clone()])
        } else {
            named
        }
    }))
    .expect("a valid desired state");
    let client = tenant.client();
    let _ = client.client_grants().get("cgr_warm_up_the_token").await;
    let before = tenant.requests().len();
    let plan = client
        .reconcile(&desired)
        .mode(Mode::Authoritative)
        .plan()
        .await
        .expect("plan");
    assert_eq!(
        plan.changes().len(),
        grants - 100 + 10,
        "deletes and associations"
    );
    let made = tenant.requests().len() - before;
    let least = grants.div_ceil(100) + 10 + 1;
    Row {
        scenario: format!(
            "reconcile plan of {grants} grants (authoritative, 100 named, 10 with an organization)"
        ),
        measure: "requests made / the least possible (walk pages at 100 + organization reads + the API read)"
            .into(),
        ours: made.to_string(),
        theirs: least.to_string(),
        result: format!("{:.2}", made as f64 / least as f64),
        goal: "≤ 1 page more".into(),
        met: Some(made <= least + 1),
    }
}

async fn first_calls() -> Row {
    let tenant = remote(FakeTenant::builder()).await;
    let id = tenant.seed_grants(1).remove(0).id;
    let grants = tenant.client().client_grants();
    let failures = failures(FIRST_CALLS, FIRST_CALLS, || grants.get(&id)).await;
    assert_eq!(failures, 0, "first calls failed");
    let tokens = tenant.token_requests();
    Row {
        scenario: format!("{FIRST_CALLS} concurrent first calls with client credentials"),
        measure: "token requests".into(),
        ours: tokens.to_string(),
        theirs: "-".into(),
        result: tokens.to_string(),
        goal: "1".into(),
        met: Some(tokens == 1),
    }
}

/// One line of the main table.
struct Row {
    scenario: String,
    measure: String,
    ours: String,
    theirs: String,
    result: String,
    goal: String,
    /// `None` for a control row, which has no goal.
    met: Option<bool>,
}

impl Row {
    fn ratio(scenario: &str, comparison: &Comparison, goal: f64) -> Self {
        Self {
            scenario: scenario.into(),
            measure: "crate / baseline wall time (median of paired rounds)".into(),
            ours: format!("{:.3} s", comparison.ours.as_secs_f64()),
            theirs: format!("{:.3} s", comparison.theirs.as_secs_f64()),
            result: format!("{:.3}", comparison.ratio),
            goal: format!("≤ {goal:.2}"),
            met: Some(comparison.ratio <= goal),
        }
    }

    /// The row above measured again with a second baseline client in place of the crate: two
    /// identical clients, so any distance from 1 is what noise alone gives in this run.
    fn control(comparison: &Comparison) -> Self {
        Self {
            scenario: "same, control".into(),
            measure: "second baseline client / baseline (identical: the noise of this run)".into(),
            ours: format!("{:.3} s", comparison.ours.as_secs_f64()),
            theirs: format!("{:.3} s", comparison.theirs.as_secs_f64()),
            result: format!("{:.3}", comparison.ratio),
            goal: "-".into(),
            met: None,
        }
    }

    fn memory(plan: Plan, small: (u64, u64), large: (u64, u64)) -> Self {
        let growth = |small: u64, large: u64| large.saturating_sub(small) as f64 / 1024.0;
        let ours = growth(small.0, large.0);
        let theirs = growth(small.1, large.1);
        Self {
            scenario: format!("same, {} vs {} grants", plan.small_tenant, plan.large_tenant),
            measure: "peak RSS growth (child process)".into(),
            ours: format!("{ours:.1} MiB (peak {:.1} MiB)", large.0 as f64 / 1024.0),
            theirs: format!("{theirs:.1} MiB (peak {:.1} MiB)", large.1 as f64 / 1024.0),
            result: format!("{ours:.1} MiB"),
            goal: "≤ 5 MB".into(),
            met: Some(ours * 1.048_576 <= 5.0),
        }
    }
}

fn render(plan: Plan, rows: &[Row], limited: &rate_limits::Results) -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mut out = String::new();
    out.push_str(&format!(
        "Measured {} on {cores} cores, `{}` profile, {} paired rounds per scenario, in one run; times are medians.\n\n",
        httpdate::fmt_http_date(std::time::SystemTime::now()),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        plan.rounds,
    ));
    out.push_str(
        "| scenario | measure | crate | baseline | result | goal | met |\n|---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            row.scenario,
            row.measure,
            row.ours,
            row.theirs,
            row.result,
            row.goal,
            match row.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "-",
            }
        ));
    }
    out.push_str(&rate_limits::render(limited, plan.quick));
    out
}
