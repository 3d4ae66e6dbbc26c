//! Runs sandboxed WebAssembly guests as Deckhouse module hooks and as the migration Job.
//!
//! - [`protocol`]: Deckhouse's hook protocol: binding contexts in; values patch, object
//!   operations and metrics out.
//! - [`runtime`]: the wasmtime engine, the precompiled-component cache, limits, bindings.
//! - [`capabilities`]: what a guest may call (Kubernetes, log), behind the grants check.
//! - [`commands`]: one file per CLI command.
//! - [`manifest`]: the grants manifest.
//! - [`rbac`]: Kubernetes RBAC generated from a guest's grants.

pub mod capabilities;
pub mod cli;
pub mod commands;
pub mod error;
pub mod logging;
pub mod manifest;
pub mod protocol;
pub mod rbac;
pub mod runtime;
