//! An additive upstream change reaches users with no hand edit: a refresh from Auth0's next
//! release needs no edit of the overlay, `build.rs` regenerates the client whenever
//! `spec/client-grants.json` changes, and every target still builds.
//!
//! The whole workspace is copied to a scratch directory and its spec/ refreshed, as
//! `cargo xtask spec refresh` would, from Auth0's release of 2026-08-20 (the fixture in
//! xtask/fixtures/) with every kind of additive change Auth0 ships applied on top
//! (`cargo xtask spec probe`, xtask/src/spec/probe.rs: new properties on request and response
//! schemas, a new closed nested object and a new `$ref`'d enum under responses, a new `$ref`'d
//! property on request bodies, a value in every enum, a parameter and a documented error status
//! on every operation). Then, with no other edit:
//! - the refresh names each change with the release it needs (minor) and reports the overlay's
//!   corrections that Auth0's release made redundant;
//! - every target builds: the library with its features (`native-tls` aside, which needs a
//!   system library), its tests, examples and benches, xtask and examples/downstream;
//! - a test written as a user would shows the new values, properties and types in the models,
//!   responses that decode what the server adds, and requests that stay strict.
//!
//! The copy shares this workspace's target directory, so that only the copied crates compile.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Auth0's release of 2026-08-20, as the fixture of xtask's tests holds it.
const AUGUST_RELEASE: &str = "xtask/fixtures/management-api-oas.2026-08-20.client-grants.json";

/// What a user's test checks after the regeneration, written into the copy.
const USERS_TEST: &str = r#"
use auth0_client_grants::mock::types;
use auth0_client_grants::testing::FakeTenant;
use auth0_client_grants::{
    ClientGrant, DefaultFor, NewClientGrant, Organization, OrganizationUsage, RegenerationProbeEnum, SubjectType,
    ThirdPartyClientAccess,
};
use serde_json::json;

#[test]
fn a_value_added_to_every_enum_is_a_named_variant() {
    assert_eq!("regeneration_probe_value".parse::<SubjectType>().unwrap(), SubjectType::RegenerationProbeValue);
    assert_eq!(
        "regeneration_probe_value".parse::<OrganizationUsage>().unwrap(),
        OrganizationUsage::RegenerationProbeValue
    );
    assert_eq!("regeneration_probe_value".parse::<DefaultFor>().unwrap(), DefaultFor::RegenerationProbeValue);
    assert_eq!(
        "regeneration_probe_value".parse::<ThirdPartyClientAccess>().unwrap(),
        ThirdPartyClientAccess::RegenerationProbeValue
    );
    assert_eq!("anonymous_user".parse::<SubjectType>().unwrap(), SubjectType::AnonymousUser);
}

#[test]
fn a_new_enum_is_a_public_open_enum() {
    assert_eq!("probe_two".parse::<RegenerationProbeEnum>().unwrap(), RegenerationProbeEnum::ProbeTwo);
    assert_eq!(RegenerationProbeEnum::KNOWN, ["probe_one", "probe_two"]);
}

#[test]
fn new_properties_reach_the_models_and_responses_decode_what_the_server_adds() {
    let nested = json!({"flag": true, "label": "longer than its limit", "added_later": 1});
    let grant: ClientGrant = serde_json::from_value(json!({
        "id": "cgr_1", "audience": "https://api.example.com/", "regeneration_probe": "not a date",
        "subject_type": "regeneration_probe_value", "regeneration_probe_enum": "probe_one",
        "regeneration_probe_object": nested
    }))
    .unwrap();
    assert_eq!(grant.regeneration_probe.as_deref(), Some("not a date"));
    assert_eq!(grant.subject_type, Some(SubjectType::RegenerationProbeValue));
    assert_eq!(grant.regeneration_probe_enum, Some(RegenerationProbeEnum::ProbeOne));
    let object = grant.regeneration_probe_object.unwrap();
    assert_eq!((object.flag, object.label.as_deref()), (Some(true), Some("longer than its limit")));

    let organization: Organization = serde_json::from_value(json!({
        "id": "org_1", "regeneration_probe": "seen", "third_party_client_access": "allow",
        "is_app_entitlement_active": true, "client": {"use_for_member_access": true, "added_later": 1},
        "regeneration_probe_object": {"flag": false}
    }))
    .unwrap();
    assert_eq!(organization.regeneration_probe.as_deref(), Some("seen"));
    assert_eq!(organization.third_party_client_access, Some(ThirdPartyClientAccess::Allow));
    assert_eq!(organization.client.unwrap().use_for_member_access, Some(true));
}

