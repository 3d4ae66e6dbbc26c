//! The `control-plane-migration-state-sync` hook: copies the migration state from the
//! ConfigMap `d8-sds-replicated-volume/control-plane-migration` into the module value
//! `internal.controlPlaneMigration`, refusing unknown states and backward jumps.
//!
//! [`StateSync`] is a [`Hook`] over any [`StateTable`]: the seed guest (`guest-hook`) and
//! the nine-state test guest export it with their own tables. Everything is plain Rust on
//! the SDK, so it runs in unit tests, in the native benchmark and as a Wasm guest.

pub mod states;
pub mod sync;

use deckhouse_hooks_sdk::{Error, Hook, HookConfig, HookInput, KubeBinding};
use std::marker::PhantomData;

pub use states::{Rejection, StateTable, Table};

/// The module's key in Deckhouse values.
pub const VALUES_KEY: &str = "sdsReplicatedVolume";

/// The module's namespace, where the ConfigMap and LINSTOR's controller live.
pub const NAMESPACE: &str = "d8-sds-replicated-volume";

/// The ConfigMap whose `data.state` is the migration's source of truth.
pub const CONFIG_MAP: &str = "control-plane-migration";

/// LINSTOR's controller Deployment, in [`NAMESPACE`].
pub const LINSTOR_CONTROLLER: &str = "linstor-controller";

/// One CRD of LINSTOR's database.
pub const LINSTOR_CRD: &str = "resourcedefinitions.internal.linstor.linbit.com";

/// The bindings, by snapshot name: every object the run reads is watched, so each run
/// gets it in its snapshots.
pub mod binding {
    /// The ConfigMap.
    pub const CONFIG_MAP: &str = "control-plane-migration";
    /// The module namespace: the ConfigMap can only be created once Helm made it.
    pub const NAMESPACE: &str = "module-namespace";
    /// LINSTOR's controller: present means LINSTOR is installed.
    pub const LINSTOR_CONTROLLER: &str = "linstor-controller";
    /// One CRD of LINSTOR's database: LINSTOR data may exist even with no controller.
    pub const LINSTOR_DATABASE: &str = "linstor-database";
}

/// Canaries: objects that always exist, each watched by the binding of its kind. An empty
/// snapshot proves nothing (a monitor not yet synchronized delivers nothing too), so an
/// object counts as absent only from a listing that holds its canary.
pub mod canary {
    /// Kubernetes' root CA publisher writes it into every namespace.
    pub const CONFIG_MAP: &str = "kube-root-ca.crt";
    /// A namespace every cluster has.
    pub const NAMESPACE: &str = "kube-system";
    /// Deckhouse's own ModuleConfig CRD, present wherever this module runs.
    pub const CRD: &str = "moduleconfigs.deckhouse.io";
}

/// The state-sync hook over table `T`.
pub struct StateSync<T>(PhantomData<T>);

impl<T: Table> Hook for StateSync<T> {
    const VALUES_KEY: &'static str = VALUES_KEY;

    /// beforeHelm 5, so the templates see the synced state; each binding watches its
    /// object (and its [`canary`]), keeps them whole and runs the hook on the initial
    /// listing too, so the state is synced right after a restart.
    fn config() -> HookConfig {
        let watch = |name: &str, api_version: &str, kind: &str, objects: &[&str], namespaced| {
            let binding = KubeBinding::new(name, api_version, kind)
                .names(objects.iter().copied())
                .keep_full_objects_in_memory(true)
                .execute_hook_on_synchronization(true);
            if namespaced {
                binding.namespaces([NAMESPACE])
            } else {
                binding
            }
        };
        let crd = "apiextensions.k8s.io/v1";
        let cm = [CONFIG_MAP, canary::CONFIG_MAP];
        let ns = [NAMESPACE, canary::NAMESPACE];
        let db = [LINSTOR_CRD, canary::CRD];
        [
            (binding::CONFIG_MAP, "v1", "ConfigMap", &cm[..], true),
            (binding::NAMESPACE, "v1", "Namespace", &ns, false),
            (
                binding::LINSTOR_CONTROLLER,
                "apps/v1",
                "Deployment",
                &[LINSTOR_CONTROLLER],
                true,
            ),
            (
                binding::LINSTOR_DATABASE,
                crd,
                "CustomResourceDefinition",
                &db,
                false,
            ),
        ]
        .into_iter()
        .fold(
            HookConfig::new().before_helm(5),
            |config, (name, api, kind, objects, namespaced)| {
                config.kubernetes(watch(name, api, kind, objects, namespaced))
            },
        )
    }

    fn run(input: &mut HookInput<'_>) -> Result<(), Error> {
        sync::run(&T::TABLE, input)
    }
}

#[cfg(test)]
mod tests;
