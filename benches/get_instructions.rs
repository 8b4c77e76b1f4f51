//! One side of the sequential-get scenario, alone in a single-threaded process, for counting
//! instructions under callgrind: unlike wall time, the count is the same on every run and
//! does not care what else the machine is doing. Run each side with 0 and with N gets; the
//! difference over N is the cost of one get, the fake tenant's share included:
//!
//! ```text
//! cargo bench --no-run --bench get_instructions
//! valgrind --tool=callgrind target/release/deps/get_instructions-* crate 1000
//! valgrind --tool=callgrind target/release/deps/get_instructions-* crate 0
//! ```
//!
//! Sides: `crate` (default settings), `crate-no-telemetry`, `crate-no-pacing`, `baseline`.

#[allow(dead_code)] // The list walk is for the other benchmark.
#[path = "client_vs_baseline/baseline.rs"]
mod baseline;

use auth0_client_grants::testing::FakeTenant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; this target only runs when called by hand.
    let [side, count] = args.as_slice() else {
        eprintln!("usage: get_instructions crate|crate-no-telemetry|crate-no-pacing|baseline COUNT");
        return;
    };
    let count: usize = count.parse().expect("COUNT is a number");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let tenant = FakeTenant::start().await;
        let id = tenant.seed_grants(1).remove(0).id;
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
                    assert_eq!(baseline.get(&id).await.expect("get").id, id);
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
                    assert_eq!(client.client_grants().get(&id).await.expect("get").id, id);
                }
            }
        }
    });
}
