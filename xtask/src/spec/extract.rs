//! Cuts the client-grant operations, and everything they reach, out of Auth0's whole document.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};

use super::operations::{HTTP_METHODS, Operation};

/// Returns the subset of `upstream` that holds exactly `operations` and every component they
/// reach, transitively, with all values copied verbatim.
pub fn extract_subset(upstream: &Value, operations: &[Operation]) -> Result<Value> {
    let document = upstream
        .as_object()
        .context("the upstream document is not a JSON object")?;
    let paths = document
        .get("paths")
        .and_then(Value::as_object)
        .context("the upstream document has no `paths` object")?;
    let found = index_operations(paths);

    let mut subset_paths = Map::new();
    let mut security_schemes = BTreeSet::new();
    for wanted in operations {
        let (path, method) = found.get(wanted.operation_id).ok_or_else(|| {
            anyhow!(
                "the upstream document lacks operation `{}` ({} {})",
                wanted.operation_id,
                wanted.method.to_uppercase(),
                wanted.path
            )
        })?;
        if (path.as_str(), method.as_str()) != (wanted.path, wanted.method) {
            bail!(
                "operation `{}` moved upstream from {} {} to {} {}: update xtask/src/spec/operations.rs and the client",
                wanted.operation_id,
                wanted.method.to_uppercase(),
                wanted.path,
                method.to_uppercase(),
                path
            );
        }
        let source_item = &paths[path.as_str()];
        let item = subset_paths
            .entry(path.clone())
            .or_insert_with(|| Value::Object(path_item_without_operations(source_item)));
        let operation = &source_item[method.as_str()];
        item[method.as_str()] = operation.clone();
        security_schemes.extend(security_scheme_names(operation));
    }
    security_schemes.extend(security_scheme_names(upstream));

    let mut subset = Map::new();
    for key in ["openapi", "info", "servers", "security", "externalDocs"] {
        if let Some(value) = document.get(key) {
            subset.insert(key.to_owned(), value.clone());
        }
    }
    let components = reachable_components(upstream, &Value::Object(subset_paths.clone()), &security_schemes)?;
    subset.insert("paths".to_owned(), Value::Object(subset_paths));
    subset.insert("components".to_owned(), components);
    Ok(Value::Object(subset))
}

/// Maps every operationId of the document to its path and method.
fn index_operations(paths: &Map<String, Value>) -> BTreeMap<String, (String, String)> {
    let mut index = BTreeMap::new();
    for (path, item) in paths {
        for method in HTTP_METHODS {
            if let Some(id) = item
                .get(method)
                .and_then(|op| op.get("operationId"))
                .and_then(Value::as_str)
            {
                index.insert(id.to_owned(), (path.clone(), method.to_owned()));
            }
        }
    }
    index
}

