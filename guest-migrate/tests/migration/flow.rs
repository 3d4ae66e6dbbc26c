//! The state machine: each state's waits, writes and errors, and the API calls a
//! step makes (recorded, so their order can be checked).

use guest_migrate::{Cluster, KubeError, ListQuery, ObjRef, PatchKind, Step, step};
use migration_data::configmap;
use migration_data::snapshot::created;
use serde_json::{Value, json};

use crate::support::cluster::{Budget, Kill, Killing, Lines, StoreCluster};
use crate::support::data::{fixture, seeded, without_linstor};
use crate::support::deckhouse::{complete, play, state};

fn set_state(cluster: &mut StoreCluster, to: &str) {
    let key = kube_memstore::Key::of(&configmap(to)).expect("key");
    cluster
        .store
        .merge_patch(&key, &json!({"data": {"state": to}}))
        .expect("state set");
}

fn wait_reason(result: Result<Step, String>) -> String {
    match result {
        Ok(Step::Wait(ms, why)) if ms > 0 => why,
        other => panic!("expected a wait, got {other:?}"),
    }
}

#[test]
fn absent_configmap_is_an_error_naming_it() {
    let mut cluster = StoreCluster::default();
    let error = step(&mut cluster, &mut Lines::default()).expect_err("no ConfigMap must fail");
    assert!(
        error.contains("d8-sds-replicated-volume/control-plane-migration")
            && error.contains("state-sync"),
        "{error}"
    );
}

#[test]
fn unknown_state_is_an_error() {
    let mut cluster = without_linstor();
    set_state(&mut cluster, "stage3_started");
    let error = step(&mut cluster, &mut Lines::default()).expect_err("unknown state must fail");
    assert!(error.contains("\"stage3_started\""), "{error}");
    assert_eq!(state(&cluster.store).as_deref(), Some("stage3_started"));
}

#[test]
fn all_completed_has_nothing_to_do_and_writes_nothing() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    set_state(&mut cluster, "all_completed");
    let before = cluster.store.revision();
    let result = step(&mut cluster, &mut Lines::default());
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
    let why = wait_reason(step(&mut cluster, &mut log));
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
    wait_reason(step(&mut cluster, &mut log));
    assert!(created(&cluster.store).is_empty());
}

#[test]
fn pass1_creates_in_maintenance_then_waits_for_the_new_control_plane() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let mut log = Lines::default();
    wait_reason(step(&mut cluster, &mut log));
    play(&mut cluster.store); // LINSTOR stops
    let why = wait_reason(step(&mut cluster, &mut log));
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
    wait_reason(step(&mut cluster, &mut log));
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
    let mut budget = Budget {
        left: 1,
        mode: Kill::Before,
        killed: false,
    };
    let why = wait_reason(step(
        &mut Killing {
            inner: &mut cluster,
            budget: &mut budget,
        },
        &mut Lines::default(),
    ));
    assert!(why.contains("unavailable"), "{why}");
}

/// Changes the ConfigMap behind the guest's back just before its first state write.
struct Racing<'a> {
    inner: &'a mut StoreCluster,
    raced: bool,
}

impl Cluster for Racing<'_> {
    fn get(&mut self, o: &ObjRef) -> Result<Value, KubeError> {
        self.inner.get(o)
    }
    fn list(&mut self, q: &ListQuery) -> Result<Vec<Value>, KubeError> {
        self.inner.list(q)
    }
    fn create(&mut self, o: &Value, if_absent: bool) -> Result<Value, KubeError> {
        self.inner.create(o, if_absent)
    }
    fn patch(&mut self, o: &ObjRef, kind: PatchKind, patch: &Value) -> Result<Value, KubeError> {
        if !self.raced && o.kind == "ConfigMap" {
            self.raced = true;
            self.inner.patch(
                o,
                PatchKind::Merge,
                &json!({"metadata": {"annotations": {"touched": "by-someone"}}}),
            )?;
        }
        self.inner.patch(o, kind, patch)
    }
    fn delete(&mut self, o: &ObjRef) -> Result<(), KubeError> {
        self.inner.delete(o)
    }
}

#[test]
fn a_concurrent_configmap_change_is_not_overwritten() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let result = step(
        &mut Racing {
            inner: &mut cluster,
            raced: false,
        },
        &mut Lines::default(),
    );
    assert!(
        matches!(&result, Ok(Step::Wait(_, why)) if why.contains("changed")),
        "{result:?}"
    );
    assert_eq!(state(&cluster.store).as_deref(), Some("not_started"));
    wait_reason(step(&mut cluster, &mut Lines::default()));
    assert_eq!(state(&cluster.store).as_deref(), Some("stage1_started"));
}

/// Records `verb kind name` of every call.
pub struct Recording<'a> {
    pub inner: &'a mut StoreCluster,
    pub calls: Vec<String>,
}

