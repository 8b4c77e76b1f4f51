//! Corrections by rule: what holds for every response Auth0 sends, and for every schema, applied
//! after spec/overlay.yaml to every place it concerns, those of schemas Auth0 adds later
//! included. An overlay action names one place; a rule names none, so a new schema under a
//! response needs no new action.
//!
//! The rules cannot be overlay actions: RFC 9535 JSONPath cannot follow `$ref`, so no target
//! selects "every schema a response reaches", and a filter on names would miss the next one.
//! Running after the overlay, they also correct what the overlay adds in Auth0's own words.
//!
//! A schema that both a request and a response reach is one Rust type (typify makes one type
//! per schema), so it cannot be strict for one and tolerant for the other. The response rules
//! win: a response the client refuses cannot be worked around by its user, while the server
//! still checks every request (and `src/api/validate.rs` checks the limits the crate knows before
//! sending). [`apply_rules`] names each such schema it loosened, for a person to look at.

use anyhow::{Result, bail};
use serde_json::{Map, Value, json};

use super::schemas::{for_each_subschema, responses, schema_uses};

/// Keywords that make a generated type refuse data: typify turns them into validated newtypes.
pub const VALIDATION_KEYWORDS: [&str; 11] = [
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
];

/// The schema every error response carries; spec/overlay.yaml defines it, from what Auth0 sends.
pub const ERROR_BODY: &str = "ErrorBody";

/// Applies every rule to `document` (OpenAPI 3.0, the overlay applied). Returns a note for each
/// schema that a request reaches too and that the response rules changed.
pub fn apply_rules(document: &mut Value) -> Result<Vec<String>> {
    give_error_responses_a_body(document)?;
    drop_what_nothing_reaches(document);
    let mut notes = Vec::new();
    for place in schema_uses(document) {
        let schema = document
            .pointer_mut(&place.pointer)
            .expect("schema_uses lists only places that exist");
        let mut loosened = Vec::new();
        for_each_subschema(schema, &place.location, &mut |node, _| {
            if place.response {
                decode_what_is_sent(node, &mut loosened);
            }
            if place.request {
                build_without_other_crates(node);
            }
            invent_nothing(node);
            list_each_value_once(node);
        });
        if place.request && !loosened.is_empty() {
            loosened.sort();
            loosened.dedup();
            notes.push(format!(
                "{} is sent in requests and decoded from responses: as a response it no longer \
                 checks {}, in requests either; the server still does",
                place.location,
                loosened.join(", ")
            ));
        }
    }
    Ok(notes)
}

/// A component schema that no operation reaches is dropped. progenitor makes a type of every
/// component schema, and build.rs a public enum of every string enum: a schema the overlay
/// cut off (the hundred that the full application object reaches, a copy merged into another)
/// would still be generated, compiled and promised to users.
fn drop_what_nothing_reaches(document: &mut Value) {
    let reached: std::collections::BTreeSet<String> = schema_uses(document)
        .into_iter()
        .filter(|place| place.request || place.response)
        .filter_map(|place| {
            place
                .location
                .strip_prefix("#/components/schemas/")
                .map(str::to_owned)
        })
        .collect();
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.retain(|name, _| reached.contains(name));
    }
}

/// Responses decode whatever Auth0 sends. `additionalProperties: false` would become
/// `deny_unknown_fields`, and the live API sends fields the spec does not list (`subject_type` on
/// organization grants, tests/fixtures/live/) and adds more in every release. Length, count,
/// range and pattern limits, and string formats (`date-time` becomes a chrono type, `ipv4` a
/// parsed address), would become types that fail the decoding of a whole response over one
/// value: what Auth0 sends is decoded as sent. Integer formats stay: they choose the width.
/// Records in `loosened` each keyword it removed.
fn decode_what_is_sent(node: &mut Map<String, Value>, loosened: &mut Vec<String>) {
    if node.get("additionalProperties") == Some(&Value::Bool(false)) {
        node.insert("additionalProperties".into(), Value::Bool(true));
        loosened.push("additionalProperties: false".into());
    }
    for keyword in VALIDATION_KEYWORDS {
        if node.remove(keyword).is_some() {
            loosened.push(keyword.into());
        }
    }
    if node.get("type") == Some(&Value::from("string")) && node.remove("format").is_some() {
        loosened.push("format".into());
    }
}

