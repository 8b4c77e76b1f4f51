//! `cargo xtask spec …`: keeps `spec/` true to Auth0's published OpenAPI document.
//!
//! Who writes what:
//! - `spec/upstream/` (the verbatim subset and its provenance): only `refresh`;
//! - `spec/overlay.yaml` (our corrections, each saying why): people;
//! - `spec/client-grants.json` (what `build.rs` reads): only `refresh` and `generate`.

mod canonical;
mod convert;
mod diff;
mod extract;
mod lint;
mod narrow;
mod operations;
mod overlay;
mod probe;
mod provenance;
mod rules;
mod schemas;
mod source;

#[allow(dead_code)] // Only `generate_client` is used here; `main` is the build script's.
#[path = "../../../build.rs"]
mod build_script;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use serde_json::Value;

use canonical::to_canonical_json;
use operations::OPERATIONS;
use provenance::Provenance;
use source::{DEFAULT_UPSTREAM_URL, load_upstream, sha256_hex};

pub const SUBSET_PATH: &str = "spec/upstream/management-api-oas.client-grants.json";
pub const PROVENANCE_PATH: &str = "spec/upstream/provenance.json";
pub const OVERLAY_PATH: &str = "spec/overlay.yaml";
pub const CLIENT_SPEC_PATH: &str = build_script::SPEC_PATH;

/// Exit status of `spec diff` when the new release breaks users of this crate.
const BREAKING_EXIT_STATUS: u8 = 2;

#[derive(Subcommand)]
pub enum SpecCommand {
    /// Re-extract spec/upstream/ from Auth0's document and rebuild spec/client-grants.json.
    Refresh {
        /// A path or http(s) URL of Auth0's Management API OpenAPI document.
        #[arg(long, value_name = "PATH|URL", default_value = DEFAULT_UPSTREAM_URL)]
        from: String,
    },
    /// Offline: fail unless spec/client-grants.json is exactly what spec/upstream/ and
    /// spec/overlay.yaml produce, the provenance matches, and progenitor accepts the result.
    Check,
    /// Offline: rebuild spec/client-grants.json from spec/upstream/ and spec/overlay.yaml.
    Generate,
    /// Refresh the spec/ of the workspace at ROOT (a copy of this one) from an upstream document
    /// with every kind of additive change Auth0 ships applied, to check that a crate generated
    /// from it needs no edit, still builds and is a minor release at most.
    Probe {
        /// The workspace whose spec/ is rewritten.
        #[arg(long, value_name = "DIR")]
        root: PathBuf,
        /// The upstream document to change: a path or http(s) URL (default: ROOT's own subset).
        #[arg(long, value_name = "PATH|URL")]
        from: Option<String>,
    },
    /// Show what another release of Auth0's document changes for users of this crate, compared
    /// with spec/upstream/. Exits with status 2 when a change is breaking.
    Diff {
        /// A path or http(s) URL of Auth0's Management API OpenAPI document.
        #[arg(long, value_name = "PATH|URL")]
        from: String,
    },
}

