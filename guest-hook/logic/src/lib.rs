//! The `control-plane-migration-state-sync` hook: copies the migration state from the
//! ConfigMap `d8-sds-replicated-volume/control-plane-migration` into the module value
//! `internal.controlPlaneMigration`, refusing unknown states and backward jumps.
//!
//! Everything here is plain Rust over a [`StateTable`] and a [`HookEnv`], so it runs in
//! unit tests, in the native benchmark binary and, through [`component`], as a Wasm guest.

pub mod bindings;
pub mod decide;
pub mod env;
pub mod inputs;
pub mod memory;
pub mod metrics;
pub mod output;
pub mod run;
pub mod states;

#[cfg(target_arch = "wasm32")]
pub mod component;

pub use env::{HookEnv, KubeError, LogLevel, ObjectRef};
pub use memory::MemoryEnv;
pub use output::{HookOutput, Metric, MetricAction, ValuesOp, ValuesOpKind};
pub use run::run;
pub use states::{Rejection, StateTable, Table};
