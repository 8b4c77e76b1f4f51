//! `cargo xtask spec probe`: every kind of additive change Auth0 ships, at once, written as
//! Auth0 writes them (OpenAPI 3.1, closed objects, limits, formats, defaults) into an upstream
//! subset, which then goes through `spec refresh` like a new release:
//! - a property on every object schema, requests' and responses' (nullable, with a length
//!   limit, a pattern, a `date-time` format and a `default`);
//! - a value in every string enum;
//! - under every schema only responses reach, a new nested object schema with
//!   `additionalProperties: false` and a new `$ref`'d string enum;
//! - on every request body, a new optional property that refers to a new closed object schema
//!   (which refers to that enum too, so that requests and responses share it);
//! - on every operation, an optional query parameter ahead of the others and a newly documented
//!   error status.
//!
//! A refresh from the result must need no edit, a crate generated from it must build every
//! target (tests/build_regenerates_on_spec_change.rs) and be a minor release at most (CI's
//! `cargo semver-checks` against it, in .ci/semver-checks).

use serde_json::{Value, json};

use super::schemas::schema_uses;

/// The name of the probe property and parameter.
pub const PROBE: &str = "regeneration_probe";
/// The value added to every enum.
pub const PROBE_VALUE: &str = "regeneration_probe_value";
/// The new nested object under responses, the new enum, and the new request object.
const OBJECT: &str = "RegenerationProbeObject";
const ENUM: &str = "RegenerationProbeEnum";
const SETTINGS: &str = "RegenerationProbeSettings";
/// The status every operation newly documents.
const STATUS: &str = "418";

/// How many places of each kind [`add_probes`] changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Probed {
    pub objects: usize,
    pub enums: usize,
    pub responses: usize,
    pub request_bodies: usize,
    pub operations: usize,
}

/// Applies every additive change to `subset`, an upstream subset (OpenAPI 3.1) as
/// `spec refresh` extracts it.
pub fn add_probes(subset: &mut Value) -> Probed {
    let mut probed = Probed::default();
    let uses = schema_uses(subset);
    let name_of = |pointer: &str| pointer.strip_prefix("/components/schemas/").map(str::to_owned);
    let response_only: Vec<String> = uses
        .iter()
        .filter(|place| place.response && !place.request)
        .filter_map(|place| name_of(&place.pointer))
        .collect();
    let request_bodies: Vec<String> = body_schemas(subset);

    let Some(schemas) = subset
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return probed;
    };
    for (name, schema) in schemas.iter_mut() {
        if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            properties.insert(
                PROBE.into(),
                json!({"type": ["string", "null"], "description": "Added by the probe.", "maxLength": 64,
                       "pattern": "^[a-z_]+$", "format": "date-time", "default": "probe"}),
            );
            probed.objects += 1;
            if response_only.contains(name) {
                properties.insert(
                    format!("{PROBE}_object"),
                    json!({"$ref": format!("#/components/schemas/{OBJECT}"), "x-release-lifecycle": "EA"}),
                );
                properties.insert(
                    format!("{PROBE}_enum"),
                    json!({"$ref": format!("#/components/schemas/{ENUM}"), "x-release-lifecycle": "GA"}),
                );
                probed.responses += 1;
            }
            if request_bodies.contains(name) {
                properties.insert(
                    format!("{PROBE}_settings"),
                    json!({"$ref": format!("#/components/schemas/{SETTINGS}")}),
                );
                probed.request_bodies += 1;
            }
        }
        if schema["type"] == "string"
            && let Some(values) = schema.get_mut("enum").and_then(Value::as_array_mut)
        {
            values.push(PROBE_VALUE.into());
            probed.enums += 1;
        }
    }
    schemas.insert(
        OBJECT.into(),
        json!({"type": "object", "description": "Added by the probe.", "additionalProperties": false,
               "properties": {"flag": {"type": "boolean"}, "label": {"type": "string", "maxLength": 8}}}),
    );
    schemas.insert(
        ENUM.into(),
        json!({"type": "string", "description": "Added by the probe.", "enum": ["probe_one", "probe_two"]}),
    );
    schemas.insert(
        SETTINGS.into(),
        json!({"type": "object", "description": "Added by the probe.", "additionalProperties": false,
               "properties": {"enabled": {"type": "boolean"},
                              "mode": {"$ref": format!("#/components/schemas/{ENUM}")}}}),
    );

    let operations = subset
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(Value::as_object_mut)
        .filter(|operation| operation.contains_key("responses"));
    for operation in operations {
        let parameter = json!({"name": PROBE, "in": "query", "required": false,
                               "schema": {"type": "string", "pattern": "^[a-z_]+$"}});
        if let Some(parameters) = operation
            .entry("parameters")
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            parameters.insert(0, parameter);
        }
        if let Some(responses) = operation["responses"].as_object_mut() {
            responses.insert(STATUS.into(), json!({"description": "Added by the probe."}));
        }
        probed.operations += 1;
    }
    probed
}

