//! The real fixtures end to end: exact objects (golden), CRD-valid, consistent.

use migration_data::golden::assert_golden;
use migration_data::snapshot::{counts, created, without_status};
use migration_data::volume_group;
use serde_json::{Value, json};

use crate::support::cluster::Lines;
use crate::support::data::{fixture, schemas, seeded};
use crate::support::deckhouse::{complete, state};

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{kind} {name} was not created"))
}

/// Migrates to the end; the created objects without the controller's status.
fn migrate(objects: Vec<Value>) -> (Vec<Value>, Lines, String) {
    let mut cluster = seeded(objects);
    let mut log = Lines::default();
    let summary = complete(&mut cluster, &mut log);
    assert_eq!(state(&cluster.store).as_deref(), Some("all_completed"));
    (without_status(&created(&cluster.store)), log, summary)
}

#[test]
fn small_cluster_creates_exactly_the_expected_objects() {
    let (objects, log, summary) = migrate(fixture("small-cluster.yaml"));
    let expected_counts = [
        ("DRBDResource", 12),
        ("LVMLogicalVolume", 8),
        ("ReplicatedStoragePool", 2),
        ("ReplicatedVolume", 4),
        ("ReplicatedVolumeAttachment", 3),
        ("ReplicatedVolumeReplica", 12),
    ];
    let expected_counts = expected_counts
        .iter()
        .map(|(k, n)| ((*k).to_owned(), *n))
        .collect();
    assert_eq!(counts(&objects), expected_counts);
    schemas().assert_all_valid(&objects);
    assert_golden("small-cluster", &objects);
    assert!(summary.contains("4 volumes"), "{summary}");
    for state in [
        "stage1_started",
        "stage1_completed",
        "stage2_started",
        "all_completed",
    ] {
        assert!(
            log.contains(&format!("to={state}")),
            "state change to {state} not logged: {:#?}",
            log.0
        );
    }
}

/// Spot checks written from the fixture by hand, independent of the golden file.
#[test]
fn small_cluster_maps_flags_ids_pools_and_attachments() {
    let (objects, _, _) = migrate(fixture("small-cluster.yaml"));
    let thick = "pvc-923a7369-94e3-bf91-1a61-dbe22e44158b";
    // WORKER-1 has flags 388 and DRBD node ID 2.
    let tb = find(&objects, "ReplicatedVolumeReplica", &format!("{thick}-2"));
    assert_eq!(
        tb["spec"],
        json!({"replicatedVolumeName": thick, "nodeName": "worker-1", "type": "TieBreaker"})
    );
    let tb_drbd = find(&objects, "DRBDResource", &format!("{thick}-2"));
    assert_eq!(tb_drbd["spec"]["type"], "Diskless");
    assert!(
        tb_drbd["spec"].get("size").is_none()
            && tb_drbd["spec"].get("lvmLogicalVolumeName").is_none()
    );
    // WORKER-2 (node ID 1) is diskful in the thick pool on vg0.
    let drbd = find(&objects, "DRBDResource", &format!("{thick}-1"));
    let llv_name = drbd["spec"]["lvmLogicalVolumeName"]
        .as_str()
        .expect("LLV name");
    let llv = find(&objects, "LVMLogicalVolume", llv_name);
    assert_eq!(
        llv["spec"],
        json!({"actualLVNameOnTheNode": format!("{thick}_00000"), "type": "Thick", "size": "5Gi", "lvmVolumeGroupName": "vg-worker-2-e26cca"})
    );
    assert_eq!(drbd["spec"]["nodeID"], 1);
    let rv = find(&objects, "ReplicatedVolume", thick);
    assert_eq!(
        rv["spec"]["manualConfiguration"]["replicatedStoragePoolName"],
        "linstor-auto-pool-thick"
    );
    // Two diskful and a tie-breaker: the real migrator's (1, 1).
    assert_eq!(rv["spec"]["manualConfiguration"]["failuresToTolerate"], 1);
    assert_eq!(
        rv["spec"]["manualConfiguration"]["guaranteedMinimumDataRedundancy"],
        1
    );
    find(
        &objects,
        "ReplicatedVolumeAttachment",
        &format!("csi-{thick}-worker-0"),
    );
    // The thin volume: LVM_THIN on vg0/thinpool, WORKER-1 diskless (260, node ID 2), not attached.
    let thin = "pvc-7e62aa0a-1df9-fd78-9c65-39382b0537e6";
    let thin_drbd = find(&objects, "DRBDResource", &format!("{thin}-0"));
    let thin_llv = find(
        &objects,
        "LVMLogicalVolume",
        thin_drbd["spec"]["lvmLogicalVolumeName"]
            .as_str()
            .expect("LLV name"),
    );
    assert_eq!(thin_llv["spec"]["thin"], json!({"poolName": "thinpool"}));
    assert_eq!(
        find(&objects, "ReplicatedVolumeReplica", &format!("{thin}-2"))["spec"]["type"],
        "Access"
    );
    assert!(
        !objects
            .iter()
            .any(|o| o["kind"] == "ReplicatedVolumeAttachment"
                && o["spec"]["replicatedVolumeName"] == thin)
    );
    let pool = find(&objects, "ReplicatedStoragePool", "linstor-auto-pool-thin");
    assert_eq!(pool["spec"]["type"], "LVMThin");
    assert_eq!(
        pool["spec"]["lvmVolumeGroups"].as_array().map(Vec::len),
        Some(3)
    );
    // The 1Gi volume keeps its PV's size.
    assert_eq!(
        find(
            &objects,
            "ReplicatedVolume",
            "pvc-5d158a2f-f2ee-4e45-19f9-919c895fd7b3"
        )["spec"]["size"],
        "1Gi"
    );
}

