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
pub fn generate_client(spec_json: &str) -> Result<String, String> {
    run_progenitor(spec_json, |generator, spec| {
        generator.generate_tokens(spec).map(without_api_version_header)
    })
}

/// progenitor adds `api-version` (the spec's `info.version`) to every request; Auth0 reads no
/// such header. Dropping the statement that adds it saves building the header, merging it
/// into the request and taking it out again, on every call; the header map it went into is
/// then sized one smaller, which is no allocation at all for operations without header
/// parameters. The code is matched token by token, so formatting does not matter. Should
/// progenitor change what it writes, nothing here matches and the header is sent as before:
/// tests/get_grant.rs fails then, and no user's build does.
fn without_api_version_header(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    use proc_macro2::{Group, Literal, TokenTree};
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let is_api_version_append = |trees: &[TokenTree]| {
        matches!(
            trees,
            [
                TokenTree::Ident(map),
                TokenTree::Punct(dot),
                TokenTree::Ident(append),
                TokenTree::Group(arguments),
                TokenTree::Punct(semicolon),
                ..,
            ] if map == "header_map"
                && dot.as_char() == '.'
                && append == "append"
                && semicolon.as_char() == ';'
                && arguments.stream().to_string().contains("\"api-version\"")
        )
    };
    let dropped = (0..trees.len()).any(|at| is_api_version_append(&trees[at..]));
    let mut kept = Vec::with_capacity(trees.len());
    let mut at = 0;
    while at < trees.len() {
        if dropped && is_api_version_append(&trees[at..]) {
            at += 5;
            continue;
        }
        kept.push(match &trees[at] {
            // `HeaderMap::with_capacity(N usize)`, counted with the dropped header.
            TokenTree::Group(arguments)
                if dropped
                    && matches!(&trees[..at], [.., TokenTree::Ident(name)] if name == "with_capacity") =>
            {
                let capacity = arguments.stream().to_string();
                match capacity
                    .strip_suffix("usize")
                    .and_then(|number| number.parse::<usize>().ok())
                {
                    Some(capacity) if capacity > 0 => {
                        let smaller = Literal::usize_suffixed(capacity - 1);
                        let mut group = Group::new(arguments.delimiter(), TokenTree::Literal(smaller).into());
                        group.set_span(arguments.span());
                        TokenTree::Group(group)
                    }
                    _ => TokenTree::Group(arguments.clone()),
                }
            }
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), without_api_version_header(group.stream()));
                inner.set_span(group.span());
                TokenTree::Group(inner)
            }
            other => other.clone(),
        });
        at += 1;
    }
    kept.into_iter().collect()
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
    let items = spec.paths.paths.values_mut().filter_map(|item| match item {
        ReferenceOr::Item(item) => Some(item),
        ReferenceOr::Reference { .. } => None,
    });
    let operations = items.flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    });
    for operation in operations {
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
