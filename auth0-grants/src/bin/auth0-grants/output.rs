//! What the CLI shows: the plan with colour (only on a terminal, and never with `NO_COLOR`:
//! `anstream` strips it otherwise), progress on standard error (hidden when it is not a
//! terminal, as `indicatif` does), and the audit as JSON.

use std::time::Duration;

use anstyle::{AnsiColor, Style};
use auth0_grants::reconcile::{Plan, Progress};
use indicatif::{ProgressBar, ProgressStyle};

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

/// Shows on `spinner` how many grants have been read.
pub fn grants_read(spinner: &ProgressBar) -> impl Fn(Progress) + Sync + '_ {
    move |progress| {
        if let Progress::Read { grants } = progress {
            spinner.set_message(format!("reading grants: {grants}"));
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
    fn the_bar_shows_done_of_all_and_the_rate() {
        // A template indicatif cannot read falls back to a bar with neither, silently.
        assert!(ProgressStyle::with_template(BAR).is_ok());
    }
}
