//! An additive change upstream reaches users with no hand edit: `build.rs` regenerates the
//! client whenever `spec/client-grants.json` changes, and every target still builds.
//!
//! The whole workspace is copied to a scratch directory, its spec gets every kind of additive
//! change Auth0 makes (`cargo xtask spec probe`: a property on every object schema, a value in
//! every enum, an optional query parameter on every operation, ahead of the others, and a newly
//! documented status on every operation), and then, with no other edit:
//! - every target builds: the library with its features (`native-tls` aside, which needs a
//!   system library), its tests, examples and benches, xtask and examples/downstream;
//! - a test written as a user would shows the new enum value decoded as a named variant and the
//!   new property in the models.
//!
//! The copy shares this workspace's target directory, so that only the copied crates compile.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a user's test checks after the regeneration, written into the copy.
const USERS_TEST: &str = r#"
use auth0_client_grants::testing::FakeTenant;
use auth0_client_grants::{ClientGrant, DefaultFor, NewClientGrant, Organization, OrganizationUsage, SubjectType};

#[test]
fn a_value_added_to_every_enum_is_a_named_variant() {
    assert_eq!("regeneration_probe_value".parse::<SubjectType>().unwrap(), SubjectType::RegenerationProbeValue);
    assert_eq!(
        "regeneration_probe_value".parse::<OrganizationUsage>().unwrap(),
        OrganizationUsage::RegenerationProbeValue
    );
    assert_eq!("regeneration_probe_value".parse::<DefaultFor>().unwrap(), DefaultFor::RegenerationProbeValue);
}

#[test]
fn a_property_added_to_every_schema_reaches_the_models() {
    let grant: ClientGrant = serde_json::from_value(serde_json::json!({
        "id": "cgr_1", "audience": "https://api.example.com/", "regeneration_probe": "seen",
        "subject_type": "regeneration_probe_value"
    }))
    .unwrap();
    assert_eq!(grant.regeneration_probe.as_deref(), Some("seen"));
    assert_eq!(grant.subject_type, Some(SubjectType::RegenerationProbeValue));
    let organization: Organization =
        serde_json::from_value(serde_json::json!({"id": "org_1", "regeneration_probe": "seen"})).unwrap();
    assert_eq!(organization.regeneration_probe.as_deref(), Some("seen"));
}

#[tokio::test]
async fn the_client_still_works() {
    let tenant = FakeTenant::start().await;
    let client = tenant.client();
    let created = client
        .client_grants()
        .create(NewClientGrant::new("app", "https://api.example.com/").scope(["read:things"]))
        .await
        .unwrap();
    assert_eq!(client.client_grants().get(&created.id).await.unwrap(), created);
}
"#;

#[test]
fn additive_spec_changes_build_every_target_with_no_edit_and_reach_users_models() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().unwrap();
    copy_tracked_files(root, scratch.path());

    give_every_package_its_own_version(scratch.path());

    // The probes are xtask's (xtask/src/spec/probe.rs), which CI's semver check uses too.
    let spec_path = scratch.path().join("spec/client-grants.json");
    let probed = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "run",
            "--offline",
            "--quiet",
            "--package",
            "xtask",
            "--",
            "spec",
            "probe",
            "--spec",
        ])
        .arg(&spec_path)
        .current_dir(root)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&probed.stdout);
    assert!(
        probed.status.success() && said.contains("probed"),
        "cargo xtask spec probe failed: {said}{}",
        String::from_utf8_lossy(&probed.stderr)
    );
    std::fs::write(
        scratch.path().join("tests/regeneration_reaches_users.rs"),
        USERS_TEST,
    )
    .unwrap();

    cargo(
        scratch.path(),
        &[
            "build",
            "--workspace",
            "--all-targets",
            "--features",
            "auth0-client-grants/testing,auth0-client-grants/mock",
        ],
    );
    cargo(
        scratch.path(),
        &[
            "test",
            "--package",
            "auth0-client-grants",
            "--test",
            "regeneration_reaches_users",
        ],
    );
}

/// Cargo keys a path package's artifacts (its build script's output included) by its name and
/// version, not by where it is: with versions of their own, the copied packages cannot
/// overwrite what this workspace built in the shared target directory, nor be taken for it.
fn give_every_package_its_own_version(workspace: &Path) {
    let root = std::fs::read_to_string(workspace.join("Cargo.toml")).unwrap();
    let members = root
        .lines()
        .find_map(|line| line.strip_prefix("members = "))
        .expect("the workspace lists its members on one line");
    let manifests = std::iter::once("Cargo.toml".to_owned()).chain(
        members
            .split('"')
            .skip(1)
            .step_by(2)
            .map(|member| format!("{member}/Cargo.toml")),
    );
    for manifest in manifests {
        let path = workspace.join(&manifest);
        let text = std::fs::read_to_string(&path).unwrap();
        let line = text
            .lines()
            .find(|line| line.starts_with("version = \""))
            .unwrap_or_else(|| panic!("{manifest} names no version of its own"));
        let probed = format!("{}-regeneration-probe\"", line.trim_end_matches('"'));
        std::fs::write(&path, text.replacen(line, &probed, 1)).unwrap();
    }
}

/// Copies every file git tracks in `from` (as it is in the working tree) to `to`.
fn copy_tracked_files(from: &Path, to: &Path) {
    let listed = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(from)
        .output()
        .expect("git lists the files of the workspace");
    assert!(listed.status.success(), "git ls-files failed");
    for file in listed
        .stdout
        .split(|&byte| byte == 0)
        .filter(|name| !name.is_empty())
    {
        let relative = Path::new(std::str::from_utf8(file).unwrap());
        let source = from.join(relative);
        if !source.is_file() {
            continue;
        }
        let target = to.join(relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&source, &target).unwrap();
    }
}

/// Runs `cargo ARGS --offline` in `dir` with this workspace's target directory; fails the test
/// with cargo's output if it fails.
fn cargo(dir: &Path, args: &[&str]) {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .arg("--offline")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo {} failed in the regenerated copy:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The workspace's own target directory, so that dependencies are not compiled again.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}
