//! The two waits of the migration: LINSTOR gone (before Pass 1 touches its data)
//! and the new agent and controller ready (before Pass 2 hands volumes to them).

use serde_json::Value;

use crate::error::{During, Error};
use crate::names::{LINSTOR_CONTROLLER, LINSTOR_NODE, NAMESPACE, NEW_AGENT, NEW_CONTROLLER};
use deckhouse_hooks_sdk::{Kube, ObjectRef};

fn workload(kube: Kube<'_>, kind: &str, name: &str) -> Result<Option<Value>, Error> {
    let target = ObjectRef::namespaced("apps/v1", kind, NAMESPACE, name);
    kube.get_opt::<Value>(&target)
        .during(|| format!("reading {target}"))
}

/// The LINSTOR workloads still present (empty: LINSTOR is stopped).
pub fn linstor_still_running(kube: Kube<'_>) -> Result<Vec<String>, Error> {
    let mut running = Vec::new();
    if workload(kube, "Deployment", LINSTOR_CONTROLLER)?.is_some() {
        running.push(format!("Deployment {LINSTOR_CONTROLLER}"));
    }
    if workload(kube, "DaemonSet", LINSTOR_NODE)?.is_some() {
        running.push(format!("DaemonSet {LINSTOR_NODE}"));
    }
    Ok(running)
}

/// Why the new control plane is not ready yet (empty: ready).
pub fn new_control_plane_not_ready(kube: Kube<'_>) -> Result<Vec<String>, Error> {
    let mut waiting = Vec::new();
    let controller = workload(kube, "Deployment", NEW_CONTROLLER)?;
    if controller
        .as_ref()
        .is_none_or(|d| count(d, "readyReplicas") == 0)
    {
        waiting.push(format!("Deployment {NEW_CONTROLLER} has no ready replica"));
    }
    let agent = workload(kube, "DaemonSet", NEW_AGENT)?;
    let agent_ready = agent.as_ref().is_some_and(|d| {
        let desired = count(d, "desiredNumberScheduled");
        desired > 0 && count(d, "numberReady") == desired
    });
    if !agent_ready {
        waiting.push(format!("DaemonSet {NEW_AGENT} is not ready on every node"));
    }
    Ok(waiting)
}

fn count(workload: &Value, field: &str) -> u64 {
    workload["status"][field].as_u64().unwrap_or(0)
}
