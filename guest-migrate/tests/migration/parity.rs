//! Parity with the real migrator's stages 1-2 (migrator-parity.md section 7), item by
//! item, on the small-cluster fixture and the generated cluster; every created object
//! also passes the real CRD schemas (with their CEL rules).

use guest_migrate::Settings;
use migration_data::generator::{self, cluster};
use migration_data::snapshot::{created, without_status};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use crate::support::cluster::{Lines, Served, StoreCluster};
use crate::support::data::{fixture, schemas, seeded};
use crate::support::deckhouse::{Ending, complete, drive, job, play, state};

const THICK: &str = "pvc-923a7369-94e3-bf91-1a61-dbe22e44158b";
const ADOPT_RVR: &str = "sds-replicated-volume.deckhouse.io/adopt-rvr";
const ADOPT_SECRET: &str = "sds-replicated-volume.deckhouse.io/adopt-shared-secret";
const CSI_FINALIZER: &str = "sds-replicated-volume.deckhouse.io/csi-controller";
const ORPHAN_LABEL: &str = "sds-replicated-volume.deckhouse.io/no-linstor-resource";

/// Runs Pass 1 only (to stage1_completed), so Pass 2 has not touched anything yet.
fn after_pass1(objects: Vec<Value>) -> StoreCluster {
    let mut cluster = seeded(objects);
    let (mut migrator, _) = job(Settings::default());
    for _ in 0..4 {
        if state(&cluster.store).as_deref() == Some("stage1_completed") {
            return cluster;
        }
        play(&mut cluster.store);
        migrator
            .step(&Served::new(&mut cluster, &mut Lines::default()))
            .expect("a healthy step");
    }
    panic!("Pass 1 did not complete");
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{kind} {name} was not created"))
}

fn of_kind<'a>(objects: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    objects.iter().filter(move |o| o["kind"] == kind)
}

fn linstor_secret(objects: &[Value], volume: &str) -> String {
    objects
        .iter()
        .find(|o| {
            o["kind"] == "LayerDrbdResourceDefinitions"
                && o["spec"]["resource_name"] == volume.to_uppercase()
        })
        .and_then(|o| o["spec"]["secret"].as_str())
        .expect("the fixture has the secret")
        .to_owned()
}

fn pv_key(name: &str) -> kube_memstore::Key {
    kube_memstore::Key {
        api_version: "v1".into(),
        kind: "PersistentVolume".into(),
        namespace: None,
        name: name.into(),
    }
}

/// Items 1 and 3: every ReplicatedVolume is marked for adoption with LINSTOR's secret.
#[test]
fn volumes_carry_adopt_rvr_and_linstors_shared_secret() {
    let data = fixture("small-cluster.yaml");
    let cluster = after_pass1(data.clone());
    let objects = created(&cluster.store);
    let volumes: Vec<&Value> = of_kind(&objects, "ReplicatedVolume").collect();
    assert_eq!(volumes.len(), 4);
    for rv in volumes {
        let name = rv["metadata"]["name"].as_str().unwrap_or("");
        let annotations = &rv["metadata"]["annotations"];
        assert_eq!(annotations[ADOPT_RVR], "", "{name}");
        assert_eq!(
            annotations[ADOPT_SECRET],
            linstor_secret(&data, name),
            "{name}"
        );
    }
    schemas().assert_all_valid(&without_status(&objects));
}

/// Item 3: no LayerDrbdResourceDefinitions row means the secret is unknown: refused
/// (as the real migrator does), before anything is written.
#[test]
fn a_volume_without_its_drbd_definition_fails_naming_it_and_writes_nothing() {
    let objects: Vec<Value> = fixture("small-cluster.yaml")
        .into_iter()
        .filter(|o| {
            !(o["kind"] == "LayerDrbdResourceDefinitions"
                && o["spec"]["resource_name"] == THICK.to_uppercase())
        })
        .collect();
    let mut cluster = seeded(objects);
    let ending = drive(&mut cluster, &mut Lines::default(), None);
    let Ending::Failed(error) = ending else {
        panic!("expected a failure, got {ending:?}");
    };
    assert!(
        error.contains(&format!(
            "LINSTOR resource {THICK}: no LayerDrbdResourceDefinitions row"
        )),
        "{error}"
    );
    assert!(created(&cluster.store).is_empty());
}

