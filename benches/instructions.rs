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
//! Scenarios: `get` (one grant) and `list` (a walk over 1000 grants with `stream()`, 100 a
//! page). Sides: `crate` (default settings), `crate-no-telemetry`, `crate-no-pacing`,
//! `baseline`.

#[path = "client_vs_baseline/baseline.rs"]
mod baseline;
#[path = "client_vs_baseline/setup.rs"]
mod setup;

use auth0_client_grants::testing::FakeTenant;
use setup::{remote, stream_all};

const LISTED_GRANTS: usize = 1000;
const PAGE: u32 = 100;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; this target only runs when called by hand.
    let [scenario, side, count] = args.as_slice() else {
        eprintln!("usage: instructions get|list crate|crate-no-telemetry|crate-no-pacing|baseline COUNT");
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
        let id = tenant.seed_grants(seeded).remove(0).id;
        match side.as_str() {
            "baseline" => {
                let baseline = baseline::Baseline::connect(
                    &tenant.base_url(),
                    tenant.client_id(),
                    tenant.client_secret(),
                )
                .await;
                // The first call opens the connection.
                baseline.get(&id).await.expect("warm-up");
                for _ in 0..count {
                    if scenario == "list" {
                        assert_eq!(baseline.count_all(PAGE).await.expect("list"), LISTED_GRANTS);
                    } else {
                        assert_eq!(baseline.get(&id).await.expect("get").id, id);
                    }
                }
            }
            side => {
                let client = tenant
                    .client_builder()
                    .telemetry(side != "crate-no-telemetry")
                    .pacing(side != "crate-no-pacing")
                    .build()
                    .expect("a client");
                // The first call fetches the token and opens the connection.
                client.client_grants().get(&id).await.expect("warm-up");
                for _ in 0..count {
                    if scenario == "list" {
                        assert_eq!(stream_all(&client, PAGE).await, LISTED_GRANTS);
                    } else {
                        assert_eq!(client.client_grants().get(&id).await.expect("get").id, id);
                    }
                }
            }
        }
    });
}
