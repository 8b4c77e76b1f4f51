//! What must hold of `spec/client-grants.json`, checked after the overlay and the rules
//! (`rules.rs`) made it so: a mistake in either fails here, naming the place, instead of
//! silently making the client reject real responses.

use serde_json::{Map, Value};

use super::rules::VALIDATION_KEYWORDS;
use super::schemas::{JSON_SCHEMA, for_each_subschema, responses, schema_uses};

/// Every place in `document` (OpenAPI 3.0, overlay and rules applied) that breaks one of the
/// rules, as `location: problem` lines; empty when the spec is fit for generation.
pub fn lint(document: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for response in responses(document) {
        let schema = document.pointer(&format!("{}{JSON_SCHEMA}", response.pointer));
        if response.is_error && schema.is_none() {
            problems.push(format!(
                "{}: the error response has no JSON schema, so its body would be dropped",
                response.location
            ));
        }
    }
    let uses = schema_uses(document);
    for place in uses.iter().filter(|place| place.response) {
        visit(document, &place.pointer, &place.location, &mut |node, at| {
            check_response_schema(node, at, &mut problems);
        });
    }
    for place in &uses {
        visit(document, &place.pointer, &place.location, &mut |node, at| {
            if node.contains_key("default") {
                problems.push(format!(
                    "{at}: a `default` would be invented by the decoder or always sent"
                ));
            }
        });
    }
    problems
}

/// Calls `check` on the schema at `pointer` and every schema nested in it.
fn visit(document: &Value, pointer: &str, location: &str, check: &mut dyn FnMut(&Map<String, Value>, &str)) {
    let Some(schema) = document.pointer(pointer) else {
        return;
    };
    for_each_subschema(&mut schema.clone(), location, &mut |node, at| check(node, at));
}

/// A response schema must accept unknown properties and must not validate lengths or ranges.
fn check_response_schema(node: &Map<String, Value>, at: &str, problems: &mut Vec<String>) {
    if node.get("additionalProperties") == Some(&Value::Bool(false)) {
        problems.push(format!(
            "{at}: a response schema refuses unknown properties (additionalProperties: false)"
        ));
    }
    for keyword in VALIDATION_KEYWORDS {
        if node.contains_key(keyword) {
            problems.push(format!(
                "{at}: a response schema validates `{keyword}`, which would refuse server data"
            ));
        }
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