/// An empty secret is not written (the controller rejects an empty annotation).
#[test]
fn an_empty_secret_is_left_out() {
    let objects: Vec<Value> = fixture("small-cluster.yaml")
        .into_iter()
        .map(|mut o| {
            if o["kind"] == "LayerDrbdResourceDefinitions"
                && o["spec"]["resource_name"] == THICK.to_uppercase()
            {
                o["spec"]["secret"] = json!("");
            }
            o
        })
        .collect();
    let objects = created(&after_pass1(objects).store);
    let rv = find(&objects, "ReplicatedVolume", THICK);
    assert_eq!(rv["metadata"]["annotations"][ADOPT_RVR], "");
    assert!(
        rv["metadata"]["annotations"].get(ADOPT_SECRET).is_none(),
        "{rv}"
    );
}

/// Items 6 and 7: finalizers on RV and RVA; the RV label says whether a PV exists.
#[test]
fn finalizers_and_volume_labels_follow_the_real_migrator() {
    let objects = created(&after_pass1(cluster(8)).store);
    for kind in ["ReplicatedVolume", "ReplicatedVolumeAttachment"] {
        for object in of_kind(&objects, kind) {
            assert_eq!(
                object["metadata"]["finalizers"],
                json!([CSI_FINALIZER]),
                "{object}"
            );
        }
    }
    for object in of_kind(&objects, "DRBDResource").chain(of_kind(&objects, "LVMLogicalVolume")) {
        assert!(object["metadata"].get("finalizers").is_none(), "{object}");
    }
    // Volume 7 of the generated cluster has no PV.
    let labels = |i: usize| {
        find(&objects, "ReplicatedVolume", &generator::volume_name(i))["metadata"]["labels"].clone()
    };
    assert_eq!(
        labels(0),
        json!({"sds-replicated-volume.deckhouse.io/switch-to-auto-configuration": "true"})
    );
    assert_eq!(
        labels(7),
        json!({"sds-replicated-volume.deckhouse.io/no-persistent-volume": "true"})
    );
    schemas().assert_all_valid(&without_status(&objects));
}

/// Item 7: the PV label `no-linstor-resource` is added where LINSTOR has no resource
/// and removed where it has one; nothing else of a PV changes.
#[test]
fn persistent_volumes_get_and_lose_the_orphan_label() {
    let mut objects = fixture("small-cluster.yaml");
    objects.push(json!({"apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": "pvc-orphan", "labels": {"keep": "me"}},
        "spec": {"capacity": {"storage": "1Gi"},
                 "csi": {"driver": "replicated.csi.storage.deckhouse.io", "volumeHandle": "pvc-orphan"}}}));
    for o in objects.iter_mut() {
        if o["kind"] == "PersistentVolume" && o["metadata"]["name"] == THICK {
            o["metadata"]["labels"] = json!({ORPHAN_LABEL: "true", "keep": "me"});
        }
    }
    let before_thick = objects
        .iter()
        .find(|o| o["kind"] == "PersistentVolume" && o["metadata"]["name"] == THICK)
        .cloned()
        .expect("fixture PV");
    let cluster = after_pass1(objects);
    let orphan = cluster.store.get(&pv_key("pvc-orphan")).expect("PV");
    assert_eq!(
        orphan["metadata"]["labels"],
        json!({"keep": "me", ORPHAN_LABEL: "true"})
    );
    let thick = cluster.store.get(&pv_key(THICK)).expect("PV");
    assert_eq!(thick["metadata"]["labels"], json!({"keep": "me"}));
    assert_eq!(thick["spec"], before_thick["spec"]);
}

