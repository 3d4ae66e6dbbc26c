//! Kill the Job at call k (request lost, or applied with its answer lost), start a
//! fresh one, and insist the end state equals an uninterrupted run's. Creates go in
//! batches and each object of a batch is one call, so kills land mid-batch too.

use std::collections::BTreeMap;

use migration_data::generator::cluster;
use migration_data::snapshot::{Difference, store_state as state};
use serde_json::Value;

use crate::support::cluster::{Budget, Kill, Lines, StoreCluster};
use crate::support::data::{fixture, seeded};
use crate::support::deckhouse::{Ending, Run, complete_with, drive_with, play};
use guest_migrate::Settings;

/// The uninterrupted end state and how many calls the run made.
fn reference(seed: &StoreCluster) -> (BTreeMap<String, Value>, usize) {
    let mut store = seed.clone();
    let mut budget = Budget::new(usize::MAX, Kill::Before);
    let ending = drive_with(&mut store, &mut Lines::default(), run(&mut budget));
    assert!(matches!(ending, Ending::Done(_)), "{ending:?}");
    play(&mut store.store);
    (state(&store.store), usize::MAX - budget.left)
}

/// Kills the first Job after `k` calls, then runs a fresh Job to the end.
fn killed_then_rerun(seed: &StoreCluster, k: usize, mode: Kill) -> BTreeMap<String, Value> {
    let mut store = seed.clone();
    let mut budget = Budget::new(k, mode);
    match drive_with(&mut store, &mut Lines::default(), run(&mut budget)) {
        Ending::Killed | Ending::Done(_) => {}
        Ending::Failed(error) => {
            panic!("killed at call {k} ({mode:?}), the Job failed instead: {error}")
        }
    }
    complete_with(&mut store, &mut Lines::default(), settings());
    // The controller finishes the formations whose maintenance was lifted.
    play(&mut store.store);
    state(&store.store)
}

/// Small batches, so a kill lands inside many of them.
fn settings() -> Settings {
    Settings {
        create_batch: 4,
        page_size: 50,
        ..Settings::default()
    }
}

fn run(budget: &mut Budget) -> Run<'_> {
    Run {
        settings: settings(),
        budget: Some(budget),
        ..Run::default()
    }
}

fn assert_same(
    k: usize,
    mode: Kill,
    expected: &BTreeMap<String, Value>,
    actual: &BTreeMap<String, Value>,
) {
    if let Some(difference) = Difference::between(expected, actual) {
        panic!("killed at call {k} ({mode:?}): end state differs\n{difference}");
    }
}

#[test]
fn small_cluster_survives_a_kill_at_every_call() {
    let seed = seeded(fixture("small-cluster.yaml"));
    let (expected, total) = reference(&seed);
    assert!(total > 50, "the run made only {total} calls");
    for mode in [Kill::Before, Kill::AfterApply] {
        for k in 0..=total {
            assert_same(k, mode, &expected, &killed_then_rerun(&seed, k, mode));
        }
    }
}

#[test]
fn big_cluster_survives_kills_at_sampled_calls() {
    // A fifth of the big cluster: still dozens of batches per phase at createBatch 4,
    // and each sampled kill replays a whole migration.
    let seed = seeded(cluster(crate::big::BIG / 5));
    let (expected, total) = reference(&seed);
    // Before Pass 1, across Pass 1's batches, into Pass 2's hand-over, last call.
    let points = [
        12,
        total / 4,
        total / 2,
        total * 3 / 4,
        total - 40,
        total - 1,
    ];
    for (n, k) in points.into_iter().enumerate() {
        let mode = if n % 2 == 0 {
            Kill::Before
        } else {
            Kill::AfterApply
        };
        assert_same(k, mode, &expected, &killed_then_rerun(&seed, k, mode));
    }
}
