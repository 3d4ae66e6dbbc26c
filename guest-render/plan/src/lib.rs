//! Decides which of the module's components Helm renders, from a table of migration states.
//!
//! A render guest is a [`StateTable`] exported as [`Planner`] with one SDK macro. The logic here knows no state
//! names: the seed guest (`guest-render`) and the nine-state guest share it with different tables,
//! so adding a migration stage means adding a table row, not code.
//!
//! - [`table`]: the table types a guest fills in.
//! - [`plan`]: the table walked for one input, with [`PlanError`] for unknown states.
//! - [`values`]: the plan input read out of the module's values JSON.
//! - [`invariants`]: the safety rules every plan must keep, for the guests' tests.
//! - [`Planner`]: a table as the SDK's [`deckhouse_hooks_sdk::Render`].

pub mod invariants;
pub mod plan;
mod planner;
pub mod table;
pub mod values;

pub use plan::{Decision, PlanError, PlanInput};
pub use planner::{Planner, RenderTable};
pub use table::{Component, ComponentSet, Entry, StateRow, StateTable, Transition, off, on};
pub use values::{ValuesError, input_from_value, input_from_values};

#[cfg(test)]
mod test_table;