impl Cluster for Recording<'_> {
    fn get(&mut self, o: &ObjRef) -> Result<Value, KubeError> {
        self.calls.push(format!("get {} {}", o.kind, o.name));
        self.inner.get(o)
    }
    fn list(&mut self, q: &ListQuery) -> Result<Vec<Value>, KubeError> {
        self.calls
            .push(format!("list {} {}", q.kind, q.api_version));
        self.inner.list(q)
    }
    fn create(&mut self, o: &Value, if_absent: bool) -> Result<Value, KubeError> {
        self.calls.push(format!(
            "create{} {} {}",
            if if_absent { "-if-absent" } else { "" },
            o["kind"].as_str().unwrap_or(""),
            o["metadata"]["name"].as_str().unwrap_or("")
        ));
        self.inner.create(o, if_absent)
    }
    fn patch(&mut self, o: &ObjRef, kind: PatchKind, patch: &Value) -> Result<Value, KubeError> {
        self.calls
            .push(format!("patch-{kind:?} {} {} {patch}", o.kind, o.name));
        self.inner.patch(o, kind, patch)
    }
    fn delete(&mut self, o: &ObjRef) -> Result<(), KubeError> {
        self.calls.push(format!("delete {} {}", o.kind, o.name));
        self.inner.delete(o)
    }
}

/// Runs to the end recording each step's calls (printed with --nocapture).
fn recorded_run() -> Vec<Vec<String>> {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let mut steps = Vec::new();
    for _ in 0..10 {
        play(&mut cluster.store);
        let mut recording = Recording {
            inner: &mut cluster,
            calls: Vec::new(),
        };
        let result = step(&mut recording, &mut Lines::default());
        steps.push(recording.calls);
        println!(
            "--- step {} -> {result:?}\n{}",
            steps.len(),
            steps.last().map(|c| c.join("\n")).unwrap_or_default()
        );
        if matches!(result, Ok(Step::Done(_))) {
            return steps;
        }
    }
    panic!("did not finish");
}

#[test]
fn creates_are_if_absent_and_ordered_pools_then_per_volume() {
    let steps = recorded_run();
    let calls: Vec<&String> = steps.iter().flatten().collect();
    let creates: Vec<&str> = calls
        .iter()
        .filter(|c| c.starts_with("create"))
        .map(|c| c.as_str())
        .collect();
    assert!(
        creates.iter().all(|c| c.starts_with("create-if-absent ")),
        "{creates:#?}"
    );
    let order = [
        "ReplicatedStoragePool",
        "LVMLogicalVolume",
        "DRBDResource",
        "ReplicatedVolumeReplica",
        "ReplicatedVolume",
        "ReplicatedVolumeAttachment",
    ];
    let rank = |c: &str| {
        order
            .iter()
            .position(|k| c.split(' ').nth(1) == Some(*k))
            .expect("known kind")
    };
    let volume = |c: &str| {
        c.split(' ').nth(2).map(|n| {
            n.trim_start_matches("csi-")
                .get(..40)
                .unwrap_or(n)
                .to_owned()
        })
    };
    // Pools first; then within each volume LLV < DRBDResource < RVR < RV < RVA.
    let first_other = creates
        .iter()
        .position(|c| rank(c) > 0)
        .expect("volume objects");
    assert!(
        creates[..first_other].iter().all(|c| rank(c) == 0)
            && creates[first_other..].iter().all(|c| rank(c) > 0)
    );
    for pair in creates[first_other..].windows(2) {
        if volume(pair[0]) == volume(pair[1]) {
            assert!(rank(pair[0]) <= rank(pair[1]), "out of order: {pair:?}");
        }
    }
    // The LINSTOR check precedes every read of LINSTOR data and every create.
    let linstor_check = calls
        .iter()
        .position(|c| c.as_str() == "get DaemonSet linstor-node")
        .expect("checked");
    let first_read = calls
        .iter()
        .position(|c| c.contains("internal.linstor.linbit.com") || c.starts_with("create"))
        .expect("read");
    assert!(linstor_check < first_read);
    // Every state write carries the resourceVersion it was read at.
    let state_writes: Vec<&&String> = calls
        .iter()
        .filter(|c| c.contains("ConfigMap"))
        .filter(|c| c.starts_with("patch"))
        .collect();
    assert_eq!(state_writes.len(), 4);
    assert!(
        state_writes
            .iter()
            .all(|c| c.contains("\"resourceVersion\"")),
        "{state_writes:#?}"
    );
}

/// Another actor creates the first replica between Pass 1's listing and its create.
struct CreatedMeanwhile<'a> {
    inner: &'a mut StoreCluster,
    done: bool,
}

impl Cluster for CreatedMeanwhile<'_> {
    fn get(&mut self, o: &ObjRef) -> Result<Value, KubeError> {
        self.inner.get(o)
    }
    fn list(&mut self, q: &ListQuery) -> Result<Vec<Value>, KubeError> {
        self.inner.list(q)
    }
    fn create(&mut self, o: &Value, if_absent: bool) -> Result<Value, KubeError> {
        if !self.done && o["kind"] == "ReplicatedVolumeReplica" {
            self.done = true;
            self.inner.create(o, false)?;
        }
        self.inner.create(o, if_absent)
    }
    fn patch(&mut self, o: &ObjRef, kind: PatchKind, patch: &Value) -> Result<Value, KubeError> {
        self.inner.patch(o, kind, patch)
    }
    fn delete(&mut self, o: &ObjRef) -> Result<(), KubeError> {
        self.inner.delete(o)
    }
}

#[test]
fn an_object_created_meanwhile_is_taken_as_is() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    wait_reason(step(&mut cluster, &mut Lines::default()));
    play(&mut cluster.store);
    let mut racing = CreatedMeanwhile {
        inner: &mut cluster,
        done: false,
    };
    wait_reason(step(&mut racing, &mut Lines::default()));
    assert!(racing.done);
    assert_eq!(state(&cluster.store).as_deref(), Some("stage1_completed"));
}
