//! The migration state in ConfigMap `d8-sds-replicated-volume/control-plane-migration`
//! (`data.state`): read afresh on every step, created with `not_started` when missing
//! (as the real migrator does), written with a resourceVersion precondition so a
//! concurrent change (a user's reset) is never overwritten.

use serde_json::{Value, json};

use crate::names::{NAMESPACE, STATE_CONFIGMAP};
use deckhouse_hooks_sdk::{Kube, KubeError, ObjectRef, PatchOptions};

pub const NOT_STARTED: &str = "not_started";
pub const STAGE1_STARTED: &str = "stage1_started";
pub const STAGE1_COMPLETED: &str = "stage1_completed";
pub const STAGE2_STARTED: &str = "stage2_started";
pub const ALL_COMPLETED: &str = "all_completed";

/// The states this migrator knows, in order.
pub const STATES: [&str; 5] = [
    NOT_STARTED,
    STAGE1_STARTED,
    STAGE1_COMPLETED,
    STAGE2_STARTED,
    ALL_COMPLETED,
];

/// The state as read, with the version it was read at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub value: String,
    pub resource_version: String,
    /// The ConfigMap's uid, for Events about it.
    pub uid: String,
}

/// Why the state could not be read or written.
#[derive(Debug)]
pub enum StateError {
    /// Someone else changed the ConfigMap since it was read.
    Conflict(String),
    Kube(KubeError),
}

pub fn configmap_ref() -> ObjectRef {
    ObjectRef::namespaced("v1", "ConfigMap", NAMESPACE, STATE_CONFIGMAP)
}

/// The ConfigMap a missing one is created as.
fn fresh() -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": STATE_CONFIGMAP, "namespace": NAMESPACE},
           "data": {"state": NOT_STARTED}})
}

/// Reads `data.state`, creating the ConfigMap with `not_started` when it is missing.
pub fn read_or_create(kube: Kube<'_>) -> Result<State, KubeError> {
    if let Some(configmap) = read(kube)? {
        return Ok(configmap);
    }
    match kube.create(&fresh()) {
        Ok(created) => Ok(parse(&created)),
        // Created meanwhile (by the state-sync hook): read what is there.
        Err(KubeError::Conflict(_)) => kube.get::<Value>(&configmap_ref()).map(|cm| parse(&cm)),
        Err(other) => Err(other),
    }
}

/// Reads `data.state`; `None` when the ConfigMap does not exist.
pub fn read(kube: Kube<'_>) -> Result<Option<State>, KubeError> {
    Ok(kube
        .get_opt::<Value>(&configmap_ref())?
        .map(|cm| parse(&cm)))
}

/// An absent or empty `data.state` counts as `not_started`, as in the real migrator.
fn parse(configmap: &Value) -> State {
    let text = |pointer: &str| {
        configmap
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let value = text("/data/state");
    State {
        value: if value.is_empty() {
            NOT_STARTED.to_owned()
        } else {
            value
        },
        resource_version: text("/metadata/resourceVersion"),
        uid: text("/metadata/uid"),
    }
}

/// Moves the state from `from` (as read) to `to`; fails with `Conflict` if the
/// ConfigMap changed in between (the merge patch carries the resourceVersion).
pub fn write(kube: Kube<'_>, from: &State, to: &str) -> Result<(), StateError> {
    let mut patch = json!({ "data": { "state": to } });
    if !from.resource_version.is_empty() {
        patch["metadata"] = json!({ "resourceVersion": from.resource_version });
    }
    match kube.merge_patch(&configmap_ref(), &patch, &PatchOptions::default()) {
        Ok(_) => Ok(()),
        Err(KubeError::Conflict(msg)) => Err(StateError::Conflict(msg)),
        Err(other) => Err(StateError::Kube(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_state_version_and_uid() {
        let cm = json!({"metadata": {"resourceVersion": "7", "uid": "u"}, "data": {"state": "stage1_started"}});
        assert_eq!(
            parse(&cm),
            State {
                value: STAGE1_STARTED.into(),
                resource_version: "7".into(),
                uid: "u".into(),
            }
        );
    }

    #[test]
    fn absent_or_empty_state_is_not_started() {
        assert_eq!(parse(&json!({"data": {}})).value, NOT_STARTED);
        assert_eq!(parse(&json!({"data": {"state": ""}})).value, NOT_STARTED);
        assert_eq!(parse(&json!({})).value, NOT_STARTED);
    }
}
