//! The real module's nine migration states as a render guest.
//!
//! It proves the host and the chart need no change when a module adds states: this crate is a
//! [`render_plan::StateTable`] with four more rows (LINSTOR backup and removal, then the switch
//! to automatic configuration), exported through the SDK exactly as `guest-render` is.

use render_plan::{Planner, RenderTable, StateTable};

mod nine;

pub use nine::TABLE;

/// The nine-state table as a type.
pub struct Nine;

impl RenderTable for Nine {
    const TABLE: StateTable = TABLE;
}

/// The planner this guest exports.
pub type NinePlanner = Planner<Nine>;

deckhouse_hooks_sdk::export_render!(NinePlanner);
