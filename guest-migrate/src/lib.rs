//! The control-plane migration Job (world `job-guest` of `deckhouse:hooks@0.2.0`):
//! moves sds-replicated-volume from LINSTOR to the new control plane in the seed's
//! two passes, as the module's own migrator does its stages 1 and 2. The logic runs on
//! the [`Cluster`], [`Log`] and [`Clock`] traits, so it is tested natively on an
//! in-memory store and runs in wasm on the host's imports and WASI clocks.

mod adoption;
mod clock;
mod compare;
mod create;
mod error;
mod events;
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
mod preflight;
mod progress;
mod quantity;
mod report;
mod settings;
mod state;
mod verify;
mod workloads;

/// WIT glue. The canonical-ABI code wit-bindgen generates is `unsafe` by nature; the
/// allowance covers only this module, whose own code is safe.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod component;

pub use clock::{Clock, SystemClock};
pub use kube::{
    Cluster, CreateMode, DeleteMode, KubeError, ListQuery, ObjRef, Page, PatchKind, PatchOptions,
};
pub use log::{Level, Log, NoLog};
pub use machine::{Migrator, POLL_MS, Step};
pub use report::Report;
pub use settings::Settings;
pub use state::{ALL_COMPLETED, NOT_STARTED, STAGE1_COMPLETED, STAGE1_STARTED, STAGE2_STARTED};

/// Names the tests and the host's job wiring share with the guest.
pub mod well_known {
    pub use crate::names::*;
    pub use crate::plan::ftt_gmdr;
}
