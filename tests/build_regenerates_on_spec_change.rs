//! `build.rs` regenerates the client whenever `spec/client-grants.json` changes, with no other
//! step: a property added to a schema appears in the generated type after a plain `cargo build`.
//!
//! The crate is copied to a scratch directory and built there, sharing this workspace's target
//! directory so that only the copy itself (build script and library) is compiled.

use std::path::{Path, PathBuf};
use std::process::Command;

const PROBE_PROPERTY: &str = "regeneration_probe";

#[test]
fn a_property_added_to_the_spec_appears_in_the_generated_type_after_cargo_build() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().unwrap();
    copy_crate(manifest_dir, scratch.path());

    let before = build_and_read_generated_code(scratch.path());
    assert!(
        grant_struct(&before).contains("pub audience:"),
        "the generated ClientGrant lacks its fields"
    );
    assert!(!before.contains(PROBE_PROPERTY));

    let spec_path = scratch.path().join("spec/client-grants.json");
    let mut spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&spec_path).unwrap()).unwrap();
    spec["components"]["schemas"]["ClientGrantResponseContent"]["properties"][PROBE_PROPERTY] =
        serde_json::json!({"type": "string", "description": "Added by the regeneration test."});
    std::fs::write(&spec_path, serde_json::to_string_pretty(&spec).unwrap()).unwrap();

    let after = build_and_read_generated_code(scratch.path());
    assert!(
        grant_struct(&after).contains(&format!(
            "pub {PROBE_PROPERTY}: ::std::option::Option<::std::string::String>"
        )),
        "the new property is missing from the regenerated ClientGrant:\n{}",
        grant_struct(&after)
    );
}

/// Copies what building the library needs, as a workspace of its own.
fn copy_crate(from: &Path, to: &Path) {
    for file in ["build.rs", "Cargo.lock", "README.md"] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
    for dir in ["src", "spec"] {
        copy_dir(&from.join(dir), &to.join(dir));
    }
    let manifest = std::fs::read_to_string(from.join("Cargo.toml")).unwrap();
    // Without the workspace members, which are not copied.
    let standalone: String = manifest
        .lines()
        .filter(|line| !line.starts_with("members"))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(to.join("Cargo.toml"), standalone).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs `cargo build --lib` in `crate_dir` and returns the code its build script generated.
fn build_and_read_generated_code(crate_dir: &Path) -> String {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--lib",
            "--offline",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(crate_dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo build failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out_dir = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "build-script-executed")
        .filter(|message| {
            message["package_id"]
                .as_str()
                .is_some_and(|id| id.contains("auth0-client-grants"))
        })
        .filter_map(|message| message["out_dir"].as_str().map(PathBuf::from))
        .next_back()
        .expect("cargo reported no build script run for the crate");
    std::fs::read_to_string(out_dir.join("client_grants_api.rs")).unwrap()
}

/// The workspace's own target directory, so that dependencies are not compiled again.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// The text of the generated `pub struct ClientGrant { … }`.
fn grant_struct(code: &str) -> &str {
    let start = code
        .find("pub struct ClientGrant {")
        .expect("the generated code has a ClientGrant struct");
    let end = start + code[start..].find("\n    }").expect("the struct ends");
    &code[start..end]
}
