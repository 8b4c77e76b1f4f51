//! `cargo xtask bench`: runs the measurements behind BENCHMARKS.md and writes them there.
//!
//! - `runtime`: the client against a hand-written reqwest loop (`cargo bench -p benches
//!   --bench client_vs_baseline`), every scenario in one run.
//! - `apply`: grants as code against a rate-limited tenant 100 ms away (`cargo bench -p
//!   benches --bench apply_at_pace`): an apply and an export against the bucket's floor.
//! - `build`: what depending on this crate costs a user's build: a clean debug build of a
//!   minimal consumer of this crate against a consumer of only reqwest + serde + tokio, and
//!   against the design's floor (the same consumer with a bare progenitor client of the same
//!   spec), in one run, then the rebuild after an edit of the spec.
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

/// The design's floor: the baseline consumer plus what the design asks of every build, a build
/// script that turns the same spec into a client with progenitor, with no hand-written layer.
/// The difference between it and this crate's consumer is this crate's own share.
const FLOOR_MAIN: &str = r#"#[allow(dead_code, unused_imports, clippy::all)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/client.rs"));
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let client = generated::Client::new("https://example.auth0.com/api/v2");
    let _ = client.get_client_grant().id("cgr_1").send().await;
}
"#;

/// The floor's build script: the spec through progenitor with the builder interface, printed
/// as the crate's own build script prints it.
const FLOOR_BUILD_SCRIPT: &str = r#"fn main() {
    println!("cargo::rerun-if-changed=spec.json");
    let spec = std::fs::read_to_string("spec.json").expect("spec.json");
    let spec: openapiv3::OpenAPI = serde_json::from_str(&spec).expect("an OpenAPI document");
    let mut settings = progenitor::GenerationSettings::default();
    settings.with_interface(progenitor::InterfaceStyle::Builder);
    let tokens = progenitor::Generator::new(&settings).generate_tokens(&spec).expect("a client");
    let file: syn::File = syn::parse2(tokens).expect("valid Rust");
    let out = std::path::Path::new(&std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("client.rs");
    std::fs::write(out, prettyplease::unparse(&file)).expect("written");
}
"#;

/// The baseline consumer's reqwest and serde: the TLS this crate uses by default.
const BASELINE_DEPENDENCIES: &str = concat!(
    "reqwest = { version = \"0.13\", default-features = false, features = [\"rustls\", \"json\", \"http2\"] }\n",
    "serde = { version = \"1\", features = [\"derive\"] }\n",
);

/// Every consumer's runtime for `#[tokio::main]`.
const CONSUMER_TOKIO: &str = "tokio = { version = \"1\", features = [\"rt\", \"macros\"] }\n";

/// How many times each consumer is built clean.
const BUILD_ROUNDS: usize = 2;

