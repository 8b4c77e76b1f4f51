//! Holds JSON bodies to the contract: the response schema an operation documents in
//! `spec/client-grants.json` (what the client is generated from), and the one in Auth0's own
//! published subset `spec/upstream/` (to prove where the live API differs from it).
//!
//! Validation against our spec is strict: the overlay lets the client tolerate fields Auth0
//! adds later, but a fixture or a fake-tenant response must not carry fields the spec does not
//! list, or the contract tests would pass on shapes nobody documented.

use serde_json::{Map, Value, json};

const OURS: &str = include_str!("../../spec/client-grants.json");
const UPSTREAM: &str = include_str!("../../spec/upstream/management-api-oas.client-grants.json");

/// Whether `body`, answered by `operation_id` with `status`, matches our spec (strictly);
/// the list of violations, each naming the JSON path.
pub fn violations(operation_id: &str, status: u16, body: &Value) -> Vec<String> {
    let mut spec: Value = serde_json::from_str(OURS).expect("spec/client-grants.json is JSON");
    to_strict_json_schema(&mut spec["components"]);
    validate(&spec, operation_id, status, body)
}

/// The same against Auth0's published (OpenAPI 3.1, already JSON Schema) document.
pub fn upstream_violations(operation_id: &str, status: u16, body: &Value) -> Vec<String> {
    let spec: Value = serde_json::from_str(UPSTREAM).expect("the upstream subset is JSON");
    validate(&spec, operation_id, status, body)
}

/// Fails the test, naming every violation, unless `body` matches our spec.
#[track_caller]
pub fn assert_matches(operation_id: &str, status: u16, body: &Value) {
    let problems = violations(operation_id, status, body);
    assert!(
        problems.is_empty(),
        "{operation_id} {status}: the body does not match spec/client-grants.json:\n  {}\nbody: {body}",
        problems.join("\n  ")
    );
}

fn validate(spec: &Value, operation_id: &str, status: u16, body: &Value) -> Vec<String> {
    let schema = response_schema(spec, operation_id, status);
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [schema],
        "components": spec["components"],
    });
    let validator = jsonschema::draft202012::new(&root)
        .unwrap_or_else(|error| panic!("the schema of {operation_id} {status} is not JSON Schema: {error}"));
    validator
        .iter_errors(body)
        .map(|error| format!("at {}: {error}", error.instance_path()))
        .collect()
}

fn response_schema(spec: &Value, operation_id: &str, status: u16) -> Value {
    let operation = spec["paths"]
        .as_object()
        .into_iter()
        .flat_map(Map::values)
        .filter_map(Value::as_object)
        .flat_map(Map::values)
        .find(|operation| operation["operationId"] == operation_id)
        .unwrap_or_else(|| panic!("no operation {operation_id} in the spec"));
    operation["responses"][status.to_string()]["content"]["application/json"]["schema"]
        .clone()
        .as_object()
        .map(|schema| Value::Object(schema.clone()))
        .unwrap_or_else(|| panic!("{operation_id} documents no JSON body for {status}"))
}

/// OpenAPI 3.0 `nullable` becomes JSON Schema's `null` type, and every object schema with
/// listed properties refuses unlisted ones (unless it gives them a schema of their own).
fn to_strict_json_schema(node: &mut Value) {
    match node {
        Value::Object(fields) => {
            if fields.remove("nullable") == Some(Value::Bool(true)) {
                let inner = Value::Object(std::mem::take(fields));
                fields.insert("anyOf".into(), json!([inner, {"type": "null"}]));
            }
            let open = fields.get("additionalProperties").is_none_or(Value::is_boolean);
            if fields.contains_key("properties") && open {
                fields.insert("additionalProperties".into(), Value::Bool(false));
            }
            fields.values_mut().for_each(to_strict_json_schema);
        }
        Value::Array(items) => items.iter_mut().for_each(to_strict_json_schema),
        _ => {}
    }
}
