//! Turns the OpenAPI 3.1 subset into the OpenAPI 3.0.3 that progenitor (through `openapiv3`)
//! reads, and keeps only the JSON request bodies, since progenitor panics on a body offered in
//! two media types.

use anyhow::{Result, bail};
use serde_json::{Map, Value};

use super::operations::HTTP_METHODS;

/// The OpenAPI version of the document `build.rs` reads.
pub const TARGET_OPENAPI_VERSION: &str = "3.0.3";

/// Converts `document` (OpenAPI 3.1) in place into OpenAPI 3.0.3 with JSON-only request bodies.
pub fn to_openapi_3_0(document: &mut Value) -> Result<()> {
    let Some(fields) = document.as_object_mut() else {
        bail!("the document is not a JSON object");
    };
    match fields.get("openapi").and_then(Value::as_str) {
        Some(version) if version.starts_with("3.1.") => {}
        Some(version) => bail!("expected an OpenAPI 3.1 document, found version {version}"),
        None => bail!("the document has no `openapi` version"),
    }
    fields.insert("openapi".to_owned(), Value::from(TARGET_OPENAPI_VERSION));
    for only_in_3_1 in ["jsonSchemaDialect", "webhooks"] {
        fields.remove(only_in_3_1);
    }
    if let Some(license) = fields
        .get_mut("info")
        .and_then(|info| info.get_mut("license"))
        .and_then(Value::as_object_mut)
    {
        license.remove("identifier");
    }
    convert_schemas(document, "#")?;
    keep_json_request_bodies(document)
}

