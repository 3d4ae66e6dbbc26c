//! The control-plane migration Job (world `job-guest` of `deckhouse:hooks@0.2.0`):
//! moves sds-replicated-volume from LINSTOR to the new control plane in the seed's
//! two passes, as the module's own migrator does its stages 1 and 2. [`Migrator`] is a
//! `deckhouse-hooks-sdk` [`Job`](deckhouse_hooks_sdk::Job): it calls Kubernetes and logs
//! through the SDK's client over its `Host`, and keeps time on a [`Clock`], so it is
//! tested natively on an in-memory store and runs in wasm on the host's imports and WASI
//! clocks.

mod adoption;
mod clock;
mod compare;
mod create;
mod error;
mod events;
mod inventory;
mod linstor;
mod load;
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

pub use clock::{Clock, SystemClock};
pub use machine::{Migrator, POLL_MS};
pub use settings::Settings;
pub use state::{ALL_COMPLETED, NOT_STARTED, STAGE1_COMPLETED, STAGE1_STARTED, STAGE2_STARTED};

/// Names the tests and the host's job wiring share with the guest.
pub mod well_known {
    pub use crate::names::*;
    pub use crate::plan::ftt_gmdr;
}

deckhouse_hooks_sdk::export_job!(Migrator);
