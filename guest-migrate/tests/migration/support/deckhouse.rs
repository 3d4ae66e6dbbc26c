//! A stand-in for Deckhouse and the module's templates: after each step it makes the
//! workloads match the migration state, as re-rendering would, and drives the Job.

use guest_migrate::{Log, Step, step};
use kube_memstore::{Key, Store};
use migration_data::{linstor_workloads, ready_new_control_plane};

pub use migration_data::snapshot::migration_state as state;

use super::cluster::{Budget, Killing, StoreCluster};

/// Steps after which a run that has not ended counts as stuck.
const MAX_STEPS: usize = 40;

/// LINSTOR runs only before the migration starts; the new agent and controller run
/// (and are ready) from stage1_completed on.
pub fn play(store: &mut Store) {
    let Some(state) = state(store) else { return };
    let linstor = state == "not_started";
    let new = matches!(
        state.as_str(),
        "stage1_completed" | "stage2_started" | "all_completed"
    );
    for object in linstor_workloads() {
        ensure(store, object, linstor);
    }
    for object in ready_new_control_plane() {
        ensure(store, object, new);
    }
}

fn ensure(store: &mut Store, object: serde_json::Value, present: bool) {
    let key = Key::of(&object).expect("workload has identity");
    match (present, store.get(&key).is_ok()) {
        (true, false) => drop(store.create(object)),
        (false, true) => drop(store.delete(&key)),
        _ => {}
    }
}

/// How a driven Job ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    Done(String),
    Failed(String),
    /// The budget ran out: the Job was killed mid-step.
    Killed,
}

/// Runs steps (Deckhouse playing in between) until done, failed, killed or stuck.
pub fn drive(
    cluster: &mut StoreCluster,
    log: &mut dyn Log,
    mut budget: Option<&mut Budget>,
) -> Ending {
    let mut waits = Vec::new();
    for _ in 0..MAX_STEPS {
        play(&mut cluster.store);
        let result = match budget.as_deref_mut() {
            Some(budget) => step(
                &mut Killing {
                    inner: cluster,
                    budget,
                },
                log,
            ),
            None => step(cluster, log),
        };
        if budget.as_deref().is_some_and(|b| b.killed) {
            return Ending::Killed;
        }
        match result {
            Ok(Step::Done(summary)) => return Ending::Done(summary),
            Ok(Step::Wait(_, why)) => waits.push(why),
            Err(error) => return Ending::Failed(error),
        }
    }
    panic!("the Job did not finish in {MAX_STEPS} steps; it waited for: {waits:#?}");
}

/// Drives a healthy run and insists it completes.
pub fn complete(cluster: &mut StoreCluster, log: &mut dyn Log) -> String {
    match drive(cluster, log, None) {
        Ending::Done(summary) => summary,
        other => panic!("expected the migration to complete, got {other:?}"),
    }
}