#[test]
fn request_bodies_take_the_new_property_and_stay_strict() {
    let body: types::CreateClientGrantRequestContent = serde_json::from_value(json!({
        "audience": "https://api.example.com/",
        "regeneration_probe_settings": {"enabled": true, "mode": "probe_two"}
    }))
    .unwrap();
    let settings = body.regeneration_probe_settings.unwrap();
    assert_eq!(settings.mode, Some(RegenerationProbeEnum::ProbeTwo));
    for refused in [
        json!({"audience": "https://api.example.com/", "unknown": 1}),
        json!({"audience": "https://api.example.com/", "regeneration_probe_settings": {"unknown": 1}}),
        json!({"audience": "https://api.example.com/", "regeneration_probe": "x".repeat(65)}),
    ] {
        assert!(serde_json::from_value::<types::CreateClientGrantRequestContent>(refused.clone()).is_err(), "{refused}");
    }
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
    give_every_program_its_own_name(scratch.path());

    // The probes are xtask's (xtask/src/spec/probe.rs), which CI's semver check uses too.
    let release = scratch.path().join(AUGUST_RELEASE);
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
        ])
        .arg("--root")
        .arg(scratch.path())
        .arg("--from")
        .arg(&release)
        .current_dir(root)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&probed.stdout);
    assert!(
        probed.status.success() && said.contains("probed"),
        "cargo xtask spec probe failed: {said}{}",
        String::from_utf8_lossy(&probed.stderr)
    );
    for line in [
        // Auth0's release of 2026-08-20.
        "minor  get_client-grant-organizations: response 200 field `(shape 1)[].third_party_client_access` added",
        "minor  get_client-grant-organizations: response 200 field `(shape 1)[].client.use_for_member_access` added",
        "minor  get_client-grant-organizations: response 200 field `(shape 1)[].is_app_entitlement_active` added",
        // The probes.
        "minor  get_client-grant-organizations: response 200 field `(shape 1)[].regeneration_probe_object.flag` added",
        "minor  get_client-grant: response 200 field `regeneration_probe_enum` added",
        "minor  post_client-grants: request body field `regeneration_probe_settings.mode` added",
        "minor  patch_client-grants_by_id: request body field `regeneration_probe` added",
        "minor  get_client-grant: response 418 added",
    ] {
        assert!(
            said.lines().any(|said| said == line),
            "refresh did not say {line:?}:\n{said}"
        );
    }
    assert!(said.contains("the crate needs a minor release"), "{said}");
    let redundant = said
        .lines()
        .filter(|line| line.starts_with("redundant correction: "))
        .count();
    assert_eq!(
        redundant, 4,
        "the August corrections are redundant once upstream has them:\n{said}"
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
/// The versions differ in build metadata only, which a requirement ignores, so that a member
/// asking for the bindings by version (auth0-grants) still finds them.
fn give_every_package_its_own_version(workspace: &Path) {
    let manifests = packages(workspace)
        .into_iter()
        .map(|package| package.join("Cargo.toml"));
    for path in manifests {
        let text = std::fs::read_to_string(&path).unwrap();
        let line = text
            .lines()
            .find(|line| line.starts_with("version = \""))
            .unwrap_or_else(|| panic!("{} names no version of its own", path.display()));
        let probed = format!("{}+regeneration-probe\"", line.trim_end_matches('"'));
        std::fs::write(&path, text.replacen(line, &probed, 1)).unwrap();
    }
}

/// The packages of the workspace at `workspace`: its root and its members, as folders.
fn packages(workspace: &Path) -> Vec<PathBuf> {
    let root = std::fs::read_to_string(workspace.join("Cargo.toml")).unwrap();
    let members = root
        .lines()
        .find_map(|line| line.strip_prefix("members = "))
        .expect("the workspace lists its members on one line");
    std::iter::once(workspace.to_path_buf())
        .chain(
            members
                .split('"')
                .skip(1)
                .step_by(2)
                .map(|member| workspace.join(member)),
        )
        .collect()
}

/// Cargo copies each binary and example it builds to a path named after it alone
/// (`target/debug/auth0-grants`, `target/debug/examples/quickstart`), whatever its package's
/// version: built in the shared target directory, the copy's would replace this workspace's,
/// and the CLI's tests would run a binary of the probed spec. So the copy's get names of their
/// own.
fn give_every_program_its_own_name(workspace: &Path) {
    const SUFFIX: &str = "-regeneration-probe";
    for package in packages(workspace) {
        let manifest = package.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        if package.join("src/main.rs").is_file() {
            let name = text
                .lines()
                .find_map(|line| line.strip_prefix("name = \""))
                .and_then(|rest| rest.strip_suffix('"'))
                .expect("the package names itself");
            let bin = format!("\n[[bin]]\nname = \"{name}{SUFFIX}\"\npath = \"src/main.rs\"\n");
            std::fs::write(&manifest, text + &bin).unwrap();
        }
        for folder in ["src/bin", "examples"] {
            let Ok(entries) = std::fs::read_dir(package.join(folder)) else {
                continue;
            };
            for entry in entries.map(Result::unwrap) {
                let path = entry.path();
                let is_program = path.extension().is_some_and(|extension| extension == "rs")
                    || path.join("main.rs").is_file();
                if !is_program {
                    continue;
                }
                let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
                let renamed = match path.extension() {
                    Some(extension) => format!("{stem}{SUFFIX}.{}", extension.to_str().unwrap()),
                    None => format!("{stem}{SUFFIX}"),
                };
                std::fs::rename(&path, path.with_file_name(renamed)).unwrap();
                if folder == "src/bin" {
                    // The package's tests find the binary by its name.
                    rewrite_tests(
                        &package,
                        &format!("CARGO_BIN_EXE_{stem}\""),
                        &format!("CARGO_BIN_EXE_{stem}{SUFFIX}\""),
                    );
                }
            }
        }
    }
}

/// Replaces `from` with `to` in the integration tests of `package`.
fn rewrite_tests(package: &Path, from: &str, to: &str) {
    let Ok(entries) = std::fs::read_dir(package.join("tests")) else {
        return;
    };
    for path in entries.map(|entry| entry.unwrap().path()) {
        if path.extension().is_some_and(|extension| extension == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, text.replace(from, to)).unwrap();
        }
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
