//! The order of an apply's changes, and the loop that runs them, in virtual time: each change
//! is a sleep of tokio's paused clock, so the tests read when each change started and ended
//! without waiting, and say the same on every run.

use std::cell::RefCell;
use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::reconcile::DesiredGrant;

const API: &str = "https://api.example.com/";

fn key(client: &str) -> GrantKey {
    DesiredGrant::new(client, API).key()
}

fn create(client: &str) -> Change {
    Change::Create {
        key: key(client),
        grant: DesiredGrant::new(client, API),
    }
}

fn update(client: &str) -> Change {
    Change::Update {
        id: format!("cgr_{client}"),
        key: key(client),
        fields: Vec::new(),
    }
}

fn associate(client: &str, organization: &str) -> Change {
    Change::Associate {
        id: None,
        key: key(client),
        organization_id: organization.to_owned(),
    }
}

fn dissociate(client: &str, organization: &str) -> Change {
    Change::Dissociate {
        id: format!("cgr_{client}"),
        key: key(client),
        organization_id: organization.to_owned(),
    }
}

fn delete(client: &str) -> Change {
    Change::Delete {
        id: format!("cgr_{client}"),
        key: key(client),
    }
}

fn recreate(client: &str, replaced: &str) -> Change {
    Change::Recreate {
        id: format!("cgr_{replaced}"),
        from: key(replaced),
        key: key(client),
        grant: DesiredGrant::new(client, API),
    }
}

/// Every change that may start now, in order, without finishing any.
fn drain(schedule: &mut Schedule) -> Vec<usize> {
    std::iter::from_fn(|| schedule.next()).collect()
}

#[test]
fn a_grants_changes_keep_their_order_and_other_grants_do_not_wait() {
    let changes = [
        create("a"),             // 0
        update("b"),             // 1
        associate("a", "org1"),  // 2
        associate("a", "org2"),  // 3
        associate("b", "org3"),  // 4
        dissociate("c", "org4"), // 5
        delete("c"),             // 6
        delete("d"),             // 7
    ];
    let mut schedule = Schedule::new(&changes);
    assert_eq!(drain(&mut schedule), [0, 1, 5, 7], "the first step of each grant");
    schedule.succeeded(1);
    assert_eq!(drain(&mut schedule), [4], "b's association after its update");
    schedule.succeeded(0);
    assert_eq!(
        drain(&mut schedule),
        [2, 3],
        "a's associations together, once it exists"
    );
    schedule.succeeded(5);
    assert_eq!(drain(&mut schedule), [6], "c deleted once dissociated");
    assert!(schedule.not_started().is_empty());
}

#[test]
fn a_recreate_holds_back_the_changes_of_the_grant_it_replaces_and_of_the_new_one() {
    let changes = [
        recreate("new", "old"),
        associate("new", "org1"),
        dissociate("old", "org2"),
    ];
    let mut schedule = Schedule::new(&changes);
    assert_eq!(drain(&mut schedule), [0]);
    schedule.succeeded(0);
    assert_eq!(drain(&mut schedule), [1, 2]);
}

#[test]
fn what_waits_for_a_change_that_failed_never_starts() {
    let changes = [create("a"), associate("a", "org1"), delete("b")];
    let mut schedule = Schedule::new(&changes);
    assert_eq!(drain(&mut schedule), [0, 2]);
    schedule.succeeded(2);
    // Change 0 failed: it is never reported as succeeded.
    assert!(drain(&mut schedule).is_empty());
    assert_eq!(schedule.not_started(), [1]);
}

/// When each change ran, in seconds of virtual time since the start.
#[derive(Debug, Default)]
struct Timeline {
    started: Vec<(usize, f64)>,
    ended: Vec<(usize, f64)>,
    most_at_once: usize,
    running: usize,
}

