//! What must hold of `spec/client-grants.json` after the overlay, whatever Auth0 publishes next.
//! A refresh that brings a new field with a length limit, a `default` or a closed object fails
//! here, naming the place, instead of silently making the client reject real answers.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::operations::HTTP_METHODS;

/// Keywords that make generated response types refuse data the server may send.
const RESPONSE_VALIDATION_KEYWORDS: [&str; 9] = [
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minimum",
    "maximum",
];

/// Every place in `document` (OpenAPI 3.0, overlay applied) that breaks one of the rules, as
/// `location: problem` lines; empty when the spec is fit for generation.
pub fn lint(document: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let schemas = document.pointer("/components/schemas").and_then(Value::as_object);
    let empty = Map::new();
    let schemas = schemas.unwrap_or(&empty);

    let mut response_roots = Vec::new();
    for (path, item) in document.get("paths").and_then(Value::as_object).unwrap_or(&empty) {
        for method in HTTP_METHODS {
            let Some(responses) = item
                .get(method)
                .and_then(|op| op.get("responses"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            for (status, response) in responses {
                let location = format!("{} {path} {status}", method.to_uppercase());
                let schema = response.pointer("/content/application~1json/schema");
                if (status.starts_with('4') || status.starts_with('5')) && schema.is_none() {
                    problems.push(format!(
                        "{location}: the error response has no JSON schema, so its body would be dropped"
                    ));
                }
                if let Some(schema) = schema {
                    response_roots.push((location, schema));
                }
            }
        }
    }

    let mut response_schemas = BTreeSet::new();
    for (location, schema) in &response_roots {
        check_response_schema(schema, location, &mut problems);
        collect_reachable(schema, schemas, &mut response_schemas);
    }
    for name in &response_schemas {
        check_response_schema(
            &schemas[name.as_str()],
            &format!("#/components/schemas/{name}"),
            &mut problems,
        );
    }
    for (name, schema) in schemas {
        check_defaults(schema, &format!("#/components/schemas/{name}"), &mut problems);
    }
    problems
}

/// A response schema must accept unknown properties and must not validate lengths or ranges.
fn check_response_schema(schema: &Value, location: &str, problems: &mut Vec<String>) {
    for_each_subschema(schema, location, &mut |node, at| {
        if node.get("additionalProperties") == Some(&Value::Bool(false)) {
            problems.push(format!(
                "{at}: a response schema refuses unknown properties (additionalProperties: false)"
            ));
        }
        for keyword in RESPONSE_VALIDATION_KEYWORDS {
            if node.contains_key(keyword) {
                problems.push(format!(
                    "{at}: a response schema validates `{keyword}`, which would refuse server data"
                ));
            }
        }
    });
}

/// No schema may carry a `default`: generated code would invent the value on decoding or force
/// it onto the wire.
fn check_defaults(schema: &Value, location: &str, problems: &mut Vec<String>) {
    for_each_subschema(schema, location, &mut |node, at| {
        if node.contains_key("default") {
            problems.push(format!(
                "{at}: a `default` would be invented by the decoder or always sent"
            ));
        }
    });
}

/// Calls `visit` on `schema` and each schema nested in it (not following `$ref`).
fn for_each_subschema(schema: &Value, location: &str, visit: &mut dyn FnMut(&Map<String, Value>, &str)) {
    let Some(node) = schema.as_object() else { return };
    visit(node, location);
    if let Some(properties) = node.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            for_each_subschema(property, &format!("{location}/properties/{name}"), visit);
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = node.get(key) {
            for_each_subschema(child, &format!("{location}/{key}"), visit);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for (index, child) in node
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            for_each_subschema(child, &format!("{location}/{key}/{index}"), visit);
        }
    }
}

/// Adds to `into` the names of the component schemas `schema` reaches, transitively.
fn collect_reachable(schema: &Value, schemas: &Map<String, Value>, into: &mut BTreeSet<String>) {
    match schema {
        Value::Object(fields) => {
            for (key, child) in fields {
                if let ("$ref", Value::String(reference)) = (key.as_str(), child) {
                    if let Some(name) = reference.strip_prefix("#/components/schemas/")
                        && into.insert(name.to_owned())
                        && let Some(target) = schemas.get(name)
                    {
                        collect_reachable(target, schemas, into);
                    }
                } else {
                    collect_reachable(child, schemas, into);
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_reachable(item, schemas, into)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn document(response: Value, schemas: Value) -> Value {
        json!({
            "paths": {"/a": {"get": {"responses": response}}},
            "components": {"schemas": schemas}
        })
    }

    #[test]
    fn a_clean_document_has_no_problems() {
        let doc = document(
            json!({
                "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                "404": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }),
            json!({
                "Thing": {"type": "object", "properties": {"name": {"type": "string"}}},
                "Error": {"type": "object"},
                "Request": {"type": "object", "additionalProperties": false, "properties": {"s": {"type": "string", "maxLength": 3}}}
            }),
        );
        assert_eq!(lint(&doc), Vec::<String>::new());
    }

    #[test]
    fn every_rule_names_its_place() {
        let doc = document(
            json!({
                "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                "404": {"description": "no schema"}
            }),
            json!({
                "Thing": {"type": "object", "additionalProperties": false,
                          "properties": {"part": {"$ref": "#/components/schemas/Part"}}},
                "Part": {"type": "object", "properties": {"name": {"type": "string", "minLength": 1, "default": "x"}}}
            }),
        );
        assert_eq!(
            lint(&doc),
            [
                "GET /a 404: the error response has no JSON schema, so its body would be dropped",
                "#/components/schemas/Part/properties/name: a response schema validates `minLength`, which would refuse server data",
                "#/components/schemas/Thing: a response schema refuses unknown properties (additionalProperties: false)",
                "#/components/schemas/Part/properties/name: a `default` would be invented by the decoder or always sent",
            ]
        );
    }
}