fn build_cost(root: &Path) -> Result<String> {
    let scratch = tempfile::tempdir()?;
    let ours = scratch.path().join("consumer-of-auth0-client-grants");
    let theirs = scratch.path().join("consumer-of-reqwest-serde-tokio");
    let floor = scratch.path().join("consumer-of-a-bare-progenitor-client");
    let library = scratch.path().join("auth0-client-grants");
    copy_library(root, &library)?;
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))?;
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    write_consumer(
        &ours,
        &format!(
            "[dependencies]\nauth0-client-grants = {{ path = {:?} }}\n{CONSUMER_TOKIO}",
            library.display().to_string()
        ),
        CONSUMER_MAIN,
        &lock,
    )?;
    write_consumer(
        &theirs,
        &format!("[dependencies]\n{BASELINE_DEPENDENCIES}{CONSUMER_TOKIO}"),
        BASELINE_MAIN,
        &lock,
    )?;
    // The floor's generator and its runtime are the versions this crate uses, taken from its
    // manifest so that they move with it.
    let mut floor_dependencies =
        format!("[dependencies]\n{BASELINE_DEPENDENCIES}{CONSUMER_TOKIO}serde_json = \"1\"\n");
    floor_dependencies += &manifest_line(&manifest, "progenitor-client")?;
    floor_dependencies += "\n[build-dependencies]\n";
    for name in ["progenitor", "openapiv3", "prettyplease", "syn", "serde_json"] {
        floor_dependencies += &manifest_line(&manifest, name)?;
    }
    write_consumer(&floor, &floor_dependencies, FLOOR_MAIN, &lock)?;
    std::fs::write(floor.join("build.rs"), FLOOR_BUILD_SCRIPT)?;
    std::fs::copy(root.join("spec/client-grants.json"), floor.join("spec.json"))?;
    // Fetch first, so that downloads are not timed.
    for consumer in [&theirs, &floor, &ours] {
        let status = cargo().current_dir(consumer).arg("fetch").status()?;
        ensure!(status.success(), "cargo fetch failed in {}", consumer.display());
    }

    // Alternated, and the faster of each kept: on a shared machine another job's load falls on
    // whichever build runs beside it, and the faster build is the one it slowed least.
    let (mut baseline, mut bare, mut clean) = (None::<Build>, None::<Build>, None::<Build>);
    for round in 1..=BUILD_ROUNDS {
        for (name, dir, best) in [
            ("the baseline consumer", &theirs, &mut baseline),
            ("the design's floor", &floor, &mut bare),
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
    let (baseline, bare, clean) = (
        baseline.expect("one round at least"),
        bare.expect("one round at least"),
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
    let floor_ratio = bare.wall.as_secs_f64() / baseline.wall.as_secs_f64();
    let own_share = clean.wall.as_secs_f64() / bare.wall.as_secs_f64();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    Ok(format!(
        "Reproduce: `cargo xtask bench --only build`. Clean `cargo build` (debug) of three consumer \
         crates in one run on {cores} cores, alternated {BUILD_ROUNDS} times (the faster of each \
         kept), each with its own target directory, crates already downloaded, versions pinned by \
         this repository's Cargo.lock; then the rebuild of this crate's consumer after a change to \
         one property of spec/client-grants.json. The design's floor is the baseline plus a build \
         script that turns the same spec into a client with progenitor, and no hand-written layer: \
         what any crate built the way the design asks pays before its first line of its own.\n\n\
         | build | wall | units compiled | goal | met |\n|---|---|---|---|---|\n\
         | consumer of reqwest + serde + tokio (baseline) | {:.1} s | {} | | |\n\
         | the design's floor: the baseline + progenitor generating the same spec in build.rs | {:.1} s | {} | {floor_ratio:.2} × baseline | |\n\
         | consumer of auth0-client-grants (default features) | {:.1} s | {} | ≤ 1.25 × baseline: {ratio:.2} ×; ≤ 1.10 × the floor: {own_share:.2} × | {} |\n\
         | rebuild after a spec edit | {:.1} s | {} | ≤ 5 s | {} |\n",
        baseline.wall.as_secs_f64(),
        baseline.units,
        bare.wall.as_secs_f64(),
        bare.units,
        clean.wall.as_secs_f64(),
        clean.units,
        both(ratio <= 1.25, own_share <= 1.10),
        rebuild.wall.as_secs_f64(),
        rebuild.units,
        yes_no(rebuild.wall <= Duration::from_secs(5)),
    ))
}

/// The line `name = …` of `manifest`: the declaration with a version, which a crate outside the
/// workspace can use as it is (`name.workspace = true` would mean nothing there).
fn manifest_line(manifest: &str, name: &str) -> Result<String> {
    manifest
        .lines()
        .find(|line| line.starts_with(&format!("{name} = ")))
        .map(|line| format!("{line}\n"))
        .with_context(|| format!("Cargo.toml declares no version of {name}"))
}

fn both(baseline_met: bool, floor_met: bool) -> String {
    format!("baseline: {}; floor: {}", yes_no(baseline_met), yes_no(floor_met))
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
             {dependencies}\n[workspace]\n"
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
