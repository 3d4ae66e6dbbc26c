//! The migration Job's test data and checks in one place, so guest-migrate's native
//! tests, the host's `job` test and `cargo xtask bench-migrate` seed and judge the same
//! clusters the same way: the repository's LINSTOR fixtures and CRDs, a generated
//! cluster of any size, the objects Deckhouse and kubelet would add, the new
//! controller's side of the adoption (`controller`), store snapshots
//! without server-set metadata, and validation of created objects against the CRDs.
//!
//! Loading returns [`Error`] (xtask reports it, tests panic with it); `assert_*`
//! functions panic, as test assertions do.

mod cel;
pub mod controller;
mod error;
mod files;
pub mod generator;
pub mod golden;
mod objects;
mod prune;
mod schema;
#[cfg(feature = "apiserver")]
mod served;
pub mod snapshot;

pub use error::Error;
pub use files::{
    crd_files, fixture, linstor_crds, new_control_plane_crds, root, tests_path, yaml_documents,
};
/// The real object names, from the guest itself, so the tests cannot drift from it.
pub use guest_migrate::well_known;
pub use objects::{
    configmap, linstor_workloads, module_config, ready_new_control_plane, volume_group, workload,
};
pub use schema::Schemas;
#[cfg(feature = "apiserver")]
pub use served::served_resources;
