//! Write Deckhouse hooks, render planners and migration jobs as WebAssembly guests of
//! `wasm-hooks`, the way [module-sdk] writes hooks in Go.
//!
//! A hook is a type implementing [`Hook`]: its [`HookConfig`] (built like module-sdk's
//! `pkg.HookConfig`) and a `run` over a [`HookInput`], which holds the run's
//! [`Snapshots`] by binding name, the module's [`Values`] and config values (read typed,
//! changed by path), the [`Kube`] client (every object operation Deckhouse offers, plus
//! get and list), a [`Metrics`] collector and a [`Logger`]. One line exports it:
//!
//! ```
//! use deckhouse_hooks_sdk::prelude::*;
//!
//! pub struct Noop;
//!
//! impl Hook for Noop {
//!     const VALUES_KEY: &'static str = "myModule";
//!     fn config() -> HookConfig {
//!         HookConfig::new().before_helm(1)
//!     }
//!     fn run(_: &mut HookInput) -> Result<(), Error> {
//!         Ok(())
//!     }
//! }
//!
//! deckhouse_hooks_sdk::export_hook!(Noop);
//! ```
//!
//! The WIT bindings of `wit/hooks.wit` are generated once, here, and only for
//! `wasm32`; the SDK itself exports nothing, so any number of guests can depend on it.
//! Everything an author touches is plain Rust: the imports sit behind the [`Host`] trait,
//! so a hook runs natively in unit tests, and the `testing` feature's `testkit` module runs it
//! against a YAML cluster state or a golden fixture folder, as the host would.
//!
//! [module-sdk]: https://github.com/deckhouse/module-sdk

#![deny(missing_docs)]

extern crate self as deckhouse_hooks_sdk;

pub mod config;
pub mod error;
pub mod hook;
pub mod host;
pub mod job;
pub mod kube;
pub mod log;
pub mod metrics;
pub mod render;
pub mod snapshots;
pub mod values;

#[cfg(feature = "testing")]
pub mod testkit;

/// The WIT glue: bindings generated once per world, the [`Host`] over the imports, and the
/// adapters the export macros name. Only built for `wasm32`.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
#[allow(unsafe_code, missing_docs)]
pub mod wasm;

pub use config::{
    FieldOperator, FieldRequirement, HookConfig, KubeBinding, LabelSelector, NamespaceSelector,
    RunSettings, ScheduleBinding, WatchEvent,
};
pub use error::Error;
pub use hook::{Hook, HookInput, HookOutput, RawInput};
pub use hooks_manifest as manifest;
pub use hooks_manifest::output::{Metric, MetricAction, ObjectOperation, ValuesChange};
pub use hooks_manifest::{
    CreateMode, DeleteMode, KubeError, ListPage, ListQuery, ObjectRef, PatchKind, PatchOptions,
};
pub use host::{Host, LogLevel};
pub use job::{Job, JobContext, Report, Step};
pub use kube::Kube;
pub use log::Logger;
pub use metrics::Metrics;
pub use render::{Decision, PlanInput, Render, StateMachine, Transition};
pub use snapshots::{SnapshotError, Snapshots};
pub use values::{Values, ValuesError};

/// Everything a hook author usually needs, in one `use`.
pub mod prelude {
    pub use crate::{
        CreateMode, DeleteMode, Error, FieldOperator, Hook, HookConfig, HookInput, KubeBinding,
        KubeError, LabelSelector, ListQuery, NamespaceSelector, ObjectRef, PatchOptions,
        ScheduleBinding, WatchEvent,
    };
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::{Value, json};
}

/// Exports a [`Hook`] as the guest's `hook` interface (world `hook-guest`).
///
/// Invoke it once, in the final guest crate (a `cdylib` built for `wasm32-wasip2`); on
/// other targets it expands to nothing, so the same crate also builds and tests natively.
#[macro_export]
macro_rules! export_hook {
    ($hook:ty) => {
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        const _: () = {
            type DeckhouseHooksExport = $crate::wasm::HookGlue<$hook>;
            $crate::wasm::hook::export_hook_world!(
                DeckhouseHooksExport with_types_in $crate::wasm::hook
            );
        };
    };
}

/// Exports a [`Render`] planner as the guest's `render` interface (world `render-guest`).
#[macro_export]
macro_rules! export_render {
    ($render:ty) => {
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        const _: () = {
            type DeckhouseHooksExport = $crate::wasm::RenderGlue<$render>;
            $crate::wasm::render::export_render_world!(
                DeckhouseHooksExport with_types_in $crate::wasm::render
            );
        };
    };
}

/// Exports a [`Job`] as the guest's `job` interface (world `job-guest`).
#[macro_export]
macro_rules! export_job {
    ($job:ty) => {
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        const _: () = {
            type DeckhouseHooksExport = $crate::wasm::JobGlue<$job>;
            $crate::wasm::job::export_job_world!(
                DeckhouseHooksExport with_types_in $crate::wasm::job
            );
        };
    };
}
