//! `cargo xtask bench`: runs the measurements behind BENCHMARKS.md and writes them there.
//!
//! - `runtime`: the client against a hand-written reqwest loop (`cargo bench -p benches
//!   --bench client_vs_baseline`), every scenario in one run.
//! - `apply`: grants as code against a rate-limited tenant 100 ms away (`cargo bench -p
//!   benches --bench apply_at_pace`): an apply and an export against the bucket's floor.
//! - `build`: what depending on this crate costs a user's build: a clean debug build of a
//!   minimal consumer of this crate against a consumer of only reqwest + serde + tokio, in one
//!   run, then the rebuild after an edit of the spec.
//!
//! Each part rewrites only its own section of BENCHMARKS.md, so either can be refreshed alone.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::{Args, ValueEnum};

#[derive(Args)]
pub struct BenchArgs {
    /// Which measurements to run (default: all).
    #[arg(long, value_enum)]
    only: Option<Part>,
    /// Print the tables without writing BENCHMARKS.md.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Part {
    Runtime,
    Apply,
    Build,
}

pub fn run(args: BenchArgs) -> Result<()> {
    let root = workspace_root();
    for part in [Part::Runtime, Part::Apply, Part::Build] {
        if args.only.is_some_and(|only| only != part) {
            continue;
        }
        let (name, table) = match part {
            Part::Runtime => ("runtime", bench_report(&root, "client_vs_baseline", "runtime")?),
            Part::Apply => ("apply", bench_report(&root, "apply_at_pace", "apply")?),
            Part::Build => ("build", build_cost(&root)?),
        };
        println!("{table}");
        if !args.dry_run {
            write_section(&root.join("BENCHMARKS.md"), name, &table)?;
            println!("wrote the {name} section of BENCHMARKS.md");
        }
    }
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Runs the benchmark `bench` of the `benches` package, which writes its table to a file, and
/// returns the table with the commands that reproduce it.
fn bench_report(root: &Path, bench: &str, part: &str) -> Result<String> {
    let scratch = tempfile::tempdir()?;
    let report = scratch.path().join("report.md");
    let status = cargo()
        .current_dir(root)
        .args([
            "bench",
            "--locked",
            "--package",
            "benches",
            "--bench",
            bench,
            "--",
            "--report",
        ])
        .arg(&report)
        .status()
        .context("running cargo bench")?;
    ensure!(status.success(), "cargo bench failed ({status})");
    let table = std::fs::read_to_string(&report).context("reading the benchmark report")?;
    Ok(format!(
        "Reproduce: `cargo xtask bench --only {part}` (or `cargo bench -p benches --bench {bench}` \
         to print without writing).\n\n{table}"
    ))
}

/// The consumer of this crate: builds a client and makes one call.
const CONSUMER_MAIN: &str = r#"#[tokio::main(flavor = "current_thread")]
async fn main() {
    let client = auth0_client_grants::Client::builder()
        .domain("example.auth0.com")
        .token("token")
        .build()
        .expect("client");
    let _ = client.client_grants().get("cgr_1").await;
}
"#;

/// The baseline consumer: the same call written with reqwest, serde and tokio alone.
const BASELINE_MAIN: &str = r#"#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Grant {
    id: String,
    client_id: Option<String>,
    audience: String,
    scope: Vec<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let response = reqwest::Client::new()
        .get("https://example.auth0.com/api/v2/client-grants/cgr_1")
        .bearer_auth("token")
        .send()
        .await;
    if let Ok(response) = response {
        let _ = response.json::<Grant>().await;
    }
}
"#;

/// How many times each consumer is built clean.
const BUILD_ROUNDS: usize = 2;

