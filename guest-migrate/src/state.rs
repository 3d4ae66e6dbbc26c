//! The migration state in ConfigMap `d8-sds-replicated-volume/control-plane-migration`
//! (`data.state`): read afresh on every step, written with a resourceVersion
//! precondition so a concurrent change (a user's reset) is never overwritten.

use serde_json::{Value, json};

use crate::kube::{Cluster, KubeError, ObjRef, PatchKind};
use crate::names::{NAMESPACE, STATE_CONFIGMAP};

pub const NOT_STARTED: &str = "not_started";
pub const STAGE1_STARTED: &str = "stage1_started";
pub const STAGE1_COMPLETED: &str = "stage1_completed";
pub const STAGE2_STARTED: &str = "stage2_started";
pub const ALL_COMPLETED: &str = "all_completed";

/// The state as read, with the version it was read at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub value: String,
    pub resource_version: String,
}

/// Why the state could not be read or written.
#[derive(Debug)]
pub enum StateError {
    /// The ConfigMap or its key is missing or malformed; the message says what to do.
    Unusable(String),
    /// Someone else changed the ConfigMap since it was read.
    Conflict(String),
    Kube(KubeError),
}

pub fn configmap_ref() -> ObjRef {
    ObjRef::namespaced("v1", "ConfigMap", NAMESPACE, STATE_CONFIGMAP)
}

/// Reads `data.state` and the ConfigMap's resourceVersion.
pub fn read(cluster: &mut dyn Cluster) -> Result<State, StateError> {
    let configmap = match cluster.get(&configmap_ref()) {
        Ok(cm) => cm,
        Err(KubeError::NotFound(_)) => {
            return Err(StateError::Unusable(format!(
                "ConfigMap {NAMESPACE}/{STATE_CONFIGMAP} not found: the state-sync hook \
                 (control-plane-migration-state-sync) creates it; enable newControlPlane and \
                 let Deckhouse run the module's hooks, then restart this Job"
            )));
        }
        Err(other) => return Err(StateError::Kube(other)),
    };
    parse(&configmap)
}

fn parse(configmap: &Value) -> Result<State, StateError> {
    let value = configmap
        .pointer("/data/state")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            StateError::Unusable(format!(
                "ConfigMap {NAMESPACE}/{STATE_CONFIGMAP} has no string data.state; set it to \
             \"{NOT_STARTED}\" to (re)start the migration"
            ))
        })?;
    let resource_version = configmap
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok(State {
        value: value.to_owned(),
        resource_version: resource_version.to_owned(),
    })
}

/// Moves the state from `from` (as read) to `to`; fails with `Conflict` if the
/// ConfigMap changed in between (the merge patch carries the resourceVersion).
pub fn write(cluster: &mut dyn Cluster, from: &State, to: &str) -> Result<(), StateError> {
    let mut patch = json!({ "data": { "state": to } });
    if !from.resource_version.is_empty() {
        patch["metadata"] = json!({ "resourceVersion": from.resource_version });
    }
    match cluster.patch(&configmap_ref(), PatchKind::Merge, &patch) {
        Ok(_) => Ok(()),
        Err(KubeError::Conflict(msg)) => Err(StateError::Conflict(msg)),
        Err(other) => Err(StateError::Kube(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_state_and_version() {
        let cm = json!({"metadata": {"resourceVersion": "7"}, "data": {"state": "stage1_started"}});
        let state = parse(&cm).map_err(|e| format!("{e:?}")).unwrap();
        assert_eq!(
            state,
            State {
                value: STAGE1_STARTED.into(),
                resource_version: "7".into()
            }
        );
    }

    #[test]
    fn parse_rejects_missing_state_naming_the_configmap() {
        let Err(StateError::Unusable(msg)) = parse(&json!({"data": {}})) else {
            panic!("a ConfigMap without data.state must be unusable");
        };
        assert!(
            msg.contains("control-plane-migration") && msg.contains("data.state"),
            "{msg}"
        );
    }
}
