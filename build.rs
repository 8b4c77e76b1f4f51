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

/// The file in `$OUT_DIR` that `src/mock.rs` includes (feature `mock` only).
pub const GENERATED_MOCK_FILE: &str = "client_grants_mock.rs";

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
    let spec = match std::fs::read_to_string(SPEC_PATH) {
        Ok(spec) => spec,
        Err(e) => return fail(&format!("cannot read it: {e}")),
    };
    let mut outputs = vec![(GENERATED_FILE, generate_client(&spec))];
    // Only crates that ask for the typed mocks pay for generating and compiling them.
    if std::env::var_os("CARGO_FEATURE_MOCK").is_some() {
        outputs.push((GENERATED_MOCK_FILE, generate_mocks(&spec)));
    }
    for (file, generated) in outputs {
        match generated {
            Ok(code) => {
                let out = Path::new(&out_dir).join(file);
                if let Err(e) = std::fs::write(&out, code) {
                    println!("cargo::error=cannot write {}: {e}", out.display());
                }
            }
            Err(reason) => return fail(&reason),
        }
    }
}

/// Fails the build with one line that names the spec and the commands that fix it.
fn fail(reason: &str) {
    println!(
        "cargo::error={SPEC_PATH} cannot be turned into a client: {reason}. \
         Run `cargo xtask spec check` to see whether it drifted from spec/upstream and \
         spec/overlay.yaml, and `cargo xtask spec refresh` to rebuild it."
    );
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
///
/// The client is generated without the spec's error responses: progenitor then hands every
/// answer that is not a documented success to the caller unread (`UnexpectedResponse`), and
/// `Client::run` (src/call.rs) reads it once. The typed mocks keep every documented response.
pub fn generate_client(spec_json: &str) -> Result<String, String> {
    run_progenitor(spec_json, |generator, spec| {
        generator.generate_tokens(&without_error_responses(spec.clone()))
    })
}

/// `spec` with only the success (2xx) responses of each operation.
fn without_error_responses(mut spec: openapiv3::OpenAPI) -> openapiv3::OpenAPI {
    for operation in operations(&mut spec) {
        operation.responses.default = None;
        operation
            .responses
            .responses
            .retain(|status, _| matches!(status, openapiv3::StatusCode::Code(200..=299)));
    }
    spec
}

/// Every operation of `spec`.
fn operations(spec: &mut openapiv3::OpenAPI) -> impl Iterator<Item = &mut openapiv3::Operation> {
    let items = spec.paths.paths.values_mut().filter_map(|item| match item {
        openapiv3::ReferenceOr::Item(item) => Some(item),
        openapiv3::ReferenceOr::Reference { .. } => None,
    });
    items.flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

/// The typed httpmock layer for the same spec and settings: `operations::*When`/`*Then` and
/// `MockServerExt`, over the client's own types (`crate::generated::types`).
#[allow(dead_code)] // `xtask` generates only the client.
pub fn generate_mocks(spec_json: &str) -> Result<String, String> {
    run_progenitor(spec_json, |generator, spec| {
        generator.httpmock(&with_scalar_query_arrays(spec.clone()), "crate::generated")
    })
}

/// progenitor's mocks match a query parameter with `value.to_string()`, which a list
/// (`grant_ids`) does not have. Declared as one string instead, each call of the mock's
/// method requires one more `name=value` pair, which is how repeated parameters are sent.
fn with_scalar_query_arrays(mut spec: openapiv3::OpenAPI) -> openapiv3::OpenAPI {
    use openapiv3::{Parameter, ReferenceOr, SchemaKind, Type};
    for operation in operations(&mut spec) {
        for parameter in &mut operation.parameters {
            let ReferenceOr::Item(Parameter::Query { parameter_data, .. }) = parameter else {
                continue;
            };
            let openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) =
                &mut parameter_data.format
            else {
                continue;
            };
            if let SchemaKind::Type(Type::Array(array)) = &schema.schema_kind
                && let Some(ReferenceOr::Item(item)) = &array.items
            {
                *schema = openapiv3::Schema::clone(item);
            }
        }
    }
    spec
}

fn settings() -> progenitor::GenerationSettings {
    let mut settings = progenitor::GenerationSettings::default();
    settings
        // Every parameter by name: one added upstream, even between two of the same type, is never
        // sent under another's name, and adds a method instead of breaking a call.
        .with_interface(progenitor::InterfaceStyle::Builder)
        // Headers, pacing and sending live in src/hooks.rs: the build fails if they are missing.
        .with_hooks(progenitor::HooksMode::Expected)
        .with_inner_type("crate::hooks::Attempt".parse().expect("a Rust path"))
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
    // List answers in two or three shapes, decoded in one pass instead of as untagged enums
    // (src/list_answers.rs).
    for answer in [
        "ListClientGrantResponseContent",
        "ListClientGrantOrganizationsResponseContent",
        "ListOrganizationClientGrantsResponseContent",
    ] {
        settings.with_replacement(
            answer,
            format!("crate::list_answers::{answer}"),
            std::iter::empty(),
        );
    }
    settings
}

/// Parses `spec_json`, runs `generate` with the build's settings and pretty-prints the result;
/// a rejection or a panic inside progenitor becomes a one-line reason.
fn run_progenitor(
    spec_json: &str,
    generate: impl FnOnce(
        &mut progenitor::Generator,
        &openapiv3::OpenAPI,
    ) -> Result<proc_macro2::TokenStream, progenitor::Error>
    + std::panic::UnwindSafe,
) -> Result<String, String> {
    let spec: openapiv3::OpenAPI =
        serde_json::from_str(spec_json).map_err(|e| format!("not an OpenAPI 3.0 document: {e}"))?;

    // progenitor reports some unsupported shapes by panicking; turn that into a message.
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let tokens =
        std::panic::catch_unwind(move || generate(&mut progenitor::Generator::new(&settings()), &spec));
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
