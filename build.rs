//! Generates the typed Management API client from `spec/client-grants.json` with progenitor.
//!
//! Runs offline and deterministically, and again whenever the spec (or this file) changes.
//! `xtask` includes this file too, so `cargo xtask spec check` proves that progenitor accepts
//! the spec with exactly the settings the build uses.

use std::path::Path;

/// The OpenAPI 3.0 document the client is generated from; written only by `cargo xtask spec`.
pub const SPEC_PATH: &str = "spec/client-grants.json";

/// The file in `$OUT_DIR` that `src/generated.rs` includes.
pub const GENERATED_FILE: &str = "client_grants_api.rs";

#[allow(dead_code)] // `xtask` includes this file for `generate_client` only.
fn main() {
    println!("cargo::rerun-if-changed={SPEC_PATH}");
    println!("cargo::rerun-if-changed=build.rs");
    // For the `Auth0-Client` telemetry header; cargo rebuilds everything when rustc changes.
    println!(
        "cargo::rustc-env=AUTH0_CLIENT_GRANTS_RUSTC_VERSION={}",
        rustc_version()
    );

    let out_dir = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    let generated = std::fs::read_to_string(SPEC_PATH)
        .map_err(|e| format!("cannot read it: {e}"))
        .and_then(|spec| generate_client(&spec));
    match generated {
        Ok(code) => {
            let out = Path::new(&out_dir).join(GENERATED_FILE);
            if let Err(e) = std::fs::write(&out, code) {
                println!("cargo::error=cannot write {}: {e}", out.display());
            }
        }
        Err(reason) => println!(
            "cargo::error={SPEC_PATH} cannot be turned into a client: {reason}. \
             Run `cargo xtask spec check` to see whether it drifted from spec/upstream and \
             spec/overlay.yaml, and `cargo xtask spec refresh` to rebuild it."
        ),
    }
}

/// The version of the compiler cargo uses (`1.95.0`), or `unknown`.
fn rustc_version() -> String {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.split_whitespace().nth(1).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Turns the OpenAPI 3.0 document `spec_json` into the pretty-printed Rust source of the
/// generated client, or a one-line reason why progenitor rejects it.
pub fn generate_client(spec_json: &str) -> Result<String, String> {
    let spec: openapiv3::OpenAPI =
        serde_json::from_str(spec_json).map_err(|e| format!("not an OpenAPI 3.0 document: {e}"))?;

    let mut settings = progenitor::GenerationSettings::default();
    settings
        // Our hand-written builders wrap every call, so the smaller positional interface is enough.
        .with_interface(progenitor::InterfaceStyle::Positional)
        // Tokens, retries and headers live in `src/`: the build fails if they are not implemented.
        .with_hooks(progenitor::HooksMode::Expected)
        .with_inner_type("crate::transport::Transport".parse().expect("a Rust path"))
        // The overlay folds Auth0's four identical grant response schemas into this one.
        .with_patch(
            "ClientGrantResponseContent",
            progenitor::TypePatch::default().with_rename("ClientGrant"),
        );
    // Enums that must keep values Auth0 adds later (src/models.rs); two schemas share one type.
    for (schema, replacement) in [
        ("ClientGrantSubjectTypeEnum", "crate::models::SubjectType"),
        (
            "ClientGrantOrganizationUsageEnum",
            "crate::models::OrganizationUsage",
        ),
        ("OrganizationUsageEnum", "crate::models::OrganizationUsage"),
        ("ClientGrantDefaultForEnum", "crate::models::DefaultFor"),
    ] {
        let impls = [progenitor::TypeImpl::Display, progenitor::TypeImpl::FromStr];
        settings.with_replacement(schema, replacement, impls.into_iter());
    }

    // progenitor reports some unsupported shapes by panicking; turn that into a message.
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let tokens =
        std::panic::catch_unwind(move || progenitor::Generator::new(&settings).generate_tokens(&spec));
    std::panic::set_hook(previous_hook);

    let tokens = match tokens {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(e)) => return Err(format!("progenitor rejects it: {e}")),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            return Err(format!("progenitor panicked: {message}"));
        }
    };
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor produced invalid Rust: {e}"))?;
    Ok(prettyplease::unparse(&file))
}
