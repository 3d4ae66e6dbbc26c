//! Builders for the new control-plane objects (storage.deckhouse.io/v1alpha1, all
//! cluster-scoped), with exactly the spec and metadata the real migrator writes. Only
//! fields the migration decides are written; the API server fills the CRD defaults.

use serde_json::{Map, Value, json};

use crate::names::{
    ADOPT_RVR, ADOPT_SHARED_SECRET, CSI_FINALIZER, DRBDR, LLV, MAINTENANCE, NO_PERSISTENT_VOLUME,
    RSP, RV, RVA, RVR, STORAGE_V1ALPHA1, SWITCH_TO_AUTO, SYSTEM_NETWORK,
};

fn object(kind: &str, name: &str, spec: Value) -> Value {
    json!({ "apiVersion": STORAGE_V1ALPHA1, "kind": kind, "metadata": { "name": name }, "spec": spec })
}

/// `kind` of a planned object.
pub fn kind_of(object: &Value) -> &str {
    object["kind"].as_str().unwrap_or("")
}

/// One `lvmVolumeGroups` entry of a pool.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PoolGroup {
    pub name: String,
    pub thin_pool: Option<String>,
}

pub fn pool(name: &str, thin: bool, groups: &[PoolGroup]) -> Value {
    let groups: Vec<Value> = groups
        .iter()
        .map(|g| match &g.thin_pool {
            Some(tp) => json!({ "name": g.name, "thinPoolName": tp }),
            None => json!({ "name": g.name }),
        })
        .collect();
    object(
        RSP,
        name,
        json!({
            "type": if thin { "LVMThin" } else { "LVM" },
            "lvmVolumeGroups": groups,
            "systemNetworkNames": [SYSTEM_NETWORK],
            "eligibleNodesPolicy": { "notReadyGracePeriod": "10m" },
        }),
    )
}

/// Where a diskful replica's data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backing {
    pub lvg: String,
    pub thin_pool: Option<String>,
}

/// A controller reference to the replica (controller-runtime's SetControllerReference).
pub fn owned_by(object: &mut Value, rvr: &str, uid: &str) {
    object["metadata"]["ownerReferences"] = json!([{
        "apiVersion": STORAGE_V1ALPHA1,
        "kind": RVR,
        "name": rvr,
        "uid": uid,
        "controller": true,
        "blockOwnerDeletion": true,
    }]);
}

/// The existing LV `<pv>_00000` taken over as-is.
pub fn llv(name: &str, volume: &str, size: &str, backing: &Backing) -> Value {
    let mut spec = json!({
        "actualLVNameOnTheNode": format!("{volume}_00000"),
        "type": if backing.thin_pool.is_some() { "Thin" } else { "Thick" },
        "size": size,
        "lvmVolumeGroupName": backing.lvg,
    });
    if let Some(tp) = &backing.thin_pool {
        spec["thin"] = json!({ "poolName": tp });
    }
    object(LLV, name, spec)
}

/// A DRBD resource in maintenance, so the agent leaves the running device alone.
/// `diskful` is the size and the LLV name.
pub fn drbd_resource(
    name: &str,
    volume: &str,
    node: &str,
    node_id: u32,
    diskful: Option<(&str, &str)>,
) -> Value {
    let mut spec = json!({
        "nodeName": node,
        "nodeID": node_id,
        "type": if diskful.is_some() { "Diskful" } else { "Diskless" },
        "actualNameOnTheNode": volume,
        "systemNetworks": [SYSTEM_NETWORK],
        "maintenance": MAINTENANCE,
    });
    if let Some((size, llv)) = diskful {
        spec["size"] = json!(size);
        spec["lvmLogicalVolumeName"] = json!(llv);
    }
    object(DRBDR, name, spec)
}

pub fn replica(
    name: &str,
    volume: &str,
    node: &str,
    kind: &str,
    backing: Option<&Backing>,
) -> Value {
    let mut spec = json!({ "replicatedVolumeName": volume, "nodeName": node, "type": kind });
    if let Some(b) = backing {
        spec["lvmVolumeGroupName"] = json!(b.lvg);
        if let Some(tp) = &b.thin_pool {
            spec["lvmVolumeGroupThinPoolName"] = json!(tp);
        }
    }
    object(RVR, name, spec)
}

/// What the ReplicatedVolume says besides its size.
pub struct VolumeMeta<'a> {
    pub pool: &'a str,
    pub failures_to_tolerate: u8,
    pub guaranteed_minimum_data_redundancy: u8,
    /// LINSTOR's DRBD shared secret, kept by the controller's adopt/v1 formation.
    pub secret: Option<&'a str>,
    /// Whether a PersistentVolume exists (stage 4 switches those to Auto).
    pub has_pv: bool,
}

/// The real migrator's maxAttachments: two, so a live migration's second attach works.
const MAX_ATTACHMENTS: u8 = 2;

pub fn volume(name: &str, size: &str, meta: &VolumeMeta) -> Value {
    let mut rv = object(
        RV,
        name,
        json!({
            "size": size,
            "configurationMode": "Manual",
            "manualConfiguration": {
                "replicatedStoragePoolName": meta.pool,
                // LINSTOR already placed the replicas; the migration keeps them where they are.
                "topology": "Ignored",
                "failuresToTolerate": meta.failures_to_tolerate,
                "guaranteedMinimumDataRedundancy": meta.guaranteed_minimum_data_redundancy,
                "volumeAccess": "PreferablyLocal",
            },
            "maxAttachments": MAX_ATTACHMENTS,
        }),
    );
    let mut annotations = Map::new();
    annotations.insert(ADOPT_RVR.into(), json!(""));
    if let Some(secret) = meta.secret {
        annotations.insert(ADOPT_SHARED_SECRET.into(), json!(secret));
    }
    let label = if meta.has_pv {
        SWITCH_TO_AUTO
    } else {
        NO_PERSISTENT_VOLUME
    };
    rv["metadata"]["annotations"] = Value::Object(annotations);
    rv["metadata"]["labels"] = json!({ label: "true" });
    rv["metadata"]["finalizers"] = json!([CSI_FINALIZER]);
    rv
}

pub fn attachment(name: &str, volume: &str, node: &str) -> Value {
    let mut rva = object(
        RVA,
        name,
        json!({ "replicatedVolumeName": volume, "nodeName": node }),
    );
    rva["metadata"]["finalizers"] = json!([CSI_FINALIZER]);
    rva
}
