//! What the crate reads of the read-only lookups' responses. An application (`GET /clients`) has
//! sixty properties that reach about a hundred schemas and two dozen enums, an API
//! (`GET /resource-servers/{id}`) two dozen; each would be a generated type, most of them
//! public, for fields grants as code never reads. Only the properties below are kept, verbatim;
//! the objects stay open (the rules keep unknown properties), so whatever else Auth0 sends is
//! skipped when decoding, and the schemas nothing reaches any more are dropped by rule.
//!
//! The narrowing applies to the pipeline (after spec/overlay.yaml, before the rules) and to
//! `spec diff` on both releases: a change to a property the crate does not read changes
//! nothing for its users.

use anyhow::{Result, bail};
use serde_json::Value;

/// Each narrowed schema and the properties kept of it.
pub const READ: [(&str, &[&str]); 2] = [
    // An application: enough to turn a name into an id, and to tell a machine-to-machine or
    // third-party application from others.
    ("Client", &["client_id", "name", "app_type", "is_first_party"]),
    // An API: enough to check a grant's audience and scopes.
    (
        "GetResourceServerResponseContent",
        &["id", "name", "identifier", "is_system", "scopes"],
    ),
];

/// Keeps, of each schema in [`READ`], only the properties it lists (those upstream has). A
/// schema missing is an error: upstream renamed it, and the whole of the new one would be
/// generated.
pub fn keep_what_is_read(document: &mut Value) -> Result<()> {
    narrow(document, true)
}

/// As [`keep_what_is_read`], skipping a schema the document lacks: `spec diff` compares with
/// releases (and earlier subsets) that may not have the lookups at all, which the diff itself
/// reports as operations added or removed.
pub fn keep_what_is_read_where_present(document: &mut Value) {
    narrow(document, false).expect("only a strict narrowing fails");
}

fn narrow(document: &mut Value, strict: bool) -> Result<()> {
    for (schema, kept) in READ {
        let Some(properties) = document
            .pointer_mut(&format!("/components/schemas/{schema}/properties"))
            .and_then(Value::as_object_mut)
        else {
            if !strict {
                continue;
            }
            bail!(
                "xtask/src/spec/narrow.rs narrows the schema {schema}, which the upstream document \
                 no longer has (or has without properties): point it at the schema's new name"
            );
        };
        properties.retain(|name, _| kept.contains(&name.as_str()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_the_listed_properties_are_kept_and_a_missing_schema_is_named() {
        let mut document = json!({"components": {"schemas": {
            "Client": {"type": "object", "properties": {
                "client_id": {"type": "string"}, "name": {"type": "string"},
                "addons": {"$ref": "#/components/schemas/Addons"}
            }},
            "GetResourceServerResponseContent": {"type": "object", "properties": {
                "identifier": {"type": "string"}, "signing_alg": {"type": "string"}
            }}
        }}});
        keep_what_is_read(&mut document).unwrap();
        assert_eq!(
            document["components"]["schemas"]["Client"]["properties"],
            json!({"client_id": {"type": "string"}, "name": {"type": "string"}})
        );
        assert_eq!(
            document["components"]["schemas"]["GetResourceServerResponseContent"]["properties"],
            json!({"identifier": {"type": "string"}})
        );

        document["components"]["schemas"]
            .as_object_mut()
            .unwrap()
            .remove("Client");
        let error = keep_what_is_read(&mut document).unwrap_err().to_string();
        assert!(error.contains("narrows the schema Client"), "{error}");
        keep_what_is_read_where_present(&mut document);
    }
}
