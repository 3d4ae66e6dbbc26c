//! Pass 2's per-volume adoption gate: maintenance ends on a volume only when its
//! adopt/v1 formation is at "Exit maintenance" and the rvr-controller has taken over
//! all its DRBDResources; a volume stuck past the timeout fails the Job by name.

use std::collections::BTreeSet;

use guest_migrate::Settings;
use migration_data::controller::Behaviour;
use migration_data::snapshot::created;
use serde_json::{Value, json};

use crate::support::cluster::{Lines, Served, StoreCluster};
use crate::support::data::{fixture, seeded};
use crate::support::deckhouse::{Ending, Run, complete, drive_with, job, play, play_with, state};

const THICK: &str = "pvc-923a7369-94e3-bf91-1a61-dbe22e44158b";
const THIN: &str = "pvc-7e62aa0a-1df9-fd78-9c65-39382b0537e6";
const ADOPT_RVR: &str = "sds-replicated-volume.deckhouse.io/adopt-rvr";

fn quick() -> Settings {
    Settings {
        adoption_timeout_seconds: 20,
        adoption_poll_seconds: 2,
        ..Settings::default()
    }
}

fn in_maintenance(cluster: &StoreCluster, volume: &str) -> Vec<bool> {
    created(&cluster.store)
        .iter()
        .filter(|o| o["kind"] == "DRBDResource" && o["spec"]["actualNameOnTheNode"] == volume)
        .map(|o| o["spec"]["maintenance"] == "NoResourceReconciliation")
        .collect()
}

fn marked(cluster: &StoreCluster, volume: &str) -> bool {
    created(&cluster.store)
        .iter()
        .find(|o| o["kind"] == "ReplicatedVolume" && o["metadata"]["name"] == volume)
        .is_some_and(|rv| rv["metadata"]["annotations"].get(ADOPT_RVR).is_some())
}

fn failed_with(behaviour: Behaviour) -> (StoreCluster, String, Lines) {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let mut log = Lines::default();
    let run = Run {
        settings: quick(),
        behaviour,
        budget: None,
    };
    match drive_with(&mut cluster, &mut log, run) {
        Ending::Failed(error) => (cluster, error, log),
        other => panic!("expected the Job to fail, got {other:?}"),
    }
}

#[test]
fn a_volume_that_never_reaches_the_gate_keeps_maintenance_and_fails_the_job_by_name() {
    let behaviour = Behaviour {
        stuck: BTreeSet::from([THICK.to_owned()]),
        ..Behaviour::default()
    };
    let (cluster, error, log) = failed_with(behaviour);
    assert!(
        error.contains("no volume passed the adoption gate for 20s")
            && error.contains(&format!(
                "ReplicatedVolume {THICK}: adopt/v1 steps are [Completed, Active, Pending]"
            )),
        "{error}"
    );
    assert!(
        error.contains("1 problem(s)"),
        "only the stuck volume is named: {error}"
    );
    assert_eq!(state(&cluster.store).as_deref(), Some("stage2_started"));
    assert_eq!(in_maintenance(&cluster, THICK), [true; 3]);
    assert!(marked(&cluster, THICK));
    // The others passed the gate: maintenance lifted, annotations gone.
    assert!(in_maintenance(&cluster, THIN).iter().all(|m| !m));
    assert!(!marked(&cluster, THIN));
    assert!(log.contains("Pass 2 progress volumes=3/4"), "{:#?}", log.0);
}

#[test]
fn a_volume_whose_drbd_resources_are_not_labelled_yet_keeps_maintenance() {
    let behaviour = Behaviour {
        unlabelled: BTreeSet::from([THIN.to_owned()]),
        ..Behaviour::default()
    };
    let (cluster, error, _) = failed_with(behaviour);
    assert!(
        error.contains(&format!(
            "ReplicatedVolume {THIN}: adoption gate open, but DRBDResource"
        )) && error.contains("not yet labelled"),
        "{error}"
    );
    assert_eq!(in_maintenance(&cluster, THIN), [true; 3]);
    assert!(marked(&cluster, THIN));
    assert!(!marked(&cluster, THICK));
}

#[test]
fn waiting_is_not_failing_before_the_timeout() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let behaviour = Behaviour {
        stuck: BTreeSet::from([THICK.to_owned()]),
        ..Behaviour::default()
    };
    let (mut migrator, clock) = job(quick());
    let mut last = None;
    for _ in 0..6 {
        play_with(&mut cluster.store, &behaviour);
        last = Some(migrator.step(&Served::new(&mut cluster, &mut Lines::default())));
        clock.advance(std::time::Duration::from_secs(2));
    }
    let why = match last {
        Some(Ok(deckhouse_hooks_sdk::Step::Wait { ms: 2000, why })) => why,
        other => panic!("expected a 2 s wait, got {other:?}"),
    };
    assert!(
        why.contains(&format!("adopt 1 of 4 volumes: {THICK}")),
        "{why}"
    );
}

#[test]
fn a_volume_past_the_gate_gets_maintenance_lifted_then_its_annotations_removed() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let mut log = Lines::default();
    complete(&mut cluster, &mut log);
    for volume in [THICK, THIN] {
        assert!(
            in_maintenance(&cluster, volume).iter().all(|m| !m),
            "{volume}"
        );
        assert!(!marked(&cluster, volume), "{volume}");
    }
    // The controller then finishes each formation: maintenance was really gone.
    play(&mut cluster.store);
    let formed = created(&cluster.store)
        .iter()
        .filter(|o| o["kind"] == "ReplicatedVolume")
        .all(|rv| rv["status"]["datameshRevision"] == 2);
    assert!(formed);
}

/// A Job killed after lifting maintenance but before removing the annotations: the
/// controller finishes the formation (the gate is gone), and the next Job still
/// removes the annotations instead of waiting forever.
#[test]
fn a_formation_finished_before_the_annotations_were_removed_is_cleaned_up() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let (mut migrator, _) = job(Settings::default());
    for _ in 0..3 {
        play(&mut cluster.store);
        let _ = migrator.step(&Served::new(&mut cluster, &mut Lines::default()));
        if state(&cluster.store).as_deref() == Some("stage2_started")
            || state(&cluster.store).as_deref() == Some("all_completed")
        {
            break;
        }
    }
    // Stage the crash: back to stage2_started with THICK lifted but still marked.
    let cm = kube_memstore::Key::of(&migration_data::configmap("x")).expect("key");
    cluster
        .store
        .merge_patch(&cm, &json!({"data": {"state": "stage2_started"}}))
        .expect("state");
    let rv = kube_memstore::Key {
        api_version: "storage.deckhouse.io/v1alpha1".into(),
        kind: "ReplicatedVolume".into(),
        namespace: None,
        name: THICK.into(),
    };
    cluster
        .store
        .merge_patch(&rv, &json!({"metadata": {"annotations": {ADOPT_RVR: ""}}}))
        .expect("marked again");
    play(&mut cluster.store);
    let status: Value = cluster.store.get(&rv).expect("RV")["status"].clone();
    assert_eq!(
        status["datameshRevision"], 2,
        "the formation finished: {status}"
    );
    complete(&mut cluster, &mut Lines::default());
    assert!(!marked(&cluster, THICK));
    assert_eq!(state(&cluster.store).as_deref(), Some("all_completed"));
}
