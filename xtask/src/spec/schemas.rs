//! Where the schemas of an OpenAPI 3.0 document are used: the schemas nested in one, and the
//! component schemas that requests and responses reach through `$ref`.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::operations::HTTP_METHODS;

/// Where the JSON body schema of a response (or a request body) sits below it.
pub const JSON_SCHEMA: &str = "/content/application~1json/schema";

/// One documented response of one operation.
pub struct Response {
    /// A JSON pointer to the response object in the document.
    pub pointer: String,
    /// The place as a person reads it: `GET /client-grants 200`.
    pub location: String,
    /// A 4xx or 5xx status.
    pub is_error: bool,
}

/// Every documented response of every operation.
pub fn responses(document: &Value) -> Vec<Response> {
    let mut found = Vec::new();
    for (path, method, operation) in operations(document) {
        for status in operation
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(Map::keys)
        {
            found.push(Response {
                pointer: format!("/paths/{}/{method}/responses/{}", escape(path), escape(status)),
                location: format!("{} {path} {status}", method.to_uppercase()),
                is_error: status.starts_with('4') || status.starts_with('5'),
            });
        }
    }
    found
}

/// One place a schema is written, and who uses it.
#[derive(Debug, PartialEq, Eq)]
pub struct SchemaUse {
    /// A JSON pointer to the schema in the document.
    pub pointer: String,
    /// The place as a person reads it: `#/components/schemas/Organization`,
    /// `GET /client-grants 200`.
    pub location: String,
    /// A request body or a parameter reaches it.
    pub request: bool,
    /// A response body reaches it.
    pub response: bool,
}

/// Every schema written in an operation (request bodies, parameters, response bodies) and
/// every component schema, each with the sides that reach it: a component is reached by a
/// request or a response when one refers to it, directly or through other components.
pub fn schema_uses(document: &Value) -> Vec<SchemaUse> {
    let empty = Map::new();
    let components = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let (mut from_requests, mut from_responses) = (BTreeSet::new(), BTreeSet::new());
    let mut uses = Vec::new();
    let mut inline = |pointer: String, location: String, request: bool| {
        if let Some(schema) = document.pointer(&pointer) {
            let reached = if request {
                &mut from_requests
            } else {
                &mut from_responses
            };
            collect_reachable(schema, components, reached);
            uses.push(SchemaUse {
                pointer,
                location,
                request,
                response: !request,
            });
        }
    };
    for (path, item) in document
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let item_pointer = format!("/paths/{}", escape(path));
        for (index, _) in parameters(item).enumerate() {
            inline(
                format!("{item_pointer}/parameters/{index}/schema"),
                format!("{path} parameter {index}"),
                true,
            );
        }
        for method in HTTP_METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let at = format!("{} {path}", method.to_uppercase());
            for (index, _) in parameters(operation).enumerate() {
                inline(
                    format!("{item_pointer}/{method}/parameters/{index}/schema"),
                    format!("{at} parameter {index}"),
                    true,
                );
            }
            inline(
                format!("{item_pointer}/{method}/requestBody{JSON_SCHEMA}"),
                format!("{at} request body"),
                true,
            );
            for status in operation
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(Map::keys)
            {
                inline(
                    format!(
                        "{item_pointer}/{method}/responses/{}{JSON_SCHEMA}",
                        escape(status)
                    ),
                    format!("{at} {status}"),
                    false,
                );
            }
        }
    }
    for name in components.keys() {
        uses.push(SchemaUse {
            pointer: format!("/components/schemas/{}", escape(name)),
            location: format!("#/components/schemas/{name}"),
            request: from_requests.contains(name),
            response: from_responses.contains(name),
        });
    }
    uses
}

/// The parameters listed by a path item or an operation.
fn parameters(owner: &Value) -> impl Iterator<Item = &Value> {
    owner
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Every operation of `document` as (path, method, operation).
fn operations(document: &Value) -> impl Iterator<Item = (&String, &'static str, &Value)> {
    document
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            HTTP_METHODS
                .iter()
                .filter_map(move |method| item.get(*method).map(|operation| (path, *method, operation)))
        })
}

/// `segment` escaped for a JSON pointer (RFC 6901).
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Calls `visit` on `schema` and each schema nested in it (not following `$ref`), with its
/// location below `location`.
pub fn for_each_subschema(
    schema: &mut Value,
    location: &str,
    visit: &mut dyn FnMut(&mut Map<String, Value>, &str),
) {
    let Some(node) = schema.as_object_mut() else {
        return;
    };
    visit(node, location);
    if let Some(properties) = node.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, property) in properties.iter_mut() {
            for_each_subschema(property, &format!("{location}/properties/{name}"), visit);
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = node.get_mut(key) {
            for_each_subschema(child, &format!("{location}/{key}"), visit);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for (index, child) in node
            .get_mut(key)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .enumerate()
        {
            for_each_subschema(child, &format!("{location}/{key}/{index}"), visit);
        }
    }
}

/// Adds to `into` the names of the component schemas `value` reaches, transitively.
fn collect_reachable(value: &Value, schemas: &Map<String, Value>, into: &mut BTreeSet<String>) {
    match value {
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