/// A path item's shared parts (parameters, summary, servers) without any of its operations.
fn path_item_without_operations(item: &Value) -> Map<String, Value> {
    item.as_object()
        .map(|fields| {
            fields
                .iter()
                .filter(|(key, _)| !HTTP_METHODS.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The names of the security schemes named by `holder.security`.
fn security_scheme_names(holder: &Value) -> BTreeSet<String> {
    holder
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|requirement| requirement.keys().cloned())
        .collect()
}

/// The `components` object holding every component that `root` reaches through `$ref`,
/// transitively, plus the named security schemes.
fn reachable_components(
    upstream: &Value,
    root: &Value,
    security_schemes: &BTreeSet<String>,
) -> Result<Value> {
    let mut seen = BTreeSet::new();
    let mut pending = Vec::new();
    collect_refs(root, &mut pending);
    let mut components = Map::new();
    while let Some(reference) = pending.pop() {
        if !seen.insert(reference.clone()) {
            continue;
        }
        let (section, name) = parse_component_ref(&reference)?;
        let target = upstream
            .pointer(&format!("/components/{section}/{}", escape_pointer(name)))
            .with_context(|| format!("`{reference}` points at nothing in the upstream document"))?;
        collect_refs(target, &mut pending);
        components
            .entry(section.to_owned())
            .or_insert_with(|| Value::Object(Map::new()))[name] = target.clone();
    }
    for name in security_schemes {
        let scheme = upstream
            .pointer(&format!("/components/securitySchemes/{}", escape_pointer(name)))
            .with_context(|| format!("security scheme `{name}` is not defined upstream"))?;
        components
            .entry("securitySchemes".to_owned())
            .or_insert_with(|| Value::Object(Map::new()))[name.as_str()] = scheme.clone();
    }
    Ok(Value::Object(components))
}

fn collect_refs(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (key, child) in fields {
                match (key.as_str(), child) {
                    ("$ref", Value::String(reference)) => into.push(reference.clone()),
                    _ => collect_refs(child, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, into)),
        _ => {}
    }
}

/// Splits `#/components/<section>/<name>` into its section and (unescaped) name.
fn parse_component_ref(reference: &str) -> Result<(&str, &str)> {
    let rest = reference
        .strip_prefix("#/components/")
        .with_context(|| format!("`{reference}` is not a local component reference"))?;
    let (section, name) = rest
        .split_once('/')
        .with_context(|| format!("`{reference}` names no component"))?;
    if name.contains('~') || name.contains('/') {
        bail!("`{reference}` uses JSON-pointer escapes, which this extractor does not support");
    }
    Ok((section, name))
}

fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::spec::operations::Operation;

    const LIST: Operation = Operation {
        method: "get",
        path: "/things",
        operation_id: "list_things",
    };

    fn upstream() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/things": {
                    "parameters": [{"$ref": "#/components/parameters/Shared"}],
                    "get": {"operationId": "list_things", "security": [{"bearer": []}],
                            "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}},
                    "post": {"operationId": "create_thing", "responses": {"201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Unrelated"}}}}}}
                },
                "/other": {"get": {"operationId": "other"}}
            },
            "components": {
                "parameters": {"Shared": {"name": "q", "in": "query", "schema": {"type": "string"}}},
                "schemas": {
                    "Thing": {"type": "object", "properties": {"part": {"$ref": "#/components/schemas/Part"}}},
                    "Part": {"type": "string"},
                    "Unrelated": {"type": "string"}
                },
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "unused": {"type": "http"}}
            }
        })
    }

    #[test]
    fn keeps_the_wanted_operation_and_everything_it_reaches_and_nothing_else() {
        let subset = extract_subset(&upstream(), &[LIST]).unwrap();

        assert_eq!(
            subset["paths"].as_object().unwrap().keys().collect::<Vec<_>>(),
            ["/things"]
        );
        assert!(subset["paths"]["/things"].get("post").is_none());
        assert_eq!(
            subset["paths"]["/things"]["parameters"][0]["$ref"],
            "#/components/parameters/Shared"
        );
        let schemas = subset["components"]["schemas"].as_object().unwrap();
        assert_eq!(schemas.keys().collect::<Vec<_>>(), ["Part", "Thing"]);
        assert_eq!(subset["components"]["parameters"]["Shared"]["name"], "q");
        let schemes = subset["components"]["securitySchemes"].as_object().unwrap();
        assert_eq!(schemes.keys().collect::<Vec<_>>(), ["bearer"]);
    }

    #[test]
    fn a_missing_operation_is_named() {
        let missing = Operation {
            method: "get",
            path: "/gone",
            operation_id: "gone",
        };
        let error = extract_subset(&upstream(), &[missing]).unwrap_err().to_string();
        assert_eq!(error, "the upstream document lacks operation `gone` (GET /gone)");
    }

    #[test]
    fn a_moved_operation_is_named_with_both_places() {
        let moved = Operation {
            method: "get",
            path: "/old-things",
            operation_id: "list_things",
        };
        let error = extract_subset(&upstream(), &[moved]).unwrap_err().to_string();
        assert!(
            error.starts_with("operation `list_things` moved upstream from GET /old-things to GET /things"),
            "{error}"
        );
    }

    #[test]
    fn a_dangling_reference_is_an_error() {
        let mut document = upstream();
        document["components"]["schemas"]
            .as_object_mut()
            .unwrap()
            .remove("Part");
        let error = extract_subset(&document, &[LIST]).unwrap_err().to_string();
        assert_eq!(
            error,
            "`#/components/schemas/Part` points at nothing in the upstream document"
        );
    }
}
