//! The order an apply may write a plan's changes in, and the loop that writes them concurrently.
//!
//! Changes of different grants are independent: Auth0 keeps one grant per key, and no change of
//! one grant reads or writes another. Changes of one grant keep the plan's order: the grant is
//! created (or recreated, or updated to the `organization_usage` its organizations need) before
//! its organizations are associated, and its organizations are dissociated before it is deleted.
//! Changes of one grant in the same stage (its associations, say) run concurrently.

use std::collections::{HashMap, VecDeque};
use std::future::Future;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::desired::GrantKey;
use super::plan::Change;

/// The grants a change touches: its own, and for a recreate the grant it replaces.
fn grants_touched(change: &Change) -> impl Iterator<Item = &GrantKey> {
    let replaced = match change {
        Change::Recreate { from, .. } => Some(from),
        _ => None,
    };
    std::iter::once(change.key()).chain(replaced)
}

/// Which changes wait for which, and which may start now.
#[derive(Debug)]
pub(super) struct Schedule {
    /// For each change, how many of the changes it waits for have not succeeded yet.
    waiting_for: Vec<usize>,
    /// For each change, the changes that wait for it.
    dependents: Vec<Vec<usize>>,
    /// Changes that may start, in the plan's order.
    ready: VecDeque<usize>,
    started: Vec<bool>,
}

impl Schedule {
    pub(super) fn new(changes: &[Change]) -> Self {
        let mut by_grant: HashMap<&GrantKey, Vec<usize>> = HashMap::new();
        for (index, change) in changes.iter().enumerate() {
            for key in grants_touched(change) {
                by_grant.entry(key).or_default().push(index);
            }
        }
        let mut waiting_for = vec![0; changes.len()];
        let mut dependents = vec![Vec::new(); changes.len()];
        for indices in by_grant.values() {
            for &later in indices {
                for &earlier in indices {
                    if changes[earlier].stage() < changes[later].stage() {
                        waiting_for[later] += 1;
                        dependents[earlier].push(later);
                    }
                }
            }
        }
        for waiting in &mut dependents {
            waiting.sort_unstable();
        }
        let ready = (0..changes.len())
            .filter(|&index| waiting_for[index] == 0)
            .collect();
        Self {
            waiting_for,
            dependents,
            ready,
            started: vec![false; changes.len()],
        }
    }

    /// The next change that may start, first in the plan's order.
    pub(super) fn next(&mut self) -> Option<usize> {
        let index = self.ready.pop_front()?;
        self.started[index] = true;
        Some(index)
    }

    /// `index` succeeded: the changes that waited only for it may start.
    pub(super) fn succeeded(&mut self, index: usize) {
        let mut released: Vec<usize> = Vec::new();
        for &dependent in &self.dependents[index] {
            self.waiting_for[dependent] -= 1;
            if self.waiting_for[dependent] == 0 {
                released.push(dependent);
            }
        }
        self.ready.extend(released);
        self.ready.make_contiguous().sort_unstable();
    }

    /// The changes never started, in the plan's order.
    pub(super) fn not_started(&self) -> Vec<usize> {
        (0..self.started.len())
            .filter(|&index| !self.started[index])
            .collect()
    }
}

/// How one change ended, as far as the loop is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ended {
    Succeeded,
    Failed,
}

/// What [`run`] did: every change that started, with its output, in the order they finished;
/// the first that failed; and those that never started, in the plan's order.
pub(super) struct Ran<O> {
    pub(super) finished: Vec<(usize, O)>,
    pub(super) first_failure: Option<usize>,
    pub(super) not_started: Vec<usize>,
}

/// Runs `changes`, at most `parallelism` at a time (at least one), each as soon as the changes
/// it waits for have succeeded: `start(index)` runs one, `finish(index, &output)` says how it
/// ended. After the first failure, or once `stop()` is true, no change starts; those running
/// finish.
pub(super) async fn run<O, Fut: Future<Output = O>>(
    changes: &[Change],
    parallelism: usize,
    stop: &(dyn Fn() -> bool + Sync),
    mut start: impl FnMut(usize) -> Fut,
    mut finish: impl FnMut(usize, &O) -> Ended,
) -> Ran<O> {
    let mut schedule = Schedule::new(changes);
    let mut running = FuturesUnordered::new();
    let mut finished = Vec::new();
    let mut first_failure = None;
    loop {
        while first_failure.is_none() && running.len() < parallelism.max(1) && !stop() {
            let Some(index) = schedule.next() else { break };
            let change = start(index);
            running.push(async move { (index, change.await) });
        }
        let Some((index, output)) = running.next().await else {
            break;
        };
        match finish(index, &output) {
            Ended::Succeeded => schedule.succeeded(index),
            Ended::Failed => {
                first_failure.get_or_insert(index);
            }
        }
        finished.push((index, output));
    }
    Ran {
        finished,
        first_failure,
        not_started: schedule.not_started(),
    }
}

#[cfg(test)]
mod tests;
