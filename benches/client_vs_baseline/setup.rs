//! What the benchmarks set up the same way: the fake tenant on a thread of its own, the
//! clients' runtime, the report, and a walk over every grant through the crate.

use auth0_client_grants::testing::{FakeTenant, FakeTenantBuilder};
use auth0_client_grants::{Client, Error};
use futures::TryStreamExt;

/// Starts a fake tenant on a runtime of its own, on its own thread, as Auth0 is a server
/// elsewhere; the first call starts that runtime and the tenants of one run share it.
pub async fn remote(tenant: FakeTenantBuilder) -> FakeTenant {
    static SERVERS: std::sync::OnceLock<tokio::runtime::Handle> = std::sync::OnceLock::new();
    let servers = SERVERS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for the fake tenant");
        let handle = runtime.handle().clone();
        std::thread::spawn(move || runtime.block_on(std::future::pending::<()>()));
        handle
    });
    servers
        .spawn(tenant.start())
        .await
        .expect("the fake tenant started")
}

/// The runtime the clients run on. The fake tenant stands in for Auth0, a server elsewhere: it
/// runs on a thread of its own (see [`remote`]), and the clients on this one. When the fake
/// tenant and the clients shared a multi-threaded runtime's workers, which worker each
/// connection's tasks landed on favoured one client or the other for a whole run: two identical
/// baseline clients then differed by up to 30% in the list (the control rows measure exactly that).
pub fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Prints the table, and writes it where `--report PATH` among `args` asks.
pub fn publish(report: &str, args: &[String]) {
    println!("{report}");
    let report_to = args
        .iter()
        .position(|arg| arg == "--report")
        .and_then(|at| args.get(at + 1));
    if let Some(path) = report_to {
        std::fs::write(path, report).unwrap_or_else(|error| panic!("cannot write {path}: {error}"));
    }
}

/// Walks every grant with `stream()`, `page` a page, and counts them.
pub async fn stream_all(client: &Client, page: u32) -> usize {
    client
        .client_grants()
        .list()
        .take(u64::from(page))
        .stream()
        .try_fold(0, |count, _grant| async move { Ok::<_, Error>(count + 1) })
        .await
        .expect("list")
}

/// Makes `count` calls, `concurrency` at a time, and counts those that failed.
pub async fn failures<T, E, F: std::future::Future<Output = Result<T, E>>>(
    count: usize,
    concurrency: usize,
    call: impl Fn() -> F,
) -> usize {
    use futures::StreamExt;
    futures::stream::iter(0..count)
        .map(|_| call())
        .buffer_unordered(concurrency)
        .filter(|result| std::future::ready(result.is_err()))
        .count()
        .await
}
