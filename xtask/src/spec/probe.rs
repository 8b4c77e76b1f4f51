//! `cargo xtask spec probe`: every kind of additive change Auth0 makes, at once, to a copy of
//! `spec/client-grants.json`: a property on every object schema, a value in every string enum,
//! and on every operation an optional query parameter ahead of the others and a newly
//! documented status. A crate generated from the result must build every target with no edit
//! (tests/build_regenerates_on_spec_change.rs) and be a minor release at most (CI's
//! `cargo semver-checks` against it, in .ci/semver-checks).

use serde_json::{Value, json};

/// The name of the probe property and parameter.
pub const PROBE: &str = "regeneration_probe";
/// The value added to every enum.
pub const PROBE_VALUE: &str = "regeneration_probe_value";

/// How many places of each kind [`add_probes`] changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Probed {
    pub objects: usize,
    pub enums: usize,
    pub operations: usize,
}

/// Applies every additive change to `spec`, an OpenAPI 3.0 document as the pipeline writes it.
pub fn add_probes(spec: &mut Value) -> Probed {
    let mut probed = Probed::default();
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for schema in schemas.values_mut() {
            if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
                properties.insert(
                    PROBE.into(),
                    json!({"type": "string", "description": "Added by the probe."}),
                );
                probed.objects += 1;
            }
            if schema["type"] == "string"
                && let Some(values) = schema.get_mut("enum").and_then(Value::as_array_mut)
            {
                values.push(PROBE_VALUE.into());
                probed.enums += 1;
            }
        }
    }
    let operations = spec
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(Value::as_object_mut)
        .filter(|operation| operation.contains_key("responses"));
    for operation in operations {
        let parameter =
            json!({"name": PROBE, "in": "query", "required": false, "schema": {"type": "string"}});
        if let Some(parameters) = operation
            .entry("parameters")
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            parameters.insert(0, parameter);
        }
        if let Some(responses) = operation["responses"].as_object_mut() {
            let error = responses
                .iter()
                .find(|(status, _)| status.starts_with('4'))
                .map(|(_, response)| response.clone())
                .unwrap_or_else(|| json!({"description": "Added by the probe."}));
            responses.insert("418".into(), error);
        }
        probed.operations += 1;
    }
    probed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_spec_gets_every_kind_of_probe_everywhere() {
        let text =
            std::fs::read_to_string(super::super::workspace_root().join(super::super::CLIENT_SPEC_PATH))
                .unwrap();
        let mut spec: Value = serde_json::from_str(&text).unwrap();
        let probed = add_probes(&mut spec);
        assert!(probed.objects >= 10, "{probed:?}");
        assert_eq!((probed.enums, probed.operations), (5, 9), "{probed:?}");
        let grant = &spec["components"]["schemas"]["ClientGrantResponseContent"]["properties"][PROBE];
        assert_eq!(grant["type"], "string");
        let parameters = spec["paths"]["/client-grants"]["get"]["parameters"]
            .as_array()
            .unwrap();
        assert_eq!(parameters[0]["name"], PROBE);
        assert!(spec["paths"]["/client-grants"]["get"]["responses"]["418"].is_object());
    }
}