fn build_cost(root: &Path) -> Result<String> {
    let scratch = tempfile::tempdir()?;
    let ours = scratch.path().join("consumer-of-auth0-client-grants");
    let theirs = scratch.path().join("consumer-of-reqwest-serde-tokio");
    let library = scratch.path().join("auth0-client-grants");
    copy_library(root, &library)?;
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))?;
    write_consumer(
        &ours,
        &format!(
            "auth0-client-grants = {{ path = {:?} }}\ntokio = {{ version = \"1\", features = [\"rt\", \"macros\"] }}\n",
            library.display().to_string()
        ),
        CONSUMER_MAIN,
        &lock,
    )?;
    write_consumer(
        &theirs,
        concat!(
            "reqwest = { version = \"0.13\", default-features = false, features = [\"rustls\", \"json\", \"http2\"] }\n",
            "serde = { version = \"1\", features = [\"derive\"] }\n",
            "tokio = { version = \"1\", features = [\"rt\", \"macros\"] }\n",
        ),
        BASELINE_MAIN,
        &lock,
    )?;
    // Fetch first, so that downloads are not timed.
    for consumer in [&theirs, &ours] {
        let status = cargo().current_dir(consumer).arg("fetch").status()?;
        ensure!(status.success(), "cargo fetch failed in {}", consumer.display());
    }

    // Alternated, and the faster of each kept: on a shared machine another job's load falls on
    // whichever build runs beside it, and the faster build is the one it slowed least.
    let (mut baseline, mut clean) = (None::<Build>, None::<Build>);
    for round in 1..=BUILD_ROUNDS {
        for (name, dir, best) in [
            ("the baseline consumer", &theirs, &mut baseline),
            ("this crate's consumer", &ours, &mut clean),
        ] {
            eprintln!("clean build of {name}, round {round} of {BUILD_ROUNDS} …");
            let _ = std::fs::remove_dir_all(dir.join("target"));
            let build = timed_build(dir)?;
            if best.as_ref().is_none_or(|best| build.wall < best.wall) {
                *best = Some(build);
            }
        }
    }
    let (baseline, clean) = (
        baseline.expect("one round at least"),
        clean.expect("one round at least"),
    );
    eprintln!("rebuild after a spec edit …");
    edit_spec(&library.join("spec/client-grants.json"))?;
    let rebuild = timed_build(&ours)?;
    ensure!(
        rebuild.units >= 2,
        "the spec edit rebuilt {} units: the build script did not run again",
        rebuild.units
    );

    let ratio = clean.wall.as_secs_f64() / baseline.wall.as_secs_f64();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    Ok(format!(
        "Reproduce: `cargo xtask bench --only build`. Clean `cargo build` (debug) of two consumer \
         crates in one run on {cores} cores, alternated {BUILD_ROUNDS} times (the faster of each \
         kept), each with its own target directory, crates already downloaded, versions pinned by this repository's Cargo.lock; then the rebuild of the first \
         after a change to one property of spec/client-grants.json.\n\n\
         | build | wall | units compiled | goal | met |\n|---|---|---|---|---|\n\
         | consumer of reqwest + serde + tokio (baseline) | {:.1} s | {} | | |\n\
         | consumer of auth0-client-grants (default features) | {:.1} s | {} | ≤ 1.25 × baseline: {ratio:.2} × | {} |\n\
         | rebuild after a spec edit | {:.1} s | {} | ≤ 5 s | {} |\n",
        baseline.wall.as_secs_f64(),
        baseline.units,
        clean.wall.as_secs_f64(),
        clean.units,
        yes_no(ratio <= 1.25),
        rebuild.wall.as_secs_f64(),
        rebuild.units,
        yes_no(rebuild.wall <= Duration::from_secs(5)),
    ))
}

fn yes_no(met: bool) -> &'static str {
    if met { "yes" } else { "**no**" }
}

/// What the library needs to build as a dependency: its manifest (a workspace of its own,
/// without the members that are not copied), build script, sources and spec.
fn copy_library(root: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for file in ["build.rs", "README.md"] {
        std::fs::copy(root.join(file), to.join(file)).with_context(|| format!("copying {file}"))?;
    }
    for dir in ["src", "spec"] {
        copy_dir(&root.join(dir), &to.join(dir))?;
    }
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let standalone: String = manifest
        .lines()
        .filter(|line| !line.starts_with("members"))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(to.join("Cargo.toml"), standalone)?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn write_consumer(dir: &Path, dependencies: &str, main: &str, lock: &str) -> Result<()> {
    std::fs::create_dir_all(dir.join("src"))?;
    let name = dir
        .file_name()
        .and_then(|name| name.to_str())
        .context("consumer name")?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\n{dependencies}\n[workspace]\n"
        ),
    )?;
    std::fs::write(dir.join("src/main.rs"), main)?;
    std::fs::write(dir.join("Cargo.lock"), lock)?;
    Ok(())
}

/// Adds a property to the grant schema, as a spec refresh would.
fn edit_spec(path: &Path) -> Result<()> {
    let mut spec: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let properties = spec
        .pointer_mut("/components/schemas/ClientGrantResponseContent/properties")
        .and_then(serde_json::Value::as_object_mut)
        .context("the spec has no ClientGrantResponseContent properties")?;
    properties.insert(
        "bench_probe".into(),
        serde_json::json!({ "type": "string", "description": "Added by cargo xtask bench." }),
    );
    std::fs::write(path, serde_json::to_string_pretty(&spec)?)?;
    Ok(())
}

struct Build {
    wall: Duration,
    units: usize,
}

fn timed_build(dir: &Path) -> Result<Build> {
    let started = Instant::now();
    let output = cargo()
        .current_dir(dir)
        .args(["build", "--offline", "--message-format=json"])
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .context("running cargo build")?;
    let wall = started.elapsed();
    if !output.status.success() {
        bail!(
            "cargo build failed in {}:\n{}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let units = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact" && message["fresh"] == false)
        .count();
    Ok(Build { wall, units })
}

/// Replaces the section `name` of the file (between its markers), or appends it.
fn write_section(path: &Path, name: &str, content: &str) -> Result<()> {
    let start = format!("<!-- {name}:start -->");
    let end = format!("<!-- {name}:end -->");
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let section = format!("{start}\n{content}\n{end}");
    let updated = match (existing.find(&start), existing.find(&end)) {
        (Some(from), Some(to)) if from < to => {
            format!("{}{section}{}", &existing[..from], &existing[to + end.len()..])
        }
        _ => format!("{}\n{section}\n", existing.trim_end()),
    };
    std::fs::write(path, updated)?;
    Ok(())
}
