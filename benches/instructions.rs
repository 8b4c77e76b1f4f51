//! One side of a scenario, alone in a process, for counting instructions under callgrind:
//! unlike wall time, the count is the same on every run and does not care what else the machine
//! is doing. The client runs on the main thread and the fake tenant on a thread of its own. Run
//! each side with 0 and with N repetitions; the difference over N is the cost of one
//! repetition, for the whole process or (with `--separate-threads=yes`, file `…-01`) for the
//! client's thread alone. `cargo xtask bench --only instructions` does all of it:
//!
//! ```text
//! cargo bench -p benches --no-run --bench instructions
//! valgrind --tool=callgrind --separate-threads=yes target/release/deps/instructions-* get crate 1000
//! valgrind --tool=callgrind --separate-threads=yes target/release/deps/instructions-* get crate 0
//! ```
//!
//! Scenarios: `get` (one grant; COUNT gets one after the other), `get-concurrent` (COUNT gets,
//! 32 at a time) and `list` (a walk over 1000 grants with `stream()`, 100 a page). Sides:
//! `crate` (default settings), `crate-no-telemetry`, `crate-no-pacing`, `baseline`.

#[path = "client_vs_baseline/baseline.rs"]
mod baseline;
#[path = "client_vs_baseline/setup.rs"]
mod setup;

use auth0_client_grants::testing::FakeTenant;
use futures::StreamExt;
use setup::{remote, stream_all};

const LISTED_GRANTS: usize = 1000;
/// Calls in flight at once in `get-concurrent`, as in the wall-time benchmark.
const CONCURRENCY: usize = 32;
const PAGE: u32 = 100;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; this target only runs when called by hand.
    let [scenario, side, count] = args.as_slice() else {
        eprintln!(
            "usage: instructions get|get-concurrent|list crate|crate-no-telemetry|crate-no-pacing|baseline COUNT"
        );
        return;
    };
    let count: usize = count.parse().expect("COUNT is a number");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        // On a thread of its own, as in the wall-time benchmark, so that callgrind's
        // `--separate-threads=yes` can count the client's thread alone.
        let tenant = remote(FakeTenant::builder()).await;
        let seeded = if scenario == "list" { LISTED_GRANTS } else { 1 };
        let warm_up = if scenario == "get-concurrent" {
            CONCURRENCY
        } else {
            1
        };
        let id = tenant.seed_grants(seeded).remove(0).id;
        match side.as_str() {
            "baseline" => {
                let baseline = baseline::Baseline::connect(
                    &tenant.base_url(),
                    tenant.client_id(),
                    tenant.client_secret(),
                )
                .await;
                let get = || async { assert_eq!(baseline.get(&id).await.expect("get").id, id) };
                // The first calls open the connections the scenario uses.
                at_once(warm_up, warm_up, get).await;
                match scenario.as_str() {
                    "list" => {
                        for _ in 0..count {
                            assert_eq!(baseline.count_all(PAGE).await.expect("list"), LISTED_GRANTS);
                        }
                    }
                    "get-concurrent" => at_once(count, CONCURRENCY, get).await,
                    _ => at_once(count, 1, get).await,
                }
            }
            side => {
                let client = tenant
                    .client_builder()
                    .telemetry(side != "crate-no-telemetry")
                    .pacing(side != "crate-no-pacing")
                    .build()
                    .expect("a client");
                let grants = client.client_grants();
                let get = || async { assert_eq!(grants.get(&id).await.expect("get").id, id) };
                // The first call fetches the token; the next ones open the connections the
                // scenario uses.
                get().await;
                at_once(warm_up, warm_up, get).await;
                match scenario.as_str() {
                    "list" => {
                        for _ in 0..count {
                            assert_eq!(stream_all(&client, PAGE).await, LISTED_GRANTS);
                        }
                    }
                    "get-concurrent" => at_once(count, CONCURRENCY, get).await,
                    _ => at_once(count, 1, get).await,
                }
            }
        }
    });
}

/// Makes `calls` calls of `call`, `concurrency` at a time, as the wall-time benchmark does.
async fn at_once<F: Future<Output = ()>>(calls: usize, concurrency: usize, call: impl Fn() -> F) {
    futures::stream::iter(0..calls)
        .map(|_| call())
        .buffer_unordered(concurrency)
        .collect::<()>()
        .await;
}
