//! Everything wasmtime: engines and epoch deadlines, the component cache, per-world store
//! state, the bindings and the conversions out of them.

pub mod bindings;
pub mod cache;
pub mod convert;
pub mod engine;
pub mod guest;
pub mod state;
