//! Generates the typed Management API client from `spec/client-grants.json` with progenitor.
//!
//! Runs offline and deterministically, and again whenever the spec (or this file) changes.
//! `xtask` includes this file too, so `cargo xtask spec check` proves that progenitor accepts
//! the spec with exactly the settings the build uses.

use std::path::Path;

/// The OpenAPI 3.0 document the client is generated from; written only by `cargo xtask spec`.
pub const SPEC_PATH: &str = "spec/client-grants.json";

/// The file in `$OUT_DIR` that `src/api/generated.rs` includes.
pub const GENERATED_FILE: &str = "client_grants_api.rs";

/// The file in `$OUT_DIR` that `src/mock.rs` includes (feature `mock` only).
pub const GENERATED_MOCK_FILE: &str = "client_grants_mock.rs";

/// The file in `$OUT_DIR` that `src/api/models.rs` includes: the open enums, one per enum of the spec.
pub const GENERATED_ENUMS_FILE: &str = "open_enums.rs";

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
    let mut outputs = vec![
        (GENERATED_FILE, generate_client(&spec)),
        (GENERATED_ENUMS_FILE, generate_open_enums(&spec)),
    ];
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
/// response that is not a documented success to the caller unread (`UnexpectedResponse`), and
/// `Client::run` (src/transport/call.rs) reads it once. The typed mocks keep every documented response.
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
/// `MockServerExt`, over the client's own types (`crate::api::generated::types`).
#[allow(dead_code)] // `xtask` generates only the client.
pub fn generate_mocks(spec_json: &str) -> Result<String, String> {
    run_progenitor(spec_json, |generator, spec| {
        generator.httpmock(&with_scalar_query_arrays(spec.clone()), "crate::api::generated")
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

/// Public names for the spec's string enums; any other is named as typify names its schema.
/// Schemas that share a name share one type, which knows the values of all of them.
const ENUM_NAMES: &[(&str, &str)] = &[
    ("ClientGrantSubjectTypeEnum", "SubjectType"),
    ("ClientGrantOrganizationUsageEnum", "OrganizationUsage"),
    ("OrganizationUsageEnum", "OrganizationUsage"),
    ("ClientGrantDefaultForEnum", "DefaultFor"),
    ("OrganizationThirdPartyClientAccessEnum", "ThirdPartyClientAccess"),
    ("ClientAppTypeEnum", "AppType"),
];

/// Public names for schemas whose own name says less, or collides with the crate's `Client`.
const MODEL_NAMES: &[(&str, &str)] = &[
    // The overlay folds Auth0's four identical grant response schemas into this one.
    ("ClientGrantResponseContent", "ClientGrant"),
    // An application in the client list's response: the few fields xtask/src/spec/narrow.rs keeps.
    ("Client", "ClientSummary"),
    ("GetResourceServerResponseContent", "ResourceServer"),
];

fn settings(spec: &openapiv3::OpenAPI) -> progenitor::GenerationSettings {
    let mut settings = progenitor::GenerationSettings::default();
    settings
        // Every parameter by name: one added upstream, even between two of the same type, is never
        // sent under another's name, and adds a method instead of breaking a call.
        .with_interface(progenitor::InterfaceStyle::Builder)
        // Headers, pacing and sending live in src/transport/hooks.rs: the build fails if they are missing.
        .with_hooks(progenitor::HooksMode::Expected)
        .with_inner_type("crate::transport::hooks::Attempt".parse().expect("a Rust path"))
        // Models compare, so that users' contract tests can `assert_eq!` two grants.
        .with_derive("PartialEq");
    for (schema, patch) in model_patches(spec) {
        settings.with_patch(schema, &patch);
    }
    // Every string enum of the spec is an open enum (src/api/models.rs), which keeps values Auth0 adds later.
    for (schema, name) in string_enums(spec) {
        let impls = [progenitor::TypeImpl::Display, progenitor::TypeImpl::FromStr];
        settings.with_replacement(schema, format!("crate::api::models::{name}"), impls.into_iter());
    }
    // List answers in two or three shapes, decoded in one pass instead of as untagged enums
    // (src/api/list_responses.rs).
    for response in [
        "ListClientGrantResponseContent",
        "ListClientGrantOrganizationsResponseContent",
        "ListOrganizationClientGrantsResponseContent",
        "ListClientsResponseContent",
    ] {
        settings.with_replacement(
            response,
            format!("crate::api::list_responses::{response}"),
            std::iter::empty(),
        );
    }
    settings
}

/// What each schema's type gets besides its fields: `Eq` where nothing in it is a float, and
/// `#[non_exhaustive]` on every object (responses' models, and the request bodies the typed
/// mocks take), so that a field Auth0 adds is a minor change for crates that use them: they
/// build them with the generated builders.
fn model_patches(spec: &openapiv3::OpenAPI) -> std::collections::BTreeMap<String, progenitor::TypePatch> {
    let schemas = spec.components.as_ref().map(|components| &components.schemas);
    let mut patches = std::collections::BTreeMap::new();
    for (name, schema) in schemas.into_iter().flatten() {
        let openapiv3::ReferenceOr::Item(schema) = schema else {
            continue;
        };
        let is_object = matches!(
            schema.schema_kind,
            openapiv3::SchemaKind::Type(openapiv3::Type::Object(_))
        );
        let mut patch = progenitor::TypePatch::default();
        if let Some((_, rename)) = MODEL_NAMES.iter().find(|(schema, _)| schema == name) {
            patch.with_rename(*rename);
        }
        if !holds_a_float(spec, name, &mut Vec::new()) {
            patch.with_derive("Eq");
        }
        if is_object {
            patch.with_attr("#[non_exhaustive]");
        }
        patches.insert(name.clone(), patch);
    }
    patches
}

/// The names of the schemas `$ref` points to anywhere in `value`.
fn refs_in(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(fields) => {
            for (key, field) in fields {
                match (key.as_str(), field.as_str()) {
                    ("$ref", Some(target)) => {
                        if let Some(name) = target.strip_prefix("#/components/schemas/") {
                            found.push(name.to_owned());
                        }
                    }
                    _ => refs_in(field, found),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| refs_in(item, found)),
        _ => {}
    }
}

/// The component schema `name` as JSON.
fn schema_json(spec: &openapiv3::OpenAPI, name: &str) -> serde_json::Value {
    let schema = spec
        .components
        .as_ref()
        .and_then(|components| components.schemas.get(name));
    serde_json::to_value(schema).unwrap_or_default()
}

/// Whether schema `name`, or one it refers to, holds a `number` (a float, which is not `Eq`).
fn holds_a_float(spec: &openapiv3::OpenAPI, name: &str, seen: &mut Vec<String>) -> bool {
    if seen.iter().any(|earlier| earlier == name) {
        return false;
    }
    seen.push(name.to_owned());
    let schema = schema_json(spec, name);
    let mut refs = Vec::new();
    refs_in(&schema, &mut refs);
    schema.to_string().contains(r#""type":"number""#)
        || refs.iter().any(|name| holds_a_float(spec, name, seen))
}

/// Each string enum schema of the spec and the name of its open enum.
fn string_enums(spec: &openapiv3::OpenAPI) -> Vec<(String, String)> {
    let schemas = spec.components.as_ref().map(|components| &components.schemas);
    schemas
        .into_iter()
        .flatten()
        .filter_map(|(schema, value)| {
            let openapiv3::ReferenceOr::Item(value) = value else {
                return None;
            };
            let openapiv3::SchemaKind::Type(openapiv3::Type::String(string)) = &value.schema_kind else {
                return None;
            };
            if string.enumeration.is_empty() {
                return None;
            }
            let name = ENUM_NAMES
                .iter()
                .find(|(named, _)| named == schema)
                .map_or_else(|| upper_camel(schema), |(_, name)| (*name).to_owned());
            Some((schema.clone(), name))
        })
        .collect()
}

/// The open enums: one `open_enum!` (src/api/models.rs) for each name of [`string_enums`], with the
/// values of every schema it stands for, in the spec's order.
pub fn generate_open_enums(spec_json: &str) -> Result<String, String> {
    let spec: openapiv3::OpenAPI =
        serde_json::from_str(spec_json).map_err(|e| format!("not an OpenAPI 3.0 document: {e}"))?;
    let mut enums: Vec<(String, String, Vec<String>)> = Vec::new();
    for (schema, name) in string_enums(&spec) {
        let value = schema_json(&spec, &schema);
        let values = value["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|value| value.as_str());
        let index = match enums.iter().position(|(known, _, _)| *known == name) {
            Some(index) => index,
            None => {
                let description = value["description"].as_str().unwrap_or_default();
                enums.push((name.clone(), without_html(description), Vec::new()));
                enums.len() - 1
            }
        };
        for value in values {
            if !enums[index].2.iter().any(|known| known == value) {
                enums[index].2.push(value.to_owned());
            }
        }
    }
    let mut code =
        String::from("// Generated by build.rs from the string enums of spec/client-grants.json.\n");
    for (name, description, values) in enums {
        code.push_str(&format!("open_enum! {{\n    /// {description}\n    {name} {{\n"));
        let mut variants: Vec<String> = Vec::new();
        for value in &values {
            let mut variant = upper_camel(value);
            if variant.is_empty() || variant.starts_with(|c: char| c.is_ascii_digit()) {
                variant.insert(0, 'V');
            }
            while variant == "Unknown" || variants.contains(&variant) {
                variant.push('_');
            }
            code.push_str(&format!(
                "        /// `{value}`\n        {variant} = {value:?},\n"
            ));
            variants.push(variant);
        }
        code.push_str("    }\n}\n");
    }
    Ok(code)
}

/// `text` as one doc line: without HTML tags, and without line breaks.
fn without_html(text: &str) -> String {
    let mut plain = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            '\n' | '\r' => plain.push(' '),
            _ => plain.push(c),
        }
    }
    plain
}

/// `third_party_clients` or `Client-grant type` as `ThirdPartyClients`, `ClientGrantType`.
fn upper_camel(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect()
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
        std::panic::catch_unwind(move || generate(&mut progenitor::Generator::new(&settings(&spec)), &spec));
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
