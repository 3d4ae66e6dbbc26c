//! Everything wasmtime: one engine, the component cache, per-run stores with limits.

pub mod bindings;
pub mod cache;
pub mod engine;
pub mod guest;
pub mod state;
