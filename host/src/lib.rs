//! Runs sandboxed WebAssembly guests as Deckhouse module hooks and as the migration Job.
//!
//! Layers, each only using the ones below it:
//! - [`bindings`]: the Rust side of `wit/hooks.wit`, generated; the contract itself.
//! - [`protocol`]: Deckhouse's hook protocol as plain data: binding contexts in; hook
//!   config, values patches, object operations and metrics out, each checked by the
//!   runners' own rules. Knows nothing of wasmtime.
//! - [`capabilities`]: what a guest may call (Kubernetes, log), each on a narrow context,
//!   behind the [`capabilities::grants`] check; the Kubernetes backends.
//! - [`runtime`]: wasmtime: engines, the component cache, per-world store state, bindings.
//! - [`deckhouse`]: running a hook as Deckhouse does, in-process and as a process.
//! - [`simulate`]: the migration on an embedded cluster with the real guests, and the
//!   exhaustive exploration behind `verify`.
//! - [`commands`]: one file per CLI command.
//! - [`manifest`]: the grants manifest.
//! - [`rbac`]: Kubernetes RBAC generated from a guest's grants.
//! - [`scaffold`]: a new guest crate on the SDK, its grants entry and first case (`new`).

pub mod bindings;
pub mod capabilities;
pub mod cli;
pub mod commands;
pub mod deckhouse;
pub mod error;
pub mod logging;
pub mod manifest;
pub mod protocol;
pub mod rbac;
pub mod runtime;
pub mod scaffold;
pub mod simulate;
