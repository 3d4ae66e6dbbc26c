//! The state machine: pre-flight, each state's waits, writes, Events and errors, and
//! the API calls a step makes (recorded, so their order and batching can be checked).

use deckhouse_hooks_sdk::{Host, Step};
use guest_migrate::Settings;
use migration_data::snapshot::{created, store_state};
use migration_data::{configmap, module_config};
use serde_json::{Value, json};

use crate::support::cluster::{Budget, Kill, Killing, Lines, Served, StoreCluster};
use crate::support::data::{fixture, seeded, without_linstor};
use crate::support::deckhouse::{complete, job, play, state};
use crate::support::recording::{Call, Recording};

pub fn set_state(cluster: &mut StoreCluster, to: &str) {
    let key = kube_memstore::Key::of(&configmap(to)).expect("key");
    cluster
        .store
        .merge_patch(&key, &json!({"data": {"state": to}}))
        .expect("state set");
}

pub fn wait_reason(result: Result<Step, String>) -> String {
    match result {
        Ok(Step::Wait { ms, why }) if ms > 0 => why,
        other => panic!("expected a wait, got {other:?}"),
    }
}

fn one_step(cluster: &mut StoreCluster, log: &mut Lines) -> Result<Step, String> {
    job(Settings::default()).0.step(&Served::new(cluster, log))
}

fn events(cluster: &StoreCluster) -> Vec<Value> {
    cluster
        .store
        .objects()
        .filter(|o| o["kind"] == "Event")
        .cloned()
        .collect()
}

#[test]
fn a_missing_configmap_is_created_with_not_started_and_the_migration_starts() {
    let mut cluster = without_linstor();
    let key = kube_memstore::Key::of(&configmap("x")).expect("key");
    cluster.store.delete(&key).expect("no ConfigMap");
    let mut log = Lines::default();
    complete(&mut cluster, &mut log);
    assert_eq!(state(&cluster.store).as_deref(), Some("all_completed"));
    assert!(
        log.contains("from=not_started to=stage1_started"),
        "{:#?}",
        log.0
    );
}

#[test]
fn an_empty_state_counts_as_not_started() {
    let mut cluster = without_linstor();
    set_state(&mut cluster, "");
    let mut log = Lines::default();
    complete(&mut cluster, &mut log);
    assert!(
        log.contains("from=not_started to=stage1_started"),
        "{:#?}",
        log.0
    );
}

/// Each pre-flight failure is named, fails the Job and leaves the store as it was.
#[test]
fn preflight_refuses_without_the_switch_or_the_crds_and_writes_nothing() {
    let crd = kube_memstore::Key {
        api_version: "apiextensions.k8s.io/v1".into(),
        kind: "CustomResourceDefinition".into(),
        namespace: None,
        name: "replicatedvolumes.storage.deckhouse.io".into(),
    };
    let config = kube_memstore::Key::of(&module_config(true)).expect("key");
    type Breaks<'a> = Box<dyn Fn(&mut StoreCluster) + 'a>;
    let cases: [(&str, Breaks); 3] = [
        (
            "newControlPlane false, not true",
            Box::new(|c| {
                c.store
                    .merge_patch(
                        &config,
                        &json!({"spec": {"settings": {"newControlPlane": false}}}),
                    )
                    .map(drop)
                    .expect("switch off");
            }),
        ),
        (
            "ModuleConfig sds-replicated-volume does not exist",
            Box::new(|c| c.store.delete(&config).map(drop).expect("no config")),
        ),
        (
            "replicatedvolumes.storage.deckhouse.io does not exist",
            Box::new(|c| c.store.delete(&crd).map(drop).expect("no CRD")),
        ),
    ];
    for (expected, break_it) in cases {
        let mut cluster = seeded(fixture("small-cluster.yaml"));
        break_it(&mut cluster);
        play(&mut cluster.store);
        let before = store_state(&cluster.store);
        let revision = cluster.store.revision();
        let error = one_step(&mut cluster, &mut Lines::default()).expect_err("must refuse");
        assert!(
            error.contains(expected) && error.contains("nothing was changed"),
            "{expected}: {error}"
        );
        assert_eq!(
            cluster.store.revision(),
            revision,
            "{expected}: something was written"
        );
        assert_eq!(store_state(&cluster.store), before);
    }
}

