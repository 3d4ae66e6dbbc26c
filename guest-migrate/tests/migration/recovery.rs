//! The seed's recovery: a failed Job is fixed by correcting the data, resetting the
//! state to not_started and running the Job again.

use migration_data::configmap;
use migration_data::snapshot::created;
use serde_json::{Value, json};

use crate::support::cluster::{Lines, Served, StoreCluster};
use crate::support::data::{fixture, seeded};
use crate::support::deckhouse::{Ending, complete, drive, play, state};

const THICK: &str = "pvc-923a7369-94e3-bf91-1a61-dbe22e44158b";
const THIN: &str = "pvc-7e62aa0a-1df9-fd78-9c65-39382b0537e6";

fn key(kind: &str, name: &str) -> kube_memstore::Key {
    let api_version = if kind == "ConfigMap" {
        "v1"
    } else {
        "storage.deckhouse.io/v1alpha1"
    };
    let namespace = (kind == "ConfigMap").then(|| "d8-sds-replicated-volume".to_owned());
    kube_memstore::Key {
        api_version: api_version.into(),
        kind: kind.into(),
        namespace,
        name: name.into(),
    }
}

fn reset(cluster: &mut StoreCluster) {
    let cm = configmap("not_started");
    let patch = json!({"data": cm["data"]});
    cluster
        .store
        .merge_patch(&key("ConfigMap", "control-plane-migration"), &patch)
        .expect("reset");
}

fn failed(cluster: &mut StoreCluster) -> String {
    match drive(cluster, &mut Lines::default(), None) {
        Ending::Failed(error) => error,
        other => panic!("expected the Job to fail, got {other:?}"),
    }
}

fn reference_created() -> Vec<Value> {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    complete(&mut cluster, &mut Lines::default());
    settled(&mut cluster)
}

/// The created objects once the controller has finished what it was doing.
fn settled(cluster: &mut StoreCluster) -> Vec<Value> {
    play(&mut cluster.store);
    created(&cluster.store)
}

/// The LVMLogicalVolume a DRBDResource names.
fn llv_of(cluster: &StoreCluster, drbd: &str) -> String {
    let drbd = cluster
        .store
        .get(&key("DRBDResource", drbd))
        .expect("DRBDResource");
    drbd["spec"]["lvmLogicalVolumeName"]
        .as_str()
        .expect("diskful")
        .to_owned()
}

/// Steps until the state is `target` (Deckhouse playing in between).
fn advance_to(cluster: &mut StoreCluster, target: &str) {
    for _ in 0..10 {
        if state(&cluster.store).as_deref() == Some(target) {
            return;
        }
        play(&mut cluster.store);
        crate::support::deckhouse::job(guest_migrate::Settings::default())
            .0
            .step(&Served::new(cluster, &mut Lines::default()))
            .expect("healthy step");
    }
    panic!("never reached {target}");
}

#[test]
fn pass2_reports_every_mismatch_then_recovers_once_fixed() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    advance_to(&mut cluster, "stage1_completed");
    let thin_llv = llv_of(&cluster, &format!("{THIN}-0"));
    let store = &mut cluster.store;
    store
        .merge_patch(
            &key("ReplicatedVolumeReplica", &format!("{THICK}-2")),
            &json!({"spec": {"type": "Access"}}),
        )
        .expect("tamper");
    store
        .merge_patch(
            &key("ReplicatedVolume", THICK),
            &json!({"spec": {"size": "4Gi"}}),
        )
        .expect("tamper");
    store
        .delete(&key("LVMLogicalVolume", &thin_llv))
        .expect("tamper");
    let error = failed(&mut cluster);
    for named in [
        format!("ReplicatedVolumeReplica {THICK}-2"),
        format!("ReplicatedVolume {THICK}"),
        format!("LVMLogicalVolume {thin_llv}: missing"),
    ] {
        assert!(error.contains(&named), "{named} not reported in:\n{error}");
    }
    assert!(error.contains("3 problem(s)"), "{error}");
    assert_eq!(state(&cluster.store).as_deref(), Some("stage2_started"));
    let in_maintenance = created(&cluster.store)
        .iter()
        .filter(|o| o["spec"]["maintenance"] == "NoResourceReconciliation")
        .count();
    assert_eq!(
        in_maintenance, 12,
        "a failed Pass 2 must not lift maintenance"
    );
    // Recovery without fixing the data fails the same way.
    reset(&mut cluster);
    assert!(failed(&mut cluster).contains(&format!("ReplicatedVolume {THICK}")));
    // Fix: delete the wrong objects (Pass 1 recreates them), reset, rerun.
    cluster
        .store
        .delete(&key("ReplicatedVolumeReplica", &format!("{THICK}-2")))
        .expect("fix");
    cluster
        .store
        .delete(&key("ReplicatedVolume", THICK))
        .expect("fix");
    reset(&mut cluster);
    complete(&mut cluster, &mut Lines::default());
    assert_eq!(settled(&mut cluster), reference_created());
}

#[test]
fn pass1_failure_creates_nothing_and_recovers_once_fixed() {
    let objects: Vec<Value> = fixture("small-cluster.yaml")
        .into_iter()
        .filter(|o| o["metadata"]["name"] != "vg-worker-2-e26cca")
        .collect();
    let removed = fixture("small-cluster.yaml")
        .into_iter()
        .find(|o| o["metadata"]["name"] == "vg-worker-2-e26cca")
        .expect("fixture LVG");
    let mut cluster = seeded(objects);
    let error = failed(&mut cluster);
    assert!(error.contains("Pass 1"), "{error}");
    // As in the real migrator, a pool node without its LVMVolumeGroup fails the pool,
    // and so every volume in it: each is named.
    for pool in ["pool-thick", "pool-thin"] {
        assert!(
            error.contains(&format!(
                "LINSTOR pool {pool} on node worker-2: no LVMVolumeGroup with spec.local.nodeName worker-2"
            )),
            "{pool} not named:\n{error}"
        );
    }
    for volume in [THICK, THIN] {
        assert!(
            error.contains(&format!("volume {volume}: its LINSTOR pool")),
            "{volume} not named:\n{error}"
        );
    }
    assert!(
        created(&cluster.store).is_empty(),
        "nothing may be created before the plan is complete"
    );
    cluster
        .store
        .create(removed)
        .expect("fix: the LVMVolumeGroup is back");
    reset(&mut cluster);
    complete(&mut cluster, &mut Lines::default());
    assert_eq!(settled(&mut cluster), reference_created());
}

#[test]
fn unsupported_linstor_flags_fail_naming_resource_and_node() {
    let objects: Vec<Value> = fixture("small-cluster.yaml")
        .into_iter()
        .map(|mut o| {
            if o["kind"] == "Resources"
                && o["spec"]["resource_flags"] == 388
                && o["spec"]["node_name"] == "WORKER-1"
            {
                o["spec"]["resource_flags"] = json!(389);
            }
            o
        })
        .collect();
    let error = failed(&mut seeded(objects));
    assert!(
        error.contains(&format!(
            "LINSTOR resource {THICK} on node worker-1: resource_flags 389"
        )),
        "{error}"
    );
}