#[test]
fn pass2_lifts_maintenance_on_every_drbd_resource_and_unmarks_every_volume() {
    let (objects, _, _) = migrate(fixture("small-cluster.yaml"));
    let drbds: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == "DRBDResource")
        .collect();
    assert_eq!(drbds.len(), 12);
    for drbd in drbds {
        assert!(
            drbd["spec"].get("maintenance").is_none(),
            "{} still in maintenance",
            drbd["metadata"]["name"]
        );
    }
    for rv in objects.iter().filter(|o| o["kind"] == "ReplicatedVolume") {
        let annotations = &rv["metadata"]["annotations"];
        assert!(
            annotations
                .get("sds-replicated-volume.deckhouse.io/adopt-rvr")
                .is_none()
                && annotations
                    .get("sds-replicated-volume.deckhouse.io/adopt-shared-secret")
                    .is_none(),
            "{} still marked for adoption",
            rv["metadata"]["name"]
        );
    }
}

/// Pools are made only for the pools migrated volumes use (as the real migrator does):
/// LINSTOR data without resource definitions creates nothing, with or without the
/// pool's LVMVolumeGroup.
#[test]
fn minimal_crs_without_volumes_create_nothing() {
    for with_group in [false, true] {
        let mut objects = fixture("minimal-crs.yaml");
        if with_group {
            objects.push(volume_group("vg-node-a", "node-a", "vg0"));
        }
        let (created, _, _) = migrate(objects);
        assert_eq!(created, Vec::<Value>::new());
    }
}

#[test]
fn created_objects_refer_to_each_other_consistently() {
    let (objects, _, _) = migrate(fixture("small-cluster.yaml"));
    crate::big::assert_references(
        &objects,
        &[
            "vg-worker-0-dbc4e3",
            "vg-worker-1-937f54",
            "vg-worker-2-e26cca",
        ],
    );
}

#[test]
fn a_csi_volume_without_linstor_data_is_labelled_not_invented() {
    let mut objects = fixture("small-cluster.yaml");
    objects.push(json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pvc-orphan"},
        "spec": {"capacity": {"storage": "1Gi"}, "csi": {"driver": "replicated.csi.storage.deckhouse.io", "volumeHandle": "pvc-orphan"}}}));
    let mut cluster = seeded(objects);
    let mut log = Lines::default();
    complete(&mut cluster, &mut log);
    let created = created(&cluster.store);
    assert!(
        log.contains("PersistentVolume pvc-orphan: no LINSTOR resource"),
        "{:#?}",
        log.0
    );
    let pv = cluster
        .store
        .get(&kube_memstore::Key {
            api_version: "v1".into(),
            kind: "PersistentVolume".into(),
            namespace: None,
            name: "pvc-orphan".into(),
        })
        .expect("the PV stays");
    assert_eq!(
        pv["metadata"]["labels"]["sds-replicated-volume.deckhouse.io/no-linstor-resource"],
        "true"
    );
    assert!(
        !created
            .iter()
            .any(|o| o["metadata"]["name"] == "pvc-orphan")
    );
}
