//! The real module's nine migration states as a render guest.
//!
//! It proves the host and the chart need no change when a module adds states: this crate is a
//! [`render_plan::StateTable`] with four more rows (LINSTOR backup and removal, then the switch
//! to automatic configuration) and the same two lines of WIT glue as `guest-render`.

mod nine;

pub use nine::TABLE;

/// WIT glue. The canonical-ABI code wit-bindgen generates is `unsafe` by nature; the
/// allowance covers only this module, whose own code is safe.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod component;
