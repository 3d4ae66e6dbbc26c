//! The hook's environment in a run: objects from the snapshots, and like the Wasm host,
//! `unavailable` (not `not-found`) for a kind none of this run's contexts delivered.

use crate::snapshots::Snapshot;
use guest_hook::logic::bindings::SPEC;
use guest_hook::logic::{HookEnv, KubeError, LogLevel, MemoryEnv, ObjectRef};
use serde_json::Value;

/// A [`MemoryEnv`] over the snapshot objects that knows which kinds were delivered.
pub struct SnapshotEnv {
    pub memory: MemoryEnv,
    /// (apiVersion, kind) of the bindings whose state this run knows.
    delivered: Vec<(&'static str, &'static str)>,
}

impl SnapshotEnv {
    pub fn new(snapshot: Snapshot) -> Self {
        let delivered = SPEC
            .kubernetes
            .iter()
            .filter(|b| snapshot.all_bindings || snapshot.bindings.contains(b.name))
            .map(|b| (b.target.api_version, b.target.kind))
            .collect();
        Self {
            memory: MemoryEnv::new(snapshot.objects),
            delivered,
        }
    }
}

impl HookEnv for SnapshotEnv {
    fn get(&mut self, target: &ObjectRef) -> Result<Value, KubeError> {
        match self.memory.get(target) {
            Err(KubeError::NotFound(_))
                if !self.delivered.contains(&(target.api_version, target.kind)) =>
            {
                Err(KubeError::Unavailable(format!(
                    "no snapshot of {} ({}) in this run",
                    target.kind, target.api_version
                )))
            }
            other => other,
        }
    }

    fn create(&mut self, object: Value, if_absent: bool) -> Result<Value, KubeError> {
        self.memory.create(object, if_absent)
    }

    fn log(&mut self, level: LogLevel, message: &str, fields: &[(&str, &str)]) {
        self.memory.log(level, message, fields);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guest_hook::logic::bindings::{CONFIG_MAP, LINSTOR_DATABASE};
    use std::collections::BTreeSet;

    #[test]
    fn undelivered_kinds_are_unavailable_delivered_ones_not_found() {
        let snapshot = Snapshot {
            objects: Vec::new(),
            all_bindings: false,
            bindings: BTreeSet::from(["control-plane-migration".to_owned()]),
        };
        let mut env = SnapshotEnv::new(snapshot);
        assert!(matches!(env.get(&CONFIG_MAP), Err(KubeError::NotFound(_))));
        assert!(matches!(
            env.get(&LINSTOR_DATABASE),
            Err(KubeError::Unavailable(_))
        ));
    }

    #[test]
    fn full_snapshots_deliver_every_kind() {
        let mut env = SnapshotEnv::new(Snapshot {
            all_bindings: true,
            ..Snapshot::default()
        });
        assert!(matches!(
            env.get(&LINSTOR_DATABASE),
            Err(KubeError::NotFound(_))
        ));
    }
}
