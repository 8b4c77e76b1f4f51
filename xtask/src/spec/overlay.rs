//! Applies `spec/overlay.yaml`, our OpenAPI Overlay 1.0 corrections, to the converted spec.

use anyhow::{Context, Result, bail};
use enumset::EnumSet;
use roas_overlay::apply::{Apply, ApplyOptions};
use roas_overlay::v1_0::Overlay;
use roas_overlay::validation::Validate;
use serde_json::Value;

/// Parses and validates an Overlay 1.0 document written in YAML. Every action must say, in its
/// `description`, why the correction exists.
pub fn parse_overlay(yaml: &str) -> Result<Overlay> {
    let overlay: Overlay = serde_yaml_ng::from_str(yaml).context("not an OpenAPI Overlay 1.0 document")?;
    if let Err(invalid) = overlay.validate(EnumSet::empty()) {
        let reasons: Vec<String> = invalid.errors.iter().map(ToString::to_string).collect();
        bail!("the overlay is not valid: {}", reasons.join("; "));
    }
    if let Some((index, action)) = overlay.actions.iter().enumerate().find(|(_, action)| {
        action
            .description
            .as_deref()
            .is_none_or(|text| text.trim().is_empty())
    }) {
        bail!(
            "overlay action {index} (target `{}`) has no description saying why it exists",
            action.target
        );
    }
    Ok(overlay)
}

/// Applies every action of `overlay` to `document`, in order. An action whose target selects
/// nothing is an error: it means the upstream document changed under the correction.
pub fn apply_overlay(overlay: &Overlay, document: &mut Value) -> Result<()> {
    overlay
        .apply(document, ApplyOptions::ErrorOnZeroMatch.into())
        .map_err(|error| anyhow::anyhow!("{error}"))
        .context("the overlay does not apply")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const HEADER: &str = "overlay: 1.0.0\ninfo: {title: t, version: '1'}\n";

    #[test]
    fn an_action_that_matches_nothing_is_an_error_naming_it() {
        let overlay = parse_overlay(&format!(
            "{HEADER}actions:\n  - target: $.components.schemas.Gone\n    description: why\n    remove: true\n"
        ))
        .unwrap();
        let mut document = json!({"components": {"schemas": {}}});
        let error = format!("{:#}", apply_overlay(&overlay, &mut document).unwrap_err());
        assert!(error.starts_with("the overlay does not apply: "), "{error}");
        assert!(error.contains("$.components.schemas.Gone"), "{error}");
    }

    #[test]
    fn an_action_without_a_description_is_refused() {
        let error = parse_overlay(&format!(
            "{HEADER}actions:\n  - target: $.info\n    update: {{x: 1}}\n"
        ))
        .unwrap_err()
        .to_string();
        assert_eq!(
            error,
            "overlay action 0 (target `$.info`) has no description saying why it exists"
        );
    }

    #[test]
    fn updates_and_removals_apply_in_order() {
        let overlay = parse_overlay(&format!(
            "{HEADER}actions:\n  - target: $.a\n    description: drop\n    remove: true\n  - target: $.b\n    description: add\n    update: {{c: 2}}\n"
        ))
        .unwrap();
        let mut document = json!({"a": {"x": 1}, "b": {"d": 1}});
        apply_overlay(&overlay, &mut document).unwrap();
        assert_eq!(document, json!({"b": {"c": 2, "d": 1}}));
    }
}
