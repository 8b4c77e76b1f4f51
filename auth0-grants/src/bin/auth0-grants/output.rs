//! What the CLI shows: the plan with colour (only on a terminal, and never with `NO_COLOR`:
//! `anstream` strips it otherwise), progress on standard error (hidden when it is not a
//! terminal, as `indicatif` does), and the audit as JSON.

use std::time::Duration;

use anstyle::{AnsiColor, Style};
use auth0_grants::audit::{AuditReport, Finding, Skipped};
use auth0_grants::reconcile::Plan;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

pub const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const ADD: Style = AnsiColor::Green.on_default();
const REMOVE: Style = AnsiColor::Red.on_default();
const CHANGE: Style = AnsiColor::Yellow.on_default();
const NOTE: Style = AnsiColor::Cyan.on_default();

/// The plan, one line per change, coloured by what the change does.
pub fn plan(plan: &Plan) {
    for line in plan.to_string().lines() {
        let style = match line.chars().next() {
            Some('+') => ADD,
            Some('-') => REMOVE,
            Some('~' | '±') => CHANGE,
            Some('!') => NOTE,
            _ => Style::new(),
        };
        anstream::println!("{}{line}{}", style.render(), style.render_reset());
    }
}

/// What the planning could not check, on standard error, one `warning:` line each.
pub fn warnings(plan: &Plan) {
    for warning in plan.warnings() {
        anstream::eprintln!("{}warning:{} {warning}", WARNING.render(), WARNING.render_reset());
    }
}

/// What `audit --json` prints: every finding, and every check skipped for want of a permission,
/// each by its kind and with the sentence the `note:` on standard error says. Both keys are
/// always there, empty or not, so that a script reads them without guessing.
#[derive(Serialize)]
pub struct AuditJson<'a> {
    findings: &'a [Finding],
    skipped: Vec<SkippedCheck>,
}

/// A skipped check: `kind` for machines (`applications_gone`, `apis_and_scopes`), `message` for
/// people.
#[derive(Serialize)]
struct SkippedCheck {
    kind: Skipped,
    message: String,
}

impl<'a> AuditJson<'a> {
    pub fn of(report: &'a AuditReport) -> Self {
        Self {
            findings: &report.findings,
            skipped: report
                .skipped
                .iter()
                .map(|&kind| SkippedCheck {
                    kind,
                    message: kind.to_string(),
                })
                .collect(),
        }
    }
}

pub fn spinner(message: &'static str) -> ProgressBar {
    let spinner = ProgressBar::new_spinner().with_message(message);
    spinner.enable_steady_tick(Duration::from_millis(100));
    spinner
}

/// Done of all, and the current rate: what pacing to the tenant's rate limit allows.
const BAR: &str = "{msg} {bar:30} {pos}/{len} ({per_sec:1})";

pub fn bar(length: u64, message: &'static str) -> ProgressBar {
    let style = ProgressStyle::with_template(BAR).unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(length).with_style(style).with_message(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_json_has_both_keys_and_each_skipped_check_by_kind_with_its_sentence() {
        let empty = AuditReport::default();
        assert_eq!(
            serde_json::to_value(AuditJson::of(&empty)).unwrap(),
            serde_json::json!({"findings": [], "skipped": []})
        );
        let report = auth0_grants::audit::audit_against(&[], &Default::default());
        let json = serde_json::to_value(AuditJson::of(&report)).unwrap();
        assert_eq!(
            json["skipped"],
            serde_json::json!([
                {"kind": "applications_gone", "message": Skipped::ApplicationsGone.to_string()},
                {"kind": "apis_and_scopes", "message": Skipped::ApisAndScopes.to_string()},
            ])
        );
    }

    #[test]
    fn the_bar_shows_done_of_all_and_the_rate() {
        // A template indicatif cannot read falls back to a bar with neither, silently.
        assert!(ProgressStyle::with_template(BAR).is_ok());
    }
}