/// Rewrites, everywhere below `value`, the JSON Schema 2020-12 spellings that OpenAPI 3.0 lacks.
fn convert_schemas(value: &mut Value, location: &str) -> Result<()> {
    match value {
        Value::Object(fields) => {
            convert_type_array(fields, location)?;
            convert_const(fields);
            convert_exclusive_bounds(fields);
            for combinator in ["oneOf", "anyOf"] {
                convert_null_member(fields, combinator);
            }
            for (key, child) in fields.iter_mut() {
                convert_schemas(child, &format!("{location}/{key}"))?;
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                convert_schemas(item, &format!("{location}/{index}"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `type: [X, "null"]` becomes `type: X` with `nullable: true`.
fn convert_type_array(schema: &mut Map<String, Value>, location: &str) -> Result<()> {
    let Some(Value::Array(types)) = schema.get("type") else {
        return Ok(());
    };
    let nullable = types.iter().any(|t| t == "null");
    let concrete: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
    match concrete.as_slice() {
        [single] => {
            schema.insert("type".to_owned(), single.clone());
        }
        [] => bail!("{location}: a schema whose only type is null has no OpenAPI 3.0 form"),
        _ => {
            let names: Vec<String> = concrete.iter().map(Value::to_string).collect();
            bail!(
                "{location}: a schema with several types ({}) has no OpenAPI 3.0 form",
                names.join(", ")
            )
        }
    }
    if nullable {
        schema.insert("nullable".to_owned(), Value::Bool(true));
    }
    Ok(())
}

/// `const: v` becomes `enum: [v]`.
fn convert_const(schema: &mut Map<String, Value>) {
    if let Some(value) = schema.remove("const") {
        schema.insert("enum".to_owned(), Value::Array(vec![value]));
    }
}

/// Numeric `exclusiveMinimum: n` becomes `minimum: n` with `exclusiveMinimum: true`.
fn convert_exclusive_bounds(schema: &mut Map<String, Value>) {
    for (exclusive, inclusive) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if let Some(bound) = schema.get(exclusive).filter(|bound| bound.is_number()).cloned() {
            schema.insert(inclusive.to_owned(), bound);
            schema.insert(exclusive.to_owned(), Value::Bool(true));
        }
    }
}

/// A `{"type": "null"}` member of `oneOf`/`anyOf` becomes `nullable: true` on the schema.
fn convert_null_member(schema: &mut Map<String, Value>, combinator: &str) {
    let Some(Value::Array(members)) = schema.get_mut(combinator) else {
        return;
    };
    let before = members.len();
    members.retain(|member| {
        member
            .as_object()
            .is_none_or(|m| !(m.len() == 1 && m.get("type") == Some(&Value::from("null"))))
    });
    if members.len() != before {
        schema.insert("nullable".to_owned(), Value::Bool(true));
    }
}

/// Drops every request-body media type but `application/json`.
fn keep_json_request_bodies(document: &mut Value) -> Result<()> {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for (path, item) in paths.iter_mut() {
        for method in HTTP_METHODS {
            let Some(content) = item
                .get_mut(method)
                .and_then(|operation| operation.get_mut("requestBody"))
                .and_then(|body| body.get_mut("content"))
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            if !content.contains_key("application/json") {
                bail!(
                    "{} {path}: the request body has no application/json form",
                    method.to_uppercase()
                );
            }
            content.retain(|media_type, _| media_type == "application/json");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn converted(mut document: Value) -> Value {
        to_openapi_3_0(&mut document).unwrap();
        document
    }

    #[test]
    fn nullable_type_arrays_become_nullable_schemas() {
        let document = converted(json!({"openapi": "3.1.0", "components": {"schemas": {
            "A": {"type": ["boolean", "null"]},
            "B": {"type": ["string", "null"], "enum": ["x", null]},
            "C": {"type": ["array"], "items": {"type": "string"}}
        }}}));
        let schemas = &document["components"]["schemas"];
        assert_eq!(schemas["A"], json!({"type": "boolean", "nullable": true}));
        assert_eq!(
            schemas["B"],
            json!({"type": "string", "nullable": true, "enum": ["x", null]})
        );
        assert_eq!(
            schemas["C"],
            json!({"type": "array", "items": {"type": "string"}})
        );
        assert_eq!(document["openapi"], "3.0.3");
    }

    #[test]
    fn const_becomes_a_one_value_enum() {
        let document = converted(json!({"openapi": "3.1.0", "x": {"type": "boolean", "const": true}}));
        assert_eq!(document["x"], json!({"type": "boolean", "enum": [true]}));
    }

    #[test]
    fn a_null_member_of_one_of_becomes_nullable() {
        let document =
            converted(json!({"openapi": "3.1.0", "x": {"oneOf": [{"$ref": "#/a"}, {"type": "null"}]}}));
        assert_eq!(
            document["x"],
            json!({"oneOf": [{"$ref": "#/a"}], "nullable": true})
        );
    }

    #[test]
    fn numeric_exclusive_bounds_become_boolean_ones() {
        let document =
            converted(json!({"openapi": "3.1.0", "x": {"type": "integer", "exclusiveMinimum": 0}}));
        assert_eq!(
            document["x"],
            json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true})
        );
    }

    #[test]
    fn request_bodies_keep_only_json() {
        let document = converted(
            json!({"openapi": "3.1.0", "paths": {"/a": {"post": {"requestBody": {"content": {
                "application/json": {"schema": {"type": "object"}},
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}}
            }}}}}}),
        );
        let content = document["paths"]["/a"]["post"]["requestBody"]["content"]
            .as_object()
            .unwrap();
        assert_eq!(content.keys().collect::<Vec<_>>(), ["application/json"]);
    }

    #[test]
    fn errors_name_the_place_and_the_problem() {
        let mut several =
            json!({"openapi": "3.1.0", "components": {"schemas": {"A": {"type": ["string", "integer"]}}}});
        let error = to_openapi_3_0(&mut several).unwrap_err().to_string();
        assert_eq!(
            error,
            r#"#/components/schemas/A: a schema with several types ("string", "integer") has no OpenAPI 3.0 form"#
        );

        let mut old = json!({"openapi": "3.0.1"});
        assert_eq!(
            to_openapi_3_0(&mut old).unwrap_err().to_string(),
            "expected an OpenAPI 3.1 document, found version 3.0.1"
        );

        let mut form_only = json!({"openapi": "3.1.0", "paths": {"/a": {"post": {"requestBody": {"content": {"text/plain": {}}}}}}});
        assert_eq!(
            to_openapi_3_0(&mut form_only).unwrap_err().to_string(),
            "POST /a: the request body has no application/json form"
        );
    }
}
