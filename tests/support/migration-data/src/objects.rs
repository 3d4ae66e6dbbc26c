//! Objects others put in the cluster: the state ConfigMap a user or the Job writes,
//! the workloads Deckhouse renders and kubelet reports, and the LVMVolumeGroups
//! sds-node-configurator writes.

use guest_migrate::well_known::{
    LINSTOR_CONTROLLER, LINSTOR_NODE, MODULE_CONFIG, MODULE_CONFIG_API, NAMESPACE, NEW_AGENT,
    NEW_CONTROLLER, STATE_CONFIGMAP,
};
use serde_json::{Value, json};

/// The migration state ConfigMap at `state`.
pub fn configmap(state: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": STATE_CONFIGMAP, "namespace": NAMESPACE},
           "data": {"state": state}})
}

/// ModuleConfig `sds-replicated-volume` with the switch `newControlPlane` as given.
pub fn module_config(new_control_plane: bool) -> Value {
    json!({"apiVersion": MODULE_CONFIG_API, "kind": "ModuleConfig",
           "metadata": {"name": MODULE_CONFIG},
           "spec": {"enabled": true, "version": 1,
                    "settings": {"newControlPlane": new_control_plane}}})
}

/// A Deployment or DaemonSet in the module's namespace with the status kubelet reports.
pub fn workload(kind: &str, name: &str, status: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": kind,
           "metadata": {"name": name, "namespace": NAMESPACE}, "spec": {}, "status": status})
}

/// LINSTOR's controller and node agents, running and ready.
pub fn linstor_workloads() -> Vec<Value> {
    ready(LINSTOR_CONTROLLER, LINSTOR_NODE)
}

/// The new controller and agent as kubelet reports them once they run.
pub fn ready_new_control_plane() -> Vec<Value> {
    ready(NEW_CONTROLLER, NEW_AGENT)
}

/// A ready one-replica Deployment and a DaemonSet ready on all three nodes.
fn ready(deployment: &str, daemon_set: &str) -> Vec<Value> {
    vec![
        workload("Deployment", deployment, json!({"readyReplicas": 1})),
        workload(
            "DaemonSet",
            daemon_set,
            json!({"numberReady": 3, "desiredNumberScheduled": 3}),
        ),
    ]
}

/// An LVMVolumeGroup as sds-node-configurator writes it.
pub fn volume_group(name: &str, node: &str, vg: &str) -> Value {
    json!({"apiVersion": "storage.deckhouse.io/v1alpha1", "kind": "LVMVolumeGroup",
           "metadata": {"name": name},
           "spec": {"type": "Local", "local": {"nodeName": node}, "actualVGNameOnTheNode": vg,
                    "blockDeviceSelector": {"matchLabels": {"kubernetes.io/hostname": node}},
                    "thinPools": [{"name": "thinpool", "size": "100%"}]}})
}
