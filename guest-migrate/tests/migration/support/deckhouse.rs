//! A stand-in for Deckhouse, the module's templates and the new controller: after each
//! step it makes the workloads match the migration state, as re-rendering would, lets
//! the simulated controller adopt marked volumes while the new control plane runs, and
//! drives one Job (one `Migrator`) until it ends, advancing the test clock by each wait.

use std::time::Duration;

use deckhouse_hooks_sdk::{Host, Job, JobContext, Report, Step};
use guest_migrate::{Migrator, Settings};
use kube_memstore::{Key, Store};
use migration_data::controller::{self, Behaviour};
use migration_data::{linstor_workloads, ready_new_control_plane};

pub use migration_data::snapshot::migration_state as state;

use super::clock::TestClock;
use super::cluster::{Budget, Killing, Lines, Served, StoreCluster};

/// Steps after which a run that has not ended counts as stuck.
const MAX_STEPS: usize = 60;

/// LINSTOR runs only before the migration starts; the new agent and controller run
/// (and are ready, and adopt) from stage1_completed on.
pub fn play(store: &mut Store) {
    play_with(store, &Behaviour::default());
}

pub fn play_with(store: &mut Store, behaviour: &Behaviour) {
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
    if new {
        controller::adopt(store, behaviour);
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

/// One Job as the host runs it: one migrator, called with the same settings.
pub struct TestJob {
    pub migrator: Migrator,
    pub settings: Settings,
}

impl TestJob {
    /// One step on `host`; the error is the Job's failure text.
    pub fn step(&mut self, host: &dyn Host) -> Result<Step, String> {
        let ctx = JobContext::new(host);
        self.migrator
            .step(&ctx, &self.settings)
            .map_err(String::from)
    }

    pub fn rehearse(&mut self, host: &dyn Host) -> Result<Report, String> {
        let ctx = JobContext::new(host);
        self.migrator
            .rehearse(&ctx, &self.settings)
            .map_err(String::from)
    }

    pub fn status(&mut self, host: &dyn Host) -> Result<Report, String> {
        let ctx = JobContext::new(host);
        self.migrator
            .status(&ctx, &self.settings)
            .map_err(String::from)
    }
}

/// A Job's migrator on a test clock.
pub fn job(settings: Settings) -> (TestJob, TestClock) {
    let clock = TestClock::default();
    let migrator = Migrator::new(Box::new(clock.clone()));
    (TestJob { migrator, settings }, clock)
}

/// How a driven Job ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    Done(String),
    Failed(String),
    /// The budget ran out: the Job was killed mid-step.
    Killed,
}

/// What a driven Job runs with.
#[derive(Default)]
pub struct Run<'a> {
    pub settings: Settings,
    pub behaviour: Behaviour,
    pub budget: Option<&'a mut Budget>,
}

/// Runs one Job's steps (Deckhouse and the controller playing in between) until done,
/// failed, killed or stuck.
pub fn drive_with(cluster: &mut StoreCluster, log: &mut Lines, run: Run) -> Ending {
    let Run {
        settings,
        behaviour,
        mut budget,
    } = run;
    let (mut migrator, clock) = job(settings);
    let mut waits = Vec::new();
    for _ in 0..MAX_STEPS {
        play_with(&mut cluster.store, &behaviour);
        let served = Served::new(cluster, log);
        let result = match budget.as_deref_mut() {
            Some(budget) => migrator.step(&Killing::new(&served, budget)),
            None => migrator.step(&served),
        };
        if budget.as_deref().is_some_and(|b| b.killed) {
            return Ending::Killed;
        }
        match result {
            Ok(Step::Done(summary)) => return Ending::Done(summary),
            Ok(Step::Wait { ms, why }) => {
                clock.advance(Duration::from_millis(ms.into()));
                waits.push(why);
            }
            Err(error) => return Ending::Failed(error),
        }
    }
    panic!("the Job did not finish in {MAX_STEPS} steps; it waited for: {waits:#?}");
}

/// Runs a Job with default settings.
pub fn drive(cluster: &mut StoreCluster, log: &mut Lines, budget: Option<&mut Budget>) -> Ending {
    drive_with(
        cluster,
        log,
        Run {
            budget,
            ..Run::default()
        },
    )
}

/// Drives a healthy run and insists it completes.
pub fn complete(cluster: &mut StoreCluster, log: &mut Lines) -> String {
    complete_with(cluster, log, Settings::default())
}

pub fn complete_with(cluster: &mut StoreCluster, log: &mut Lines, settings: Settings) -> String {
    let run = Run {
        settings,
        ..Run::default()
    };
    match drive_with(cluster, log, run) {
        Ending::Done(summary) => summary,
        other => panic!("expected the migration to complete, got {other:?}"),
    }
}