/// Item 8: LLVs and DRBDResources are owned by their replica (controller reference
/// with its uid); an LLV named the controller's way, `<rvr>-<fnv-1a 128>`.
#[test]
fn backing_objects_are_owned_by_their_replica_and_llvs_named_by_hash() {
    let cluster = after_pass1(fixture("small-cluster.yaml"));
    let all: Vec<Value> = cluster.store.objects().cloned().collect();
    let mut owned = 0;
    for object in of_kind(&all, "DRBDResource").chain(of_kind(&all, "LVMLogicalVolume")) {
        let refs = object["metadata"]["ownerReferences"]
            .as_array()
            .expect("owned");
        assert_eq!(refs.len(), 1, "{object}");
        let owner = &refs[0];
        let rvr = find(
            &all,
            "ReplicatedVolumeReplica",
            owner["name"].as_str().unwrap_or(""),
        );
        assert_eq!(owner["uid"], rvr["metadata"]["uid"], "{object}");
        assert_eq!(owner["kind"], "ReplicatedVolumeReplica");
        assert_eq!(owner["apiVersion"], "storage.deckhouse.io/v1alpha1");
        assert_eq!(
            (
                owner["controller"].clone(),
                owner["blockOwnerDeletion"].clone()
            ),
            (json!(true), json!(true))
        );
        owned += 1;
    }
    assert_eq!(owned, 12 + 8);
    // Go's fnv.New128a over "vg-worker-0-dbc4e3\0" (thick: no thin pool), worked out
    // outside this code base.
    let drbd = find(
        &all,
        "DRBDResource",
        "pvc-5d158a2f-f2ee-4e45-19f9-919c895fd7b3-0",
    );
    assert_eq!(
        drbd["spec"]["lvmLogicalVolumeName"],
        "pvc-5d158a2f-f2ee-4e45-19f9-919c895fd7b3-0-81ad27cf2dc3451de9c472d9261966d0"
    );
}

/// Item 8: an LLV or DRBDResource that already exists without the ownerRef (an older
/// migrator's) gets it added, keeping its other references; one that has it is left.
#[test]
fn existing_backing_objects_get_the_missing_owner_ref() {
    let reference = after_pass1(fixture("small-cluster.yaml"));
    let drbd_name = "pvc-5d158a2f-f2ee-4e45-19f9-919c895fd7b3-0";
    let mut left_over = created(&reference.store)
        .into_iter()
        .find(|o| o["kind"] == "DRBDResource" && o["metadata"]["name"] == drbd_name)
        .expect("DRBDResource");
    let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "name": "someone", "uid": "u-1"});
    left_over["metadata"]["ownerReferences"] = json!([other]);
    let mut objects = fixture("small-cluster.yaml");
    objects.push(left_over);
    let cluster = after_pass1(objects);
    let drbd = cluster
        .store
        .get(&kube_memstore::Key {
            api_version: "storage.deckhouse.io/v1alpha1".into(),
            kind: "DRBDResource".into(),
            namespace: None,
            name: drbd_name.into(),
        })
        .expect("DRBDResource");
    let refs = drbd["metadata"]["ownerReferences"]
        .as_array()
        .expect("refs");
    assert_eq!(refs.len(), 2, "{refs:?}");
    assert_eq!(refs[0], other);
    assert_eq!(refs[1]["name"], drbd_name);
    assert_eq!(refs[1]["controller"], true);
}

/// Item 13: attachment names past 253 characters are cut and hashed exactly as
/// `FormatReplicatedVolumeAttachmentName` does.
#[test]
fn long_attachment_names_are_truncated_with_a_sha1_suffix() {
    let node = "n".repeat(240);
    let mut objects = fixture("small-cluster.yaml");
    objects.push(
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment",
        "metadata": {"name": "csi-long"},
        "spec": {"attacher": "replicated.csi.storage.deckhouse.io", "nodeName": node.to_uppercase(),
                 "source": {"persistentVolumeName": THICK}}}),
    );
    let objects = created(&after_pass1(objects).store);
    let full = format!("csi-{THICK}-{node}");
    let hash: String = Sha1::digest(full.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect();
    // 253 - "csi-" - two "-" - 8 = 239: 119 for the volume (it has 40), 120 for the node.
    let expected = format!("csi-{THICK}-{}-{hash}", "n".repeat(120));
    let rva = find(&objects, "ReplicatedVolumeAttachment", &expected);
    assert_eq!(rva["spec"]["nodeName"], node.as_str());
    assert!(expected.len() <= 253);
}