/// Requests keep their limits, except those whose generated code needs a crate the client does
/// not depend on: a `pattern` needs `regress`, `date` and `date-time` need `chrono`, `uuid`
/// needs `uuid`. The value is sent as a plain string, and the server checks it.
fn build_without_other_crates(node: &mut Map<String, Value>) {
    node.remove("pattern");
    if node.get("type") == Some(&Value::from("string"))
        && let Some(format) = node.get("format").and_then(Value::as_str)
        && ["date", "date-time", "uuid"].contains(&format)
    {
        node.remove("format");
    }
}

/// No schema has a `default`. Auth0's defaults are examples (`Organization.name` is
/// "organization-1") or the server's own choice (`allow_any_organization: false` on create):
/// a generated decoder would invent the value when a response leaves it out, and a generated
/// request would always send it, overriding the server (Auth0's docs and AUTH0-FACTS).
fn invent_nothing(node: &mut Map<String, Value>) {
    node.remove("default");
}

/// An `enum` or `required` list names each value once. An overlay `update` appends to a list
/// (Overlay 1.0, section 4.4.3.1), so a correction that adds a value Auth0 comes to list too
/// (`anonymous_user`) would name it twice; folded, the correction is reported redundant instead.
fn list_each_value_once(node: &mut Map<String, Value>) {
    for keyword in ["enum", "required"] {
        if let Some(values) = node.get_mut(keyword).and_then(Value::as_array_mut) {
            let mut seen = Vec::new();
            values.retain(|value| {
                let first = !seen.contains(value);
                if first {
                    seen.push(value.clone());
                }
                first
            });
        }
    }
}

