//! The seed's render guest: the five migration states of `control-plane-migration.md` and, for
//! each, which components the module's chart renders.
//!
//! The logic is [`render_plan`]'s; this crate is the seed's [`TABLE`] and the WIT glue. A module
//! with more states ships another table (see `tests/guests/nine-state-render`), not new logic.

pub use render_plan;

mod seed;

pub use seed::TABLE;

/// WIT glue. The canonical-ABI code wit-bindgen generates is `unsafe` by nature; the
/// allowance covers only this module, whose own code is safe.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod component;