#[test]
fn an_unknown_state_is_refused_not_restarted() {
    let mut cluster = without_linstor();
    set_state(&mut cluster, "stage3_started");
    let error = one_step(&mut cluster, &mut Lines::default()).expect_err("unknown state must fail");
    assert!(error.contains("\"stage3_started\""), "{error}");
    assert!(error.contains("not_started, stage1_started"), "{error}");
    assert_eq!(state(&cluster.store).as_deref(), Some("stage3_started"));
}

#[test]
fn all_completed_has_nothing_to_do_and_writes_nothing() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    set_state(&mut cluster, "all_completed");
    let before = cluster.store.revision();
    let result = one_step(&mut cluster, &mut Lines::default());
    assert!(
        matches!(&result, Ok(Step::Done(s)) if s.contains("nothing to do")),
        "{result:?}"
    );
    assert_eq!(cluster.store.revision(), before);
}

#[test]
fn waits_for_linstor_to_stop_before_reading_or_creating_anything() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let mut log = Lines::default();
    let (mut migrator, _) = job(Settings::default());
    let why = wait_reason(migrator.step(&Served::new(&mut cluster, &mut log)));
    assert!(
        why.contains("linstor-controller") && why.contains("linstor-node"),
        "{why}"
    );
    assert_eq!(state(&cluster.store).as_deref(), Some("stage1_started"));
    assert!(
        log.contains("from=not_started to=stage1_started"),
        "{:#?}",
        log.0
    );
    wait_reason(migrator.step(&Served::new(&mut cluster, &mut log)));
    assert!(created(&cluster.store).is_empty());
}

#[test]
fn pass1_creates_in_maintenance_then_waits_for_the_new_control_plane() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let mut log = Lines::default();
    let (mut migrator, _) = job(Settings::default());
    wait_reason(migrator.step(&Served::new(&mut cluster, &mut log)));
    play(&mut cluster.store); // LINSTOR stops
    let why = wait_reason(migrator.step(&Served::new(&mut cluster, &mut log)));
    assert!(why.contains("controller") && why.contains("agent"), "{why}");
    assert_eq!(state(&cluster.store).as_deref(), Some("stage1_completed"));
    let drbds: Vec<Value> = created(&cluster.store)
        .into_iter()
        .filter(|o| o["kind"] == "DRBDResource")
        .collect();
    assert_eq!(drbds.len(), 12);
    assert!(
        drbds
            .iter()
            .all(|d| d["spec"]["maintenance"] == "NoResourceReconciliation")
    );
    // A controller without ready replicas is not enough.
    let controller =
        migration_data::workload("Deployment", "controller", json!({"readyReplicas": 0}));
    cluster.store.create(controller).expect("controller");
    wait_reason(migrator.step(&Served::new(&mut cluster, &mut log)));
    assert_eq!(state(&cluster.store).as_deref(), Some("stage1_completed"));
}

#[test]
fn a_cluster_without_linstor_goes_straight_through() {
    let mut cluster = without_linstor();
    let mut log = Lines::default();
    complete(&mut cluster, &mut log);
    assert_eq!(state(&cluster.store).as_deref(), Some("all_completed"));
    assert!(created(&cluster.store).is_empty());
    assert!(log.contains("no LINSTOR database"), "{:#?}", log.0);
}

#[test]
fn an_unavailable_api_makes_the_step_wait_not_fail() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let mut budget = Budget::new(1, Kill::Before);
    let mut log = Lines::default();
    let served = Served::new(&mut cluster, &mut log);
    let why = wait_reason(one_step_on(&Killing::new(&served, &mut budget)));
    assert!(why.contains("unavailable"), "{why}");
}

fn one_step_on(host: &dyn Host) -> Result<Step, String> {
    job(Settings::default()).0.step(host)
}