/// Every 4xx and 5xx response carries the shared error body. No error response has a schema
/// upstream, and progenitor drops a body without one, losing Auth0's `message` and `errorCode`
/// (AUTH0-FACTS); a status Auth0 documents later gets the body too.
fn give_error_responses_a_body(document: &mut Value) -> Result<()> {
    let error_body = format!("#/components/schemas/{ERROR_BODY}");
    let mut missing = Vec::new();
    for response in responses(document)
        .into_iter()
        .filter(|response| response.is_error)
    {
        let object = document
            .pointer_mut(&response.pointer)
            .and_then(Value::as_object_mut);
        let Some(object) = object else { continue };
        let json = object
            .get("content")
            .and_then(|content| content.get("application/json"));
        if json.is_some_and(|media| media.get("schema").is_some()) {
            continue;
        }
        let content = object.entry("content").or_insert_with(|| json!({}));
        if let Some(content) = content.as_object_mut() {
            content.insert("application/json".into(), json!({"schema": {"$ref": error_body}}));
        }
        missing.push(response.location);
    }
    if !missing.is_empty()
        && document
            .pointer(&format!("/components/schemas/{ERROR_BODY}"))
            .is_none()
    {
        bail!(
            "the error responses ({}) refer to the schema {ERROR_BODY}, which spec/overlay.yaml no longer defines",
            missing.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document with one operation: a request body and a response that share `Shared`, a
    /// response-only `Answer` holding `Nested`, a request-only `Request`, and a 404.
    fn document() -> Value {
        json!({
            "openapi": "3.0.3",
            "paths": {"/things": {"post": {
                "parameters": [{"name": "q", "in": "query", "schema": {"type": "string", "pattern": "^a$"}}],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Request"}}}},
                "responses": {
                    "201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Answer"}}}},
                    "404": {"description": "Not found."}
                }
            }}},
            "components": {"schemas": {
                "Answer": {"type": "object", "additionalProperties": false, "required": ["id", "id"], "properties": {
                    "id": {"type": "string", "maxLength": 50, "format": "date-time", "default": "example"},
                    "count": {"type": "integer", "format": "int32", "minimum": 1},
                    "nested": {"$ref": "#/components/schemas/Nested"},
                    "shared": {"$ref": "#/components/schemas/Shared"}
                }},
                "Nested": {"type": "object", "additionalProperties": false, "properties": {
                    "tags": {"type": "array", "maxItems": 3, "items": {"type": "string", "pattern": "^[a-z]+$"}}
                }},
                "Shared": {"type": "string", "enum": ["a", "b", "a"], "maxLength": 1},
                "Request": {"type": "object", "additionalProperties": false, "properties": {
                    "name": {"type": "string", "maxLength": 50, "pattern": "^[a-z]+$", "default": "x"},
                    "at": {"type": "string", "format": "date-time"},
                    "kind": {"type": "string", "format": "organization-id"},
                    "shared": {"$ref": "#/components/schemas/Shared"}
                }},
                "ErrorBody": {"type": "object", "properties": {"message": {"type": "string"}}}
            }}
        })
    }

    #[test]
    fn every_schema_a_response_reaches_decodes_what_is_sent_and_invents_nothing() {
        let mut document = document();
        apply_rules(&mut document).unwrap();
        let schemas = &document["components"]["schemas"];
        assert_eq!(
            schemas["Answer"],
            json!({"type": "object", "additionalProperties": true, "required": ["id"], "properties": {
                "id": {"type": "string"},
                "count": {"type": "integer", "format": "int32"},
                "nested": {"$ref": "#/components/schemas/Nested"},
                "shared": {"$ref": "#/components/schemas/Shared"}
            }})
        );
        assert_eq!(
            schemas["Nested"],
            json!({"type": "object", "additionalProperties": true, "properties": {
                "tags": {"type": "array", "items": {"type": "string"}}
            }})
        );
    }

    #[test]
    fn request_schemas_stay_strict_but_need_no_other_crate() {
        let mut document = document();
        apply_rules(&mut document).unwrap();
        assert_eq!(
            document["components"]["schemas"]["Request"],
            json!({"type": "object", "additionalProperties": false, "properties": {
                "name": {"type": "string", "maxLength": 50},
                "at": {"type": "string"},
                "kind": {"type": "string", "format": "organization-id"},
                "shared": {"$ref": "#/components/schemas/Shared"}
            }})
        );
        assert_eq!(
            document["paths"]["/things"]["post"]["parameters"][0]["schema"],
            json!({"type": "string"})
        );
    }

    #[test]
    fn a_schema_both_sides_reach_is_loosened_as_a_response_and_named() {
        let mut document = document();
        let notes = apply_rules(&mut document).unwrap();
        assert_eq!(
            document["components"]["schemas"]["Shared"],
            json!({"type": "string", "enum": ["a", "b"]})
        );
        assert_eq!(
            notes,
            [
                "#/components/schemas/Shared is sent in requests and decoded from responses: as a response \
              it no longer checks maxLength, in requests either; the server still does"
            ]
        );
    }

    #[test]
    fn every_error_response_carries_the_error_body() {
        let mut document = document();
        apply_rules(&mut document).unwrap();
        assert_eq!(
            document["paths"]["/things"]["post"]["responses"]["404"],
            json!({"description": "Not found.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}})
        );

        let mut without = self::document();
        without["components"]["schemas"]
            .as_object_mut()
            .unwrap()
            .remove("ErrorBody");
        assert_eq!(
            apply_rules(&mut without).unwrap_err().to_string(),
            "the error responses (POST /things 404) refer to the schema ErrorBody, which spec/overlay.yaml no longer defines"
        );
    }

    #[test]
    fn a_schema_no_operation_reaches_is_dropped() {
        let mut document = document();
        let schemas = document["components"]["schemas"].as_object_mut().unwrap();
        schemas.insert(
            "Unreached".into(),
            json!({"type": "object", "properties": {
                "also": {"$ref": "#/components/schemas/AlsoUnreached"}
            }}),
        );
        schemas.insert("AlsoUnreached".into(), json!({"type": "string", "enum": ["x"]}));
        apply_rules(&mut document).unwrap();
        let names: Vec<&String> = document["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(names, ["Answer", "ErrorBody", "Nested", "Request", "Shared"]);
    }

    #[test]
    fn the_rules_change_nothing_the_second_time() {
        let mut once = document();
        apply_rules(&mut once).unwrap();
        let mut twice = once.clone();
        assert_eq!(apply_rules(&mut twice).unwrap(), Vec::<String>::new());
        assert_eq!(twice, once);
    }
}
