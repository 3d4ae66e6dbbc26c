//! A store seeded as the Job finds a cluster (LINSTOR data and CRDs, LINSTOR running,
//! the state ConfigMap, the module switched to the new control plane with its CRDs
//! installed), from the shared test data in `migration-data`.

use migration_data::{
    Schemas, configmap, linstor_crds, linstor_workloads, module_config, new_control_plane_crds,
};
use serde_json::Value;

use super::cluster::StoreCluster;

/// A LINSTOR fixture from tests/fixtures/linstor.
pub fn fixture(name: &str) -> Vec<Value> {
    migration_data::fixture(name).expect("the LINSTOR fixture loads")
}

/// The CRDs with their CEL rules, as the real API server checks created objects.
pub fn schemas() -> Schemas {
    Schemas::load()
        .expect("the CRDs in tests/crds compile")
        .with_cel_rules()
}

/// What every migrating cluster has besides its data: the switch on, the new CRDs,
/// the ConfigMap at `not_started` and LINSTOR running.
fn base() -> Vec<Value> {
    let mut objects = new_control_plane_crds().expect("the new control plane's CRDs load");
    objects.push(module_config(true));
    objects.push(configmap("not_started"));
    objects.extend(linstor_workloads());
    objects
}

fn store_of(objects: impl IntoIterator<Item = Value>) -> StoreCluster {
    let mut cluster = StoreCluster::default();
    for object in objects {
        cluster
            .store
            .create(object)
            .unwrap_or_else(|e| panic!("seeding: {e}"));
    }
    cluster
}

/// The objects plus LINSTOR's CRDs and the base.
pub fn seeded(objects: Vec<Value>) -> StoreCluster {
    let crds = linstor_crds().expect("LINSTOR's CRDs load");
    store_of(objects.into_iter().chain(crds).chain(base()))
}

/// A store without any LINSTOR CRD or data (a fresh install).
pub fn without_linstor() -> StoreCluster {
    store_of(base())
}
