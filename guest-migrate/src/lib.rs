//! The control-plane migration Job (world `job-guest`): moves sds-replicated-volume
//! from LINSTOR to the new control plane in the seed's two passes. The logic runs on
//! the [`Cluster`] and [`Log`] traits, so it is tested natively on an in-memory store
//! and runs in wasm on the host's `kubernetes` and `log` imports.

mod compare;
mod error;
mod inventory;
mod kube;
mod linstor;
mod load;
mod log;
mod machine;
mod names;
mod pass1;
mod pass2;
mod plan;
mod quantity;
mod state;
mod workloads;

/// WIT glue. The canonical-ABI code wit-bindgen generates is `unsafe` by nature; the
/// allowance covers only this module, whose own code is safe.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod component;

pub use kube::{Cluster, KubeError, ListQuery, ObjRef, PatchKind};
pub use log::{Level, Log, NoLog};
pub use machine::{POLL_MS, Step, step};
pub use state::{ALL_COMPLETED, NOT_STARTED, STAGE1_COMPLETED, STAGE1_STARTED, STAGE2_STARTED};

/// Names the tests and the host's job wiring share with the guest.
pub mod well_known {
    pub use crate::names::*;
}
