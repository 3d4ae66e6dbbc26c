//! The seed's render guest: the five migration states of `control-plane-migration.md` and, for
//! each, which components the module's chart renders.
//!
//! The logic is [`render_plan`]'s; this crate is the seed's [`TABLE`], exported through the
//! SDK. A module with more states ships another table (see `tests/guests/nine-state-render`),
//! not new logic.

pub use render_plan;
use render_plan::{Planner, RenderTable, StateTable};

mod seed;

pub use seed::TABLE;

/// The seed table as a type.
pub struct Seed;

impl RenderTable for Seed {
    const TABLE: StateTable = TABLE;
}

/// The planner this guest exports.
pub type SeedPlanner = Planner<Seed>;

deckhouse_hooks_sdk::export_render!(SeedPlanner);
