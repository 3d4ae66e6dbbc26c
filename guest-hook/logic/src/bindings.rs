//! The hook's configuration: when it runs and which objects Deckhouse watches for it.
//!
//! Every object the run reads is a binding here, so the host can serve each `get` from
//! the run's snapshots; the Wasm glue only converts these records to the WIT ones.

use crate::env::ObjectRef;

/// The module's namespace, where the ConfigMap and LINSTOR's controller live.
pub const NAMESPACE: &str = "d8-sds-replicated-volume";

/// The ConfigMap whose `data.state` is the migration's source of truth.
pub const CONFIG_MAP: ObjectRef = ObjectRef {
    api_version: "v1",
    kind: "ConfigMap",
    namespace: Some(NAMESPACE),
    name: "control-plane-migration",
};

/// The module namespace: the ConfigMap can only be created once Helm made it.
pub const MODULE_NAMESPACE: ObjectRef = ObjectRef {
    api_version: "v1",
    kind: "Namespace",
    namespace: None,
    name: NAMESPACE,
};

/// LINSTOR's controller: present means LINSTOR is installed, so a migration is needed.
pub const LINSTOR_CONTROLLER: ObjectRef = ObjectRef {
    api_version: "apps/v1",
    kind: "Deployment",
    namespace: Some(NAMESPACE),
    name: "linstor-controller",
};

/// One CRD of LINSTOR's database: present means LINSTOR data may exist even when its
/// controller is scaled away.
pub const LINSTOR_DATABASE: ObjectRef = ObjectRef {
    api_version: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    namespace: None,
    name: "resourcedefinitions.internal.linstor.linbit.com",
};

/// The ConfigMap every namespace holds (Kubernetes' root CA publisher writes it): seen in
/// the ConfigMap listing, it proves the listing arrived, so the migration ConfigMap's
/// absence from it is real.
pub const CONFIG_MAP_CANARY: ObjectRef = ObjectRef {
    name: "kube-root-ca.crt",
    ..CONFIG_MAP
};

/// A namespace every cluster has: seen, it proves the Namespace listing arrived.
pub const NAMESPACE_CANARY: ObjectRef = ObjectRef {
    name: "kube-system",
    ..MODULE_NAMESPACE
};

/// Deckhouse's own ModuleConfig CRD, present wherever this module runs: seen, it proves
/// the CRD listing arrived, so LINSTOR's CRD missing from it means no LINSTOR data.
pub const CRD_CANARY: ObjectRef = ObjectRef {
    name: "moduleconfigs.deckhouse.io",
    ..LINSTOR_DATABASE
};

/// A kubernetes binding watching one object (and its canary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    pub name: &'static str,
    pub target: ObjectRef,
    /// An object of the same listing that always exists: absence is evidence only in a
    /// listing that holds it (an empty snapshot proves nothing).
    pub canary: Option<ObjectRef>,
    /// Full objects, so the host can answer `get` with the object itself.
    pub keep_full_objects_in_memory: bool,
    /// Run on the initial listing too, so the state is synced right after a restart.
    pub execute_hook_on_synchronization: bool,
}

/// The hook's configuration as plain data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HookSpec {
    /// Before Helm renders, so the templates see the synced state.
    pub before_helm: u32,
    /// No event filter, no jqFilter, the module's main queue.
    pub kubernetes: &'static [Binding],
}

const fn watch(name: &'static str, target: ObjectRef, canary: Option<ObjectRef>) -> Binding {
    Binding {
        name,
        target,
        canary,
        keep_full_objects_in_memory: true,
        execute_hook_on_synchronization: true,
    }
}

/// The state-sync hook's configuration.
pub const SPEC: HookSpec = HookSpec {
    before_helm: 5,
    kubernetes: &[
        watch(
            "control-plane-migration",
            CONFIG_MAP,
            Some(CONFIG_MAP_CANARY),
        ),
        watch("module-namespace", MODULE_NAMESPACE, Some(NAMESPACE_CANARY)),
        watch("linstor-controller", LINSTOR_CONTROLLER, None),
        watch("linstor-database", LINSTOR_DATABASE, Some(CRD_CANARY)),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_object_the_run_reads_is_watched() {
        for target in [
            CONFIG_MAP,
            MODULE_NAMESPACE,
            LINSTOR_CONTROLLER,
            LINSTOR_DATABASE,
            CONFIG_MAP_CANARY,
            NAMESPACE_CANARY,
            CRD_CANARY,
        ] {
            assert!(
                SPEC.kubernetes
                    .iter()
                    .any(|b| b.target == target || b.canary == Some(target)),
                "{target} has no binding"
            );
        }
    }

    #[test]
    fn binding_names_are_unique_and_flags_set() {
        for (i, b) in SPEC.kubernetes.iter().enumerate() {
            assert!(
                SPEC.kubernetes[i + 1..].iter().all(|o| o.name != b.name),
                "{} twice",
                b.name
            );
            assert!(
                b.keep_full_objects_in_memory && b.execute_hook_on_synchronization,
                "{}",
                b.name
            );
        }
    }
}
