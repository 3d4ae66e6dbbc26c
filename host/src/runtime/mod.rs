//! Everything wasmtime: engines and epoch deadlines, the component cache, per-world store
//! state, and the conversions out of the bindings.

pub mod budget;
pub mod cache;
pub mod convert;
pub mod cpu;
pub mod engine;
pub mod guest;
pub mod limiter;
pub mod state;
pub mod stdio;
pub mod wasi;