/// Runs `changes`, each a sleep of `seconds[index]` that fails if `fails[index]`, at most
/// `parallelism` at a time, stopping once `stop_at` (virtual seconds) has passed.
async fn run_in_virtual_time(
    changes: &[Change],
    seconds: &[u64],
    fails: &[usize],
    parallelism: usize,
    stop_at: Option<u64>,
) -> (Timeline, Ran<Result<(), ()>>) {
    let start = Instant::now();
    let at = move || start.elapsed().as_secs_f64();
    let timeline = RefCell::new(Timeline::default());
    let stop = || stop_at.is_some_and(|stop_at| start.elapsed() >= Duration::from_secs(stop_at));
    let ran = run(
        changes,
        parallelism,
        &stop,
        |index| {
            let mut line = timeline.borrow_mut();
            line.started.push((index, at()));
            line.running += 1;
            line.most_at_once = line.most_at_once.max(line.running);
            let fails = fails.contains(&index);
            let seconds = seconds[index];
            async move {
                tokio::time::sleep(Duration::from_secs(seconds)).await;
                if fails { Err(()) } else { Ok(()) }
            }
        },
        |index, output| {
            let mut line = timeline.borrow_mut();
            line.ended.push((index, at()));
            line.running -= 1;
            if output.is_ok() {
                Ended::Succeeded
            } else {
                Ended::Failed
            }
        },
    )
    .await;
    (timeline.into_inner(), ran)
}

fn started_at(timeline: &Timeline, index: usize) -> Option<f64> {
    timeline
        .started
        .iter()
        .find(|(started, _)| *started == index)
        .map(|(_, at)| *at)
}

#[tokio::test(start_paused = true)]
async fn associations_start_when_their_grant_is_created_and_other_grants_go_at_once() {
    let changes = [
        create("a"),            // 0: 3 s
        create("b"),            // 1: 1 s
        associate("a", "org1"), // 2
        associate("b", "org1"), // 3
        delete("c"),            // 4
    ];
    let (timeline, ran) = run_in_virtual_time(&changes, &[3, 1, 1, 1, 1], &[], 10, None).await;
    assert_eq!(started_at(&timeline, 0), Some(0.0));
    assert_eq!(started_at(&timeline, 1), Some(0.0));
    assert_eq!(started_at(&timeline, 4), Some(0.0), "another grant does not wait");
    assert_eq!(
        started_at(&timeline, 3),
        Some(1.0),
        "b's association when b exists"
    );
    assert_eq!(
        started_at(&timeline, 2),
        Some(3.0),
        "a's association when a exists"
    );
    assert_eq!(ran.finished.len(), 5);
    assert_eq!(ran.first_failure, None);
    assert!(ran.not_started.is_empty());
}

#[tokio::test(start_paused = true)]
async fn no_more_than_the_parallelism_run_at_once_and_a_free_slot_is_taken_at_once() {
    let changes: Vec<Change> = (0..7).map(|n| delete(&format!("grant-{n}"))).collect();
    let (timeline, ran) = run_in_virtual_time(&changes, &[2, 1, 3, 1, 1, 1, 1], &[], 3, None).await;
    assert_eq!(timeline.most_at_once, 3);
    assert_eq!(started_at(&timeline, 3), Some(1.0), "the slot change 1 left");
    assert_eq!(started_at(&timeline, 4), Some(2.0));
    assert_eq!(started_at(&timeline, 5), Some(2.0));
    assert_eq!(started_at(&timeline, 6), Some(3.0));
    assert_eq!(ran.finished.len(), 7);
}

#[tokio::test(start_paused = true)]
async fn after_a_failure_nothing_starts_and_what_runs_finishes() {
    let changes = [
        create("a"),            // 0: fails after 1 s
        delete("b"),            // 1: runs until 3 s
        associate("a", "org1"), // 2: waits for 0
        delete("c"),            // 3: waits for a free slot
        delete("d"),            // 4: waits for a free slot
    ];
    let (timeline, ran) = run_in_virtual_time(&changes, &[1, 3, 1, 1, 1], &[0], 2, None).await;
    assert_eq!(ran.first_failure, Some(0));
    let finished: Vec<usize> = ran.finished.iter().map(|(index, _)| *index).collect();
    assert_eq!(
        finished,
        [0, 1],
        "the delete in flight finished after the failure"
    );
    assert_eq!(timeline.ended, [(0, 1.0), (1, 3.0)]);
    assert_eq!(
        ran.not_started,
        [2, 3, 4],
        "the association of the failed create, and the deletes no slot was free for"
    );
}

#[tokio::test(start_paused = true)]
async fn told_to_stop_it_starts_nothing_more_and_what_runs_finishes() {
    let changes: Vec<Change> = (0..5).map(|n| delete(&format!("grant-{n}"))).collect();
    let (timeline, ran) = run_in_virtual_time(&changes, &[1, 2, 2, 1, 1], &[], 2, Some(1)).await;
    assert_eq!(timeline.ended, [(0, 1.0), (1, 2.0)]);
    assert_eq!(ran.first_failure, None);
    assert_eq!(ran.not_started, [2, 3, 4]);
}