pub fn run(command: SpecCommand) -> Result<ExitCode> {
    let root = workspace_root();
    match command {
        SpecCommand::Refresh { from } => refresh(&root, &from).map(|()| ExitCode::SUCCESS),
        SpecCommand::Probe { root, from } => probe(&root, from.as_deref()).map(|()| ExitCode::SUCCESS),
        SpecCommand::Check => {
            check(&root)?;
            println!(
                "{CLIENT_SPEC_PATH} is what {SUBSET_PATH} and {OVERLAY_PATH} produce; progenitor accepts it"
            );
            Ok(ExitCode::SUCCESS)
        }
        SpecCommand::Generate => {
            let written = generate(&root)?;
            println!(
                "{CLIENT_SPEC_PATH} {}",
                if written {
                    "rewritten"
                } else {
                    "already up to date"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        SpecCommand::Diff { from } => {
            let breaking = diff(&root, &from)?;
            Ok(if breaking {
                ExitCode::from(BREAKING_EXIT_STATUS)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// `spec/client-grants.json` as the pipeline makes it, and the notes a person should read.
#[derive(Debug)]
pub struct ClientSpec {
    pub text: String,
    /// Schemas both sides use that the response rules loosened (see `rules.rs`).
    pub notes: Vec<String>,
}

/// Produces `spec/client-grants.json` from the upstream subset and the overlay: convert to
/// OpenAPI 3.0.3 with JSON-only bodies, apply the overlay (corrections of named places), keep
/// only what the crate reads of the lookups' responses (`narrow.rs`), then the rules
/// (corrections of every place they concern), and check the result is fit for generation
/// (lint rules, then progenitor itself).
pub fn derive_client_spec(subset: &Value, overlay_yaml: &str) -> Result<ClientSpec> {
    let mut document = subset.clone();
    convert::to_openapi_3_0(&mut document)?;
    let overlay =
        overlay::parse_overlay(overlay_yaml).with_context(|| format!("{OVERLAY_PATH} is unusable"))?;
    overlay::apply_overlay(&overlay, &mut document)
        .with_context(|| format!("{OVERLAY_PATH} is out of date"))?;
    narrow::keep_what_is_read(&mut document)?;
    let notes = rules::apply_rules(&mut document)?;
    let problems = lint::lint(&document);
    if !problems.is_empty() {
        bail!(
            "after {OVERLAY_PATH} and the rules, the spec still has {} problem(s); correct them in {OVERLAY_PATH} or xtask/src/spec/rules.rs:\n  - {}",
            problems.len(),
            problems.join("\n  - ")
        );
    }
    let text = to_canonical_json(&document);
    build_script::generate_client(&text)
        .map_err(|reason| anyhow::anyhow!("progenitor cannot use the result: {reason}"))?;
    Ok(ClientSpec { text, notes })
}

/// The corrections of the overlay that the converted `subset` no longer needs.
pub fn redundant_corrections(subset: &Value, overlay_yaml: &str) -> Result<Vec<String>> {
    let mut document = subset.clone();
    convert::to_openapi_3_0(&mut document)?;
    let overlay =
        overlay::parse_overlay(overlay_yaml).with_context(|| format!("{OVERLAY_PATH} is unusable"))?;
    Ok(overlay::redundant_corrections(&overlay, &document, &|document| {
        narrow::keep_what_is_read(document)?;
        rules::apply_rules(document).map(drop)
    }))
}

fn print_notes(notes: &[String]) {
    for note in notes {
        println!("note: {note}");
    }
}

fn read(root: &Path, relative: &str) -> Result<String> {
    std::fs::read_to_string(root.join(relative)).with_context(|| format!("cannot read {relative}"))
}

fn parse_json(text: &str, relative: &str) -> Result<Value> {
    serde_json::from_str(text).with_context(|| format!("{relative} is not JSON"))
}

/// Writes `text` to `relative` unless it already holds exactly that; says whether it wrote.
fn write_if_changed(root: &Path, relative: &str, text: &str) -> Result<bool> {
    let path = root.join(relative);
    if std::fs::read_to_string(&path).is_ok_and(|current| current == text) {
        return Ok(false);
    }
    std::fs::write(&path, text).with_context(|| format!("cannot write {relative}"))?;
    Ok(true)
}

fn refresh(root: &Path, from: &str) -> Result<()> {
    let upstream = load_upstream(from)?;
    let subset = extract::extract_subset(&upstream.document, &OPERATIONS)?;
    let subset_text = to_canonical_json(&subset);
    // Everything is derived and checked before anything is written: a bad upstream leaves spec/ as it was.
    let client_spec = derive_client_spec(&subset, &read(root, OVERLAY_PATH)?)?;

    let previous_subset = read(root, SUBSET_PATH)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok());
    let previous_provenance = read(root, PROVENANCE_PATH)
        .ok()
        .and_then(|text| Provenance::parse(&text).ok());
    let unchanged = previous_provenance
        .as_ref()
        .is_some_and(|p| p.sha256 == upstream.sha256 && p.source == upstream.source)
        && read(root, SUBSET_PATH).is_ok_and(|text| text == subset_text);
    if unchanged {
        println!("{SUBSET_PATH}: up to date with {from}");
    } else {
        std::fs::create_dir_all(root.join("spec/upstream")).context("cannot create spec/upstream")?;
        let provenance = Provenance::describe(&upstream, &subset, &subset_text)?;
        std::fs::write(root.join(SUBSET_PATH), &subset_text)
            .with_context(|| format!("cannot write {SUBSET_PATH}"))?;
        std::fs::write(root.join(PROVENANCE_PATH), provenance.to_text())
            .with_context(|| format!("cannot write {PROVENANCE_PATH}"))?;
        println!(
            "{SUBSET_PATH}: extracted {} operations from {from} (sha256 {})",
            provenance.operations.len(),
            upstream.sha256
        );
    }
    let written = write_if_changed(root, CLIENT_SPEC_PATH, &client_spec.text)?;
    print_notes(&client_spec.notes);
    println!(
        "{CLIENT_SPEC_PATH}: {}",
        if written { "rewritten" } else { "unchanged" }
    );

    match previous_subset {
        Some(previous) => print_changes(&api_diff(&previous, &subset)?),
        None => println!("no earlier {SUBSET_PATH} to compare with"),
    }
    for correction in redundant_corrections(&subset, &read(root, OVERLAY_PATH)?)? {
        println!(
            "redundant correction: {correction} in {OVERLAY_PATH}: the upstream document now says the same; drop it"
        );
    }
    Ok(())
}

fn probe(root: &Path, from: Option<&str>) -> Result<()> {
    let mut subset = match from {
        Some(from) => extract::extract_subset(&load_upstream(from)?.document, &OPERATIONS)?,
        None => parse_json(&read(root, SUBSET_PATH)?, SUBSET_PATH)?,
    };
    let probed = probe::add_probes(&mut subset);
    let upstream = tempfile::Builder::new()
        .prefix("probed-upstream-")
        .suffix(".json")
        .tempfile()
        .context("cannot create a file for the probed document")?;
    std::fs::write(upstream.path(), to_canonical_json(&subset))
        .context("cannot write the probed document")?;
    println!(
        "probed {} object schemas, {} enums, {} schemas under responses, {} request bodies, {} operations",
        probed.objects, probed.enums, probed.responses, probed.request_bodies, probed.operations
    );
    let path = upstream
        .path()
        .to_str()
        .context("the temporary directory's path is not UTF-8")?;
    refresh(root, path)
}

fn check(root: &Path) -> Result<()> {
    let subset_text = read(root, SUBSET_PATH)?;
    let provenance = Provenance::parse(&read(root, PROVENANCE_PATH)?)?;
    let fix = format!("run `cargo xtask spec refresh --from {}`", provenance.source);
    if sha256_hex(subset_text.as_bytes()) != provenance.subset_sha256 {
        bail!("{SUBSET_PATH} does not match the sha256 in {PROVENANCE_PATH}: it was changed by hand; {fix}");
    }
    let subset = parse_json(&subset_text, SUBSET_PATH)?;
    let expected: Vec<&str> = OPERATIONS.iter().map(|op| op.operation_id).collect();
    if provenance.operations != expected || provenance::operation_ids(&subset) != expected {
        bail!("{SUBSET_PATH} and {PROVENANCE_PATH} do not hold exactly the operations xtask extracts; {fix}");
    }
    let derived = derive_client_spec(&subset, &read(root, OVERLAY_PATH)?)?.text;
    let committed = read(root, CLIENT_SPEC_PATH)?;
    if derived != committed {
        let line = derived
            .lines()
            .zip(committed.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || derived.lines().count().min(committed.lines().count()) + 1,
                |index| index + 1,
            );
        bail!(
            "{CLIENT_SPEC_PATH} differs from what {SUBSET_PATH} and {OVERLAY_PATH} produce (first at line {line}); \
             run `cargo xtask spec generate`"
        );
    }
    Ok(())
}

fn generate(root: &Path) -> Result<bool> {
    let subset = parse_json(&read(root, SUBSET_PATH)?, SUBSET_PATH)?;
    let derived = derive_client_spec(&subset, &read(root, OVERLAY_PATH)?)?;
    print_notes(&derived.notes);
    write_if_changed(root, CLIENT_SPEC_PATH, &derived.text)
}

fn diff(root: &Path, from: &str) -> Result<bool> {
    let committed = parse_json(&read(root, SUBSET_PATH)?, SUBSET_PATH)?;
    let upstream = load_upstream(from)?;
    let candidate = extract::extract_subset(&upstream.document, &OPERATIONS)?;
    let changes = api_diff(&committed, &candidate)?;
    print_changes(&changes);
    Ok(diff::needed_bump(&changes) == diff::Bump::Major)
}

/// The API changes between two upstream subsets (OpenAPI 3.1), compared in their 3.0 form and
/// with only the properties the crate reads of the lookups' responses.
fn api_diff(old: &Value, new: &Value) -> Result<Vec<diff::Change>> {
    let (mut old, mut new) = (old.clone(), new.clone());
    convert::to_openapi_3_0(&mut old).context("the committed subset cannot be converted")?;
    convert::to_openapi_3_0(&mut new).context("the new subset cannot be converted")?;
    narrow::keep_what_is_read_where_present(&mut old);
    narrow::keep_what_is_read_where_present(&mut new);
    Ok(diff::diff_api(&old, &new))
}

fn print_changes(changes: &[diff::Change]) {
    if changes.is_empty() {
        println!("no API changes for the operations the crate covers");
        return;
    }
    for change in changes {
        println!("{change}");
    }
    println!(
        "{} API change(s) for the operations the crate covers: the crate needs a {} release",
        changes.len(),
        diff::needed_bump(changes)
    );
}

#[cfg(test)]
mod tests;
