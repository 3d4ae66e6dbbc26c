//! Deckhouse and kubelet as the Job sees them, on a background thread: the module's
//! templates follow the migration state (LINSTOR only before stage1_started, the new
//! agent and controller from stage1_completed on) and kubelet reports them ready.

use super::cluster::Cluster;
use migration_data::snapshot::{is_created_kind, migration_state as state};
use migration_data::well_known::STORAGE_V1ALPHA1 as STORAGE;
use migration_data::{linstor_workloads, ready_new_control_plane};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use test_apiserver::{Key, Store};

/// What Deckhouse did, and anything it saw that the seed forbids.
#[derive(Debug, Default)]
pub struct Played {
    pub stopped_linstor: bool,
    pub started_new: bool,
    pub problems: Vec<String>,
}

/// How long Deckhouse takes to re-render after a state change; long enough that
/// the Job always finds LINSTOR still running right after its own state change.
const REACTION: Duration = Duration::from_millis(1000);

/// Plays along while `during` runs, then returns what it did.
pub fn play_while<T>(cluster: &Cluster, during: impl FnOnce() -> T) -> (T, Played) {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let player = scope.spawn(|| {
            let mut played = Played::default();
            let mut seen: Option<(String, Instant)> = None;
            while !stop.load(Ordering::Relaxed) {
                let state = state(&cluster.store());
                if seen.as_ref().map(|(s, _)| s) != state.as_ref() {
                    seen = state.map(|s| (s, Instant::now()));
                }
                if let Some((state, since)) = &seen
                    && since.elapsed() >= REACTION
                {
                    render(&mut cluster.store(), state, &mut played);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            played
        });
        let result = during();
        stop.store(true, Ordering::Relaxed);
        (
            result,
            player.join().expect("the Deckhouse thread panicked"),
        )
    })
}

/// The workloads the module's templates render for `state`, as kubelet runs them.
fn render(store: &mut Store, state: &str, played: &mut Played) {
    let linstor = state == "not_started";
    let new = matches!(
        state,
        "stage1_completed" | "stage2_started" | "all_completed"
    );
    for object in linstor_workloads() {
        if ensure(store, object, linstor) && !linstor {
            played.stopped_linstor = true;
            check_nothing_created(store, played);
        }
    }
    for object in ready_new_control_plane() {
        if ensure(store, object, new) && new {
            played.started_new = true;
            check_all_in_maintenance(store, played);
        }
    }
}

/// Makes `object` present or absent; true if that changed anything.
fn ensure(store: &mut Store, object: Value, present: bool) -> bool {
    let key = Key::of(&object).expect("workloads have an identity");
    match (present, store.get(&key).is_ok()) {
        (true, false) => store.create(object).is_ok(),
        (false, true) => store.delete(&key).is_ok(),
        _ => false,
    }
}

/// Pass 1 must not have started while LINSTOR ran.
fn check_nothing_created(store: &Store, played: &mut Played) {
    let created = store.objects().filter(|o| is_created_kind(o)).count();
    if created > 0 {
        played.problems.push(format!(
            "{created} new objects existed while LINSTOR still ran"
        ));
    }
}

/// Pass 1 must hand every DRBDResource over in maintenance.
fn check_all_in_maintenance(store: &Store, played: &mut Played) {
    let drbd = store
        .objects()
        .filter(|o| o["apiVersion"] == STORAGE && o["kind"] == "DRBDResource");
    for o in drbd.filter(|o| o["spec"]["maintenance"] != "NoResourceReconciliation") {
        played.problems.push(format!(
            "DRBDResource {} not in maintenance when the agent started",
            o["metadata"]["name"]
        ));
    }
}
