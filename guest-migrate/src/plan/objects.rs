//! Builders for the new control-plane objects (storage.deckhouse.io/v1alpha1, all
//! cluster-scoped). Only spec fields the migration decides are written; the API
//! server fills the CRD defaults.

use serde_json::{Value, json};

use crate::names::{DRBDR, LLV, MAINTENANCE, RSP, RV, RVA, RVR, STORAGE_V1ALPHA1, SYSTEM_NETWORK};

fn object(kind: &str, name: &str, spec: Value) -> Value {
    json!({ "apiVersion": STORAGE_V1ALPHA1, "kind": kind, "metadata": { "name": name }, "spec": spec })
}

/// `kind` of a planned object.
pub fn kind_of(object: &Value) -> &str {
    object["kind"].as_str().unwrap_or("")
}

/// One `lvmVolumeGroups` entry of a pool.
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
            // The CRD default, written out so the object is complete as created.
            "eligibleNodesPolicy": { "notReadyGracePeriod": "10m" },
        }),
    )
}

/// Where a diskful replica's data lives.
pub struct Backing<'a> {
    pub lvg: &'a str,
    pub thin_pool: Option<&'a str>,
}

/// The existing LV `<pv>_00000` taken over as-is.
pub fn llv(name: &str, volume: &str, size: &str, backing: &Backing) -> Value {
    let mut spec = json!({
        "actualLVNameOnTheNode": format!("{volume}_00000"),
        "type": if backing.thin_pool.is_some() { "Thin" } else { "Thick" },
        "size": size,
        "lvmVolumeGroupName": backing.lvg,
    });
    if let Some(tp) = backing.thin_pool {
        spec["thin"] = json!({ "poolName": tp });
    }
    object(LLV, name, spec)
}

/// A DRBD resource in maintenance, so the agent leaves the running device alone.
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
        if let Some(tp) = b.thin_pool {
            spec["lvmVolumeGroupThinPoolName"] = json!(tp);
        }
    }
    object(RVR, name, spec)
}

/// Resilience of a Manual volume, from what LINSTOR placed.
pub struct Manual<'a> {
    pub pool: &'a str,
    pub failures_to_tolerate: u32,
    pub guaranteed_minimum_data_redundancy: u32,
    pub max_attachments: usize,
}

pub fn volume(name: &str, size: &str, manual: &Manual) -> Value {
    object(
        RV,
        name,
        json!({
            "size": size,
            "configurationMode": "Manual",
            "manualConfiguration": {
                "replicatedStoragePoolName": manual.pool,
                // LINSTOR already placed the replicas; the migration keeps them where they are.
                "topology": "Ignored",
                "failuresToTolerate": manual.failures_to_tolerate,
                "guaranteedMinimumDataRedundancy": manual.guaranteed_minimum_data_redundancy,
                // The old CSI's default: attach anywhere, diskless if needed.
                "volumeAccess": "PreferablyLocal",
            },
            "maxAttachments": manual.max_attachments,
        }),
    )
}

pub fn attachment(volume: &str, node: &str) -> Value {
    object(
        RVA,
        &format!("csi-{volume}-{node}"),
        json!({ "replicatedVolumeName": volume, "nodeName": node }),
    )
}
