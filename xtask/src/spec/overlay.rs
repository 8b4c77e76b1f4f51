//! Applies `spec/overlay.yaml`, our OpenAPI Overlay 1.0 corrections, to the converted spec.

use anyhow::{Context, Result, bail};
use enumset::EnumSet;
use roas_overlay::apply::{Apply, ApplyErrorKind, ApplyOptions};
use roas_overlay::v1_0::{Action, Overlay};
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
/// nothing is an error naming it: the upstream document renamed or removed what it corrects.
pub fn apply_overlay(overlay: &Overlay, document: &mut Value) -> Result<()> {
    overlay
        .apply(document, ApplyOptions::ErrorOnZeroMatch.into())
        .map_err(|error| {
            let action = &overlay.actions[error.action_index];
            let named = format!(
                "overlay action {} (target `{}`: \"{}\")",
                error.action_index,
                action.target.trim(),
                first_sentence(action.description.as_deref().unwrap_or_default())
            );
            match error.kind {
                ApplyErrorKind::ZeroMatch => anyhow::anyhow!(
                    "{named} selects nothing in the upstream document, which renamed or removed what it \
                     corrects: point the action at the new place, or drop it if it is no longer needed"
                ),
                other => anyhow::anyhow!("{named} does not apply: {other}"),
            }
        })?;
    Ok(())
}

/// The first sentence of `text`, which says why an action exists.
fn first_sentence(text: &str) -> &str {
    let text = text.trim();
    text.find(". ").map_or(text, |end| &text[..=end])
}

/// The corrections `document` (the converted upstream) no longer needs: an action, or
/// consecutive ones written as one correction (described "(1/n)" to "(n/n)", or a pair that
/// removes and then adds back changed), without which the overlay gives the same result.
/// Upstream now says the same, and the correction can go. Each is named by its actions' indexes
/// and targets. `finish` is what the pipeline does after the overlay: a correction that only
/// says what a rule makes true is redundant too.
pub fn redundant_corrections(overlay: &Overlay, document: &Value, finish: Finish) -> Vec<String> {
    let with_all = applied(overlay, document, finish);
    let actions = overlay.actions.len();
    let mut redundant = Vec::new();
    let mut index = 0;
    while index < actions {
        let marked = marked_group(&overlay.actions[index]);
        let found = [marked, 1, 2].into_iter().find(|&count| {
            index + count <= actions && {
                let mut without = overlay.clone();
                without.actions.drain(index..index + count);
                with_all.is_some() && applied(&without, document, finish) == with_all
            }
        });
        match found {
            Some(count) => {
                let targets: Vec<String> = overlay.actions[index..index + count]
                    .iter()
                    .map(|action| format!("`{}`", action.target.trim()))
                    .collect();
                redundant.push(if count == 1 {
                    format!("overlay action {index} (target {})", targets[0])
                } else {
                    format!(
                        "overlay actions {index} to {} (targets {})",
                        index + count - 1,
                        targets.join(", ")
                    )
                });
                index += count;
            }
            None => index += 1,
        }
    }
    redundant
}

/// How many actions the correction that `action` opens has: n when its description starts
/// with "(1/n)", otherwise 1.
fn marked_group(action: &Action) -> usize {
    action
        .description
        .as_deref()
        .and_then(|text| text.trim_start().strip_prefix("(1/"))
        .and_then(|rest| rest.split_once(')'))
        .and_then(|(count, _)| count.parse().ok())
        .unwrap_or(1)
}

/// What the pipeline does to the document after the overlay.
pub type Finish<'a> = &'a dyn Fn(&mut Value) -> Result<()>;

/// `document` with `overlay` applied and then `finish`, or `None` if either fails.
fn applied(overlay: &Overlay, document: &Value, finish: Finish) -> Option<Value> {
    let mut document = document.clone();
    apply_overlay(overlay, &mut document).ok()?;
    finish(&mut document).ok()?;
    Some(document)
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
        assert_eq!(
            error,
            "overlay action 0 (target `$.components.schemas.Gone`: \"why\") selects nothing in the upstream \
             document, which renamed or removed what it corrects: point the action at the new place, or \
             drop it if it is no longer needed"
        );
        assert_eq!(document, json!({"components": {"schemas": {}}}));
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

    #[test]
    fn a_correction_upstream_now_makes_is_reported_redundant_and_one_it_needs_is_not() {
        // Remove the enum, then add it back with one more value: one correction in two actions.
        let overlay = parse_overlay(&format!(
            "{HEADER}actions:\n  - target: $.s.enum\n    description: (1/2)\n    remove: true\n  - target: $.s\n    description: (2/2)\n    update: {{enum: [a, b, c]}}\n  - target: $.t\n    description: other\n    update: {{x: 1}}\n"
        ))
        .unwrap();
        let before = json!({"s": {"enum": ["a", "b"]}, "t": {}});
        assert_eq!(
            redundant_corrections(&overlay, &before, &|_| Ok(())),
            Vec::<String>::new()
        );
        let after = json!({"s": {"enum": ["a", "b", "c"]}, "t": {"x": 1}});
        assert_eq!(
            redundant_corrections(&overlay, &after, &|_| Ok(())),
            [
                "overlay actions 0 to 1 (targets `$.s.enum`, `$.s`)",
                "overlay action 2 (target `$.t`)"
            ]
        );
    }
}
