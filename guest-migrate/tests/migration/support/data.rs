//! Test data from the repository's tests/ folder, and a store seeded as the Job finds
//! a cluster: LINSTOR data and CRDs, LINSTOR running, the state ConfigMap.

use std::path::PathBuf;

use guest_migrate::well_known::{LINSTOR_CONTROLLER, LINSTOR_NODE, NAMESPACE, STATE_CONFIGMAP};
use serde_json::{Value, json};

use super::cluster::StoreCluster;

/// A path below the workspace's `tests/` folder.
pub fn tests_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests")
        .join(relative)
}

/// Every document of a multi-document YAML file, as JSON.
pub fn load_yaml(relative: &str) -> Vec<Value> {
    let path = tests_path(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| {
            let value: serde_yaml::Value = serde::Deserialize::deserialize(doc)
                .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
            serde_json::to_value(value)
                .unwrap_or_else(|e| panic!("{}: not JSON-compatible: {e}", path.display()))
        })
        .filter(|v| !v.is_null())
        .collect()
}

pub fn fixture(name: &str) -> Vec<Value> {
    load_yaml(&format!("fixtures/linstor/{name}"))
}

pub fn configmap(state: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": STATE_CONFIGMAP, "namespace": NAMESPACE},
           "data": {"state": state}})
}

pub fn workload(kind: &str, name: &str, status: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": kind,
           "metadata": {"name": name, "namespace": NAMESPACE}, "spec": {}, "status": status})
}

pub fn linstor_workloads() -> Vec<Value> {
    vec![
        workload(
            "Deployment",
            LINSTOR_CONTROLLER,
            json!({"readyReplicas": 1}),
        ),
        workload(
            "DaemonSet",
            LINSTOR_NODE,
            json!({"numberReady": 3, "desiredNumberScheduled": 3}),
        ),
    ]
}

/// The objects plus LINSTOR's CRDs, the ConfigMap at `not_started` and LINSTOR running.
pub fn seeded(objects: Vec<Value>) -> StoreCluster {
    let mut cluster = StoreCluster::default();
    let extra = load_yaml("crds/internal.linstor.linbit.com.yaml")
        .into_iter()
        .chain([configmap("not_started")]);
    for object in objects.into_iter().chain(extra).chain(linstor_workloads()) {
        cluster
            .store
            .create(object)
            .unwrap_or_else(|e| panic!("seeding: {e}"));
    }
    cluster
}

/// A store without any LINSTOR CRD or data (a fresh install).
pub fn without_linstor() -> StoreCluster {
    let mut cluster = StoreCluster::default();
    for object in [configmap("not_started")]
        .into_iter()
        .chain(linstor_workloads())
    {
        cluster
            .store
            .create(object)
            .unwrap_or_else(|e| panic!("seeding: {e}"));
    }
    cluster
}

/// An LVMVolumeGroup as sds-node-configurator writes it.
pub fn volume_group(name: &str, node: &str, vg: &str) -> Value {
    json!({"apiVersion": "storage.deckhouse.io/v1alpha1", "kind": "LVMVolumeGroup",
           "metadata": {"name": name},
           "spec": {"type": "Local", "local": {"nodeName": node}, "actualVGNameOnTheNode": vg,
                    "blockDeviceSelector": {"matchLabels": {"kubernetes.io/hostname": node}},
                    "thinPools": [{"name": "thinpool", "size": "100%"}]}})
}