#[test]
fn a_concurrent_configmap_change_is_not_overwritten() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let mut raced = false;
    let mut log = Lines::default();
    let served = Served::new(&mut cluster, &mut log);
    let racing = Recording::with_hook(&served, |call, store| {
        if !raced && call.verb == "patch" && call.kind == "ConfigMap" {
            raced = true;
            let key = kube_memstore::Key::of(&configmap("x")).expect("key");
            store
                .store
                .merge_patch(
                    &key,
                    &json!({"metadata": {"annotations": {"touched": "by-someone"}}}),
                )
                .expect("raced");
        }
    });
    let result = one_step_on(&racing);
    drop(racing);
    assert!(
        matches!(&result, Ok(Step::Wait { why, .. }) if why.contains("changed")),
        "{result:?}"
    );
    assert_eq!(state(&cluster.store).as_deref(), Some("not_started"));
    wait_reason(one_step(&mut cluster, &mut Lines::default()));
    assert_eq!(state(&cluster.store).as_deref(), Some("stage1_started"));
}

/// Runs a Job to the end recording every call.
pub fn recorded_run(settings: Settings) -> Vec<Call> {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let (mut migrator, _) = job(settings);
    let mut calls = Vec::new();
    for _ in 0..10 {
        play(&mut cluster.store);
        let mut log = Lines::default();
        let served = Served::new(&mut cluster, &mut log);
        let recording = Recording::new(&served);
        let result = migrator.step(&recording);
        calls.extend(recording.calls.into_inner());
        if matches!(result, Ok(Step::Done(_))) {
            return calls;
        }
    }
    panic!("did not finish");
}

const ORDER: [&str; 6] = [
    "ReplicatedStoragePool",
    "ReplicatedVolumeReplica",
    "LVMLogicalVolume",
    "DRBDResource",
    "ReplicatedVolume",
    "ReplicatedVolumeAttachment",
];

#[test]
fn creates_are_batched_if_absent_and_ordered_pools_replicas_backing_volume_attachments() {
    let settings = Settings {
        create_batch: 5,
        ..Settings::default()
    };
    let calls = recorded_run(settings);
    let creates: Vec<&Call> = calls
        .iter()
        .filter(|c| c.verb == "create" && ORDER.contains(&c.kind.as_str()))
        .collect();
    assert_eq!(creates.len(), 2 + 12 + 8 + 12 + 4 + 3);
    assert!(
        creates.iter().all(|c| c.detail == "IfNotExists"),
        "{creates:#?}"
    );
    assert!(
        creates.iter().all(|c| (1..=5).contains(&c.batch)),
        "batch sizes"
    );
    assert!(creates.iter().any(|c| c.batch == 5), "batches are filled");
    let rank = |c: &Call| {
        let at = ORDER.iter().position(|k| *k == c.kind).expect("known kind");
        // LLVs and DRBDResources go in the same phase.
        if at == 3 { 2 } else { at }
    };
    let volume_of = |c: &Call| {
        let name = c.name.clone().unwrap_or_default();
        name.trim_start_matches("csi-")
            .get(..40)
            .unwrap_or(&name)
            .to_owned()
    };
    // Pools first; then per volume RVR < LLV/DRBDResource < RV < RVA.
    assert!(creates[..2].iter().all(|c| rank(c) == 0));
    for (i, a) in creates.iter().enumerate().skip(2) {
        for b in &creates[i + 1..] {
            if volume_of(a) == volume_of(b) {
                assert!(rank(a) <= rank(b), "out of order: {a} before {b}");
            }
        }
    }
    // The LINSTOR check precedes every read of LINSTOR data and every create.
    let linstor_check = calls
        .iter()
        .position(|c| c.verb == "get" && c.name.as_deref() == Some("linstor-node"))
        .expect("checked");
    let first_read = calls
        .iter()
        .position(|c| {
            c.api_version.starts_with("internal.linstor.linbit.com")
                || c.verb == "create" && c.kind != "Event"
        })
        .expect("read");
    assert!(linstor_check < first_read);
    // Every state write carries the resourceVersion it was read at.
    let state_writes: Vec<&Call> = calls
        .iter()
        .filter(|c| c.verb == "patch" && c.kind == "ConfigMap")
        .collect();
    assert_eq!(state_writes.len(), 4);
    assert!(
        state_writes
            .iter()
            .all(|c| c.detail.contains("\"resourceVersion\"")),
        "{state_writes:#?}"
    );
    // Every list is paginated.
    assert!(
        calls
            .iter()
            .filter(|c| c.verb == "list")
            .all(|c| c.detail.contains("limit=Some(")),
        "unpaginated list"
    );
}