/// Items 4 and 5: FTT/GMDR from diskful and tie-breaker counts (Access not counted),
/// maxAttachments always 2.
#[test]
fn resilience_and_attachments_follow_the_real_table() {
    let objects = created(&after_pass1(cluster(4)).store);
    let expected = [(1, 1), (1, 0), (1, 1), (0, 0)]; // D-D-TB, D-D-A, D-D-D, D-A-A
    for (i, (ftt, gmdr)) in expected.into_iter().enumerate() {
        let rv = find(&objects, "ReplicatedVolume", &generator::volume_name(i));
        let manual = &rv["spec"]["manualConfiguration"];
        assert_eq!(
            (
                manual["failuresToTolerate"].as_u64(),
                manual["guaranteedMinimumDataRedundancy"].as_u64()
            ),
            (Some(ftt), Some(gmdr)),
            "volume {i}"
        );
        assert_eq!(rv["spec"]["maxAttachments"], 2);
    }
}

/// Item 9: pools only for pools that migrated volumes use; an unused pool, even one
/// without any LVMVolumeGroup, is neither created nor an error.
#[test]
fn only_pools_migrated_volumes_use_are_created() {
    let mut objects = fixture("small-cluster.yaml");
    for node in ["WORKER-0", "WORKER-1"] {
        objects.push(
            json!({"apiVersion": "internal.linstor.linbit.com/v1-19-1", "kind": "NodeStorPool",
            "metadata": {"name": format!("unused-{node}")},
            "spec": {"node_name": node, "pool_name": "UNUSED.Pool", "driver_name": "LVM"}}),
        );
    }
    let mut cluster = seeded(objects);
    complete(&mut cluster, &mut Lines::default());
    let pools: Vec<String> = created(&cluster.store)
        .iter()
        .filter(|o| o["kind"] == "ReplicatedStoragePool")
        .map(|o| o["metadata"]["name"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(pools, ["linstor-auto-pool-thick", "linstor-auto-pool-thin"]);
}

/// Item 9: a thin pool's LVMVolumeGroup must list the thin pool.
#[test]
fn a_thin_pool_missing_from_its_volume_group_is_an_error_naming_node_and_group() {
    let objects: Vec<Value> = fixture("small-cluster.yaml")
        .into_iter()
        .map(|mut o| {
            if o["kind"] == "LVMVolumeGroup" && o["metadata"]["name"] == "vg-worker-1-937f54" {
                o["spec"]["thinPools"] = json!([]);
            }
            o
        })
        .collect();
    let mut cluster = seeded(objects);
    let Ending::Failed(error) = drive(&mut cluster, &mut Lines::default(), None) else {
        panic!("expected a failure");
    };
    assert!(
        error.contains("LINSTOR pool pool-thin on node worker-1: LVMVolumeGroup vg-worker-1-937f54 has no thin pool thinpool"),
        "{error}"
    );
    assert!(created(&cluster.store).is_empty());
}

/// Item 9: the resource group must name a pool (no guess from the replicas).
#[test]
fn a_resource_group_without_a_pool_is_an_error() {
    let objects: Vec<Value> = fixture("small-cluster.yaml")
        .into_iter()
        .map(|mut o| {
            if o["kind"] == "ResourceGroups" {
                o["spec"]["pool_name"] = json!("");
            }
            o
        })
        .collect();
    let mut cluster = seeded(objects);
    let Ending::Failed(error) = drive(&mut cluster, &mut Lines::default(), None) else {
        panic!("expected a failure");
    };
    assert!(
        error.contains(&format!(
            "volume {THICK}: its LINSTOR resource group names no pool"
        )),
        "{error}"
    );
}