/// The component schemas a request body refers to directly.
fn body_schemas(subset: &Value) -> Vec<String> {
    subset
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .filter_map(|operation| operation.pointer("/requestBody/content/application~1json/schema/$ref"))
        .filter_map(Value::as_str)
        .filter_map(|reference| reference.strip_prefix("#/components/schemas/"))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{OVERLAY_PATH, SUBSET_PATH, api_diff, derive_client_spec, diff, workspace_root};
    use super::*;

    fn committed(relative: &str) -> String {
        std::fs::read_to_string(workspace_root().join(relative)).unwrap()
    }

    #[test]
    fn the_probes_go_through_the_pipeline_with_no_edit_and_are_each_a_minor_change() {
        let subset: Value = serde_json::from_str(&committed(SUBSET_PATH)).unwrap();
        let mut probed = subset.clone();
        let counts = add_probes(&mut probed);
        assert!(counts.objects >= 10 && counts.responses >= 5, "{counts:?}");
        assert_eq!(
            (counts.enums, counts.request_bodies, counts.operations),
            (32, 3, 11),
            "{counts:?}"
        );

        let changes = api_diff(&subset, &probed).unwrap();
        let majors: Vec<String> = changes
            .iter()
            .filter(|change| change.bump != diff::Bump::Minor)
            .map(ToString::to_string)
            .collect();
        assert_eq!(majors, Vec::<String>::new());
        let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
        for kind in [
            "minor  get_client-grant-organizations: response 200 field `(shape 1)[].regeneration_probe_object.flag` added",
            "minor  get_client-grant-organizations: response 200 field `(shape 1)[].regeneration_probe_enum` added",
            "minor  post_client-grants: request body field `regeneration_probe` added",
            "minor  post_client-grants: request body field `regeneration_probe_settings.mode` added",
            "minor  get_client-grant: response 200 field `subject_type` gained the value \"regeneration_probe_value\"",
            "minor  get_client-grant: parameter `regeneration_probe (query)` added",
            "minor  get_client-grant: response 418 added",
        ] {
            assert!(lines.iter().any(|line| line == kind), "{kind} not in {lines:#?}");
        }

        let derived = derive_client_spec(&probed, &committed(OVERLAY_PATH)).unwrap();
        let spec: Value = serde_json::from_str(&derived.text).unwrap();
        let schemas = &spec["components"]["schemas"];
        assert_eq!(
            schemas["ClientGrantResponseContent"]["properties"][PROBE],
            json!({"type": "string", "nullable": true, "description": "Added by the probe."})
        );
        assert_eq!(schemas[OBJECT]["additionalProperties"], true);
        assert_eq!(
            schemas["CreateClientGrantRequestContent"]["properties"][PROBE],
            json!({"type": "string", "nullable": true, "description": "Added by the probe.", "maxLength": 64})
        );
        assert_eq!(schemas[SETTINGS]["additionalProperties"], false);
        assert_eq!(
            spec["paths"]["/client-grants/{id}"]["get"]["responses"][STATUS]["content"]["application/json"]["schema"],
            json!({"$ref": "#/components/schemas/ErrorBody"})
        );
    }
}