#[test]
fn each_state_change_is_an_event_on_the_configmap() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    complete(&mut cluster, &mut Lines::default());
    let events = events(&cluster);
    let mut messages: Vec<&str> = events
        .iter()
        .map(|e| e["message"].as_str().unwrap_or(""))
        .collect();
    messages.sort_by_key(|m| {
        [
            "not_started to",
            "stage1_started to",
            "stage1_completed to",
            "stage2_started to",
        ]
        .iter()
        .position(|p| m.contains(p))
    });
    assert_eq!(
        messages,
        [
            "migration state changed from not_started to stage1_started",
            "migration state changed from stage1_started to stage1_completed",
            "migration state changed from stage1_completed to stage2_started",
            "migration state changed from stage2_started to all_completed",
        ]
    );
    let key = kube_memstore::Key::of(&configmap("x")).expect("key");
    let uid = cluster.store.get(&key).expect("ConfigMap")["metadata"]["uid"].clone();
    for event in &events {
        assert_eq!(event["involvedObject"]["kind"], "ConfigMap");
        assert_eq!(event["involvedObject"]["uid"], uid);
        assert_eq!(event["reason"], "MigrationStateChanged");
        assert_eq!(event["type"], "Normal");
        assert!(
            event["firstTimestamp"]
                .as_str()
                .is_some_and(|t| t.starts_with("2026-"))
        );
    }
}

#[test]
fn a_failed_job_leaves_a_warning_event() {
    let objects: Vec<Value> = fixture("small-cluster.yaml")
        .into_iter()
        .filter(|o| o["metadata"]["name"] != "vg-worker-2-e26cca")
        .collect();
    let mut cluster = seeded(objects);
    let ending = crate::support::deckhouse::drive(&mut cluster, &mut Lines::default(), None);
    assert!(
        matches!(ending, crate::support::deckhouse::Ending::Failed(_)),
        "{ending:?}"
    );
    let warning = events(&cluster)
        .into_iter()
        .find(|e| e["type"] == "Warning")
        .expect("a Warning event");
    assert_eq!(warning["reason"], "MigrationFailed");
    assert!(
        warning["message"]
            .as_str()
            .is_some_and(|m| m.contains("worker-2")),
        "{warning}"
    );
}

#[test]
fn progress_lines_carry_counts_rate_and_eta() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let mut log = Lines::default();
    complete(&mut cluster, &mut log);
    let line = log
        .0
        .iter()
        .find(|l| l.contains("Pass 1 progress"))
        .expect("a Pass 1 progress line");
    for field in ["objects=41/41", "perSecond=", "eta=0s"] {
        assert!(line.contains(field), "{field} missing in {line}");
    }
    assert!(log.contains("Pass 2 progress volumes=4/4"), "{:#?}", log.0);
}

#[test]
fn an_object_created_meanwhile_is_taken_as_is() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let (mut migrator, _) = job(Settings::default());
    wait_reason(migrator.step(&Served::new(&mut cluster, &mut Lines::default())));
    play(&mut cluster.store);
    let mut done = false;
    let mut log = Lines::default();
    let served = Served::new(&mut cluster, &mut log);
    let racing = Recording::with_hook(&served, |call, store| {
        if !done && call.verb == "create" && call.kind == "ReplicatedVolumeReplica" {
            done = true;
            let name = call.name.clone().unwrap_or_default();
            let volume = name
                .rsplit_once('-')
                .map(|(v, _)| v)
                .unwrap_or("")
                .to_owned();
            store
                .store
                .create(json!({"apiVersion": "storage.deckhouse.io/v1alpha1", "kind": "ReplicatedVolumeReplica",
                    "metadata": {"name": name}, "spec": {"replicatedVolumeName": volume, "nodeName": "x", "type": "Access"}}))
                .expect("created meanwhile");
        }
    });
    wait_reason(migrator.step(&racing));
    drop(racing);
    assert!(done);
    assert_eq!(state(&cluster.store).as_deref(), Some("stage1_completed"));
}
