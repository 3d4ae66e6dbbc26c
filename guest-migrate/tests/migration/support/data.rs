//! A store seeded as the Job finds a cluster (LINSTOR data and CRDs, LINSTOR running,
//! the state ConfigMap), from the shared test data in `migration-data`.

use migration_data::{Schemas, configmap, linstor_crds, linstor_workloads};
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

/// The objects plus LINSTOR's CRDs, the ConfigMap at `not_started` and LINSTOR running.
pub fn seeded(objects: Vec<Value>) -> StoreCluster {
    let mut cluster = StoreCluster::default();
    let extra = linstor_crds()
        .expect("LINSTOR's CRDs load")
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
