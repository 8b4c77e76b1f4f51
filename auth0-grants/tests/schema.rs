//! The grants file's JSON Schema: derived from the types the file is read into, committed as
//! `grants.schema.json` for editors, and true to what the parser accepts.

use std::path::{Path, PathBuf};

use auth0_grants::reconcile::DesiredState;
use serde_json::Value;

fn package_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn committed_schema() -> Value {
    let text = std::fs::read_to_string(package_file("grants.schema.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The TOML file as the JSON an editor's validator sees.
fn as_json(toml_text: &str) -> Value {
    toml::from_str(toml_text).unwrap()
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&committed_schema()).unwrap()
}

#[test]
fn the_committed_schema_is_the_one_the_types_make() {
    let made = format!(
        "{}\n",
        serde_json::to_string_pretty(&DesiredState::json_schema()).unwrap()
    );
    let committed = std::fs::read_to_string(package_file("grants.schema.json")).unwrap();
    assert!(
        made == committed,
        "auth0-grants/grants.schema.json is not current: run \
         `cargo run -p auth0-grants -- schema > auth0-grants/grants.schema.json`"
    );
}

#[test]
fn the_example_names_the_committed_schema_and_follows_it() {
    let example = std::fs::read_to_string(package_file("examples/grants.toml")).unwrap();
    let directive = example.lines().next().unwrap();
    let path = directive
        .strip_prefix("#:schema ")
        .unwrap_or_else(|| panic!("the example starts with taplo's #:schema directive: {directive}"));
    let named = package_file("examples").join(path);
    assert_eq!(
        named.canonicalize().unwrap(),
        package_file("grants.schema.json").canonicalize().unwrap()
    );

    let errors: Vec<String> = validator()
        .iter_errors(&as_json(&example))
        .map(|error| error.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(DesiredState::from_toml(&example).is_ok());
}

#[test]
fn the_schema_refuses_what_the_parser_refuses() {
    let validator = validator();
    let grant = |rest: &str| format!("[[grant]]\naudience = \"https://api.example.com/\"\n{rest}\n");
    for refused in [
        grant("client_id = \"app\"\nscopes = [\"read:a\"]"),
        grant("client_id = \"app\"\norganization_usage = \"alow\""),
        grant("client_id = \"app\"\nscope = [\"read:a\", \"read:a\"]"),
        grant("client_id = \"app\"\nscope = [\"\"]"),
        grant("client_id = \"app\"\nscope = [\"read:a\"]\nallow_all_scopes = true"),
        grant("client_id = \"app\"\norganization_usage = \"deny\"\norganizations = [\"org_1\"]"),
        grant("scope = [\"read:a\"]"),
        grant("client_id = \"app\"\ndefault_for = \"third_party_clients\""),
        grant("client = \"Billing Service\"\nclient_id = \"app\""),
        grant("client = \"\""),
        "[[grants]]\nclient_id = \"app\"\naudience = \"x\"\n".to_owned(),
    ] {
        assert!(
            !validator.is_valid(&as_json(&refused)),
            "the schema accepts:\n{refused}"
        );
        assert!(
            DesiredState::from_toml(&refused).is_err(),
            "the parser accepts:\n{refused}"
        );
    }
    for accepted in [
        grant("default_for = \"third_party_clients\"\nallow_all_scopes = true"),
        grant("client = \"Billing Service\""),
    ] {
        assert!(validator.is_valid(&as_json(&accepted)), "{accepted}");
        assert!(DesiredState::from_toml(&accepted).is_ok(), "{accepted}");
    }
}

#[test]
fn a_typo_in_a_field_name_is_refused_by_the_schema_naming_the_field() {
    let typo = "[[grant]]\nclient_id = \"app\"\naudience = \"x\"\nscopes = [\"read:a\"]\n";
    let errors: Vec<String> = validator()
        .iter_errors(&as_json(typo))
        .map(|error| error.to_string())
        .collect();
    assert!(errors.iter().any(|error| error.contains("scopes")), "{errors:#?}");
}
