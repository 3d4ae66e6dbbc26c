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

/// The state-sync hook over table `T`.
pub struct StateSync<T>(PhantomData<T>);

impl<T: Table> Hook for StateSync<T> {
    const VALUES_KEY: &'static str = VALUES_KEY;

    /// beforeHelm 5, so the templates see the synced state; each binding watches exactly
    /// one object, keeps it whole and runs the hook on the initial listing too, so the
    /// state is synced right after a restart.
    fn config() -> HookConfig {
        let watch = |name: &str, api_version: &str, kind: &str, object: &str, namespaced: bool| {
            let binding = KubeBinding::new(name, api_version, kind)
                .names([object])
                .keep_full_objects_in_memory(true)
                .execute_hook_on_synchronization(true);
            if namespaced {
                binding.namespaces([NAMESPACE])
            } else {
                binding
            }
        };
        HookConfig::new()
            .before_helm(5)
            .kubernetes(watch(
                binding::CONFIG_MAP,
                "v1",
                "ConfigMap",
                CONFIG_MAP,
                true,
            ))
            .kubernetes(watch(
                binding::NAMESPACE,
                "v1",
                "Namespace",
                NAMESPACE,
                false,
            ))
            .kubernetes(watch(
                binding::LINSTOR_CONTROLLER,
                "apps/v1",
                "Deployment",
                "linstor-controller",
                true,
            ))
            .kubernetes(watch(
                binding::LINSTOR_DATABASE,
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                "resourcedefinitions.internal.linstor.linbit.com",
                false,
            ))
    }

    fn run(input: &mut HookInput<'_>) -> Result<(), Error> {
        sync::run(&T::TABLE, input)
    }
}

#[cfg(test)]
mod tests;
