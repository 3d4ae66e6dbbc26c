//! A table walked for one input: the decisions the host writes into the values.

use crate::table::{Component, ComponentSet, StateTable};

/// The switch (`sdsReplicatedVolume.newControlPlane`) and the state
/// (`sdsReplicatedVolume.internal.controlPlaneMigration`) to plan for: the SDK's type.
pub use deckhouse_hooks_sdk::PlanInput;

/// One component's decision, ready for the WIT `decision` record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub component: Component,
    pub rendered: bool,
    pub reason: String,
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    /// The state is not in the table: rendering anything would be a guess.
    #[error(
        "unknown control-plane migration state {state:?} (internal.controlPlaneMigration); \
         known states: {}; fix the ConfigMap d8-sds-replicated-volume/control-plane-migration \
         (data.state) or ship a render guest that knows this state",
        known.join(", ")
    )]
    UnknownState {
        state: String,
        known: Vec<&'static str>,
    },
}

impl StateTable {
    /// The decisions for every component, in [`Component::ALL`] order.
    ///
    /// The state must be known even while the switch is off: a state no guest knows means the
    /// ConfigMap or the values are corrupt, and that should stop the render, not pass silently.
    pub fn plan(&self, input: &PlanInput) -> Result<Vec<Decision>, PlanError> {
        let row = self
            .row(&input.state)
            .ok_or_else(|| PlanError::UnknownState {
                state: input.state.clone(),
                known: self.state_names(),
            })?;
        if input.new_control_plane {
            let context = format!("newControlPlane=true, state {}", row.state);
            Ok(decisions(&row.components, &context))
        } else {
            let context = format!(
                "newControlPlane=false: legacy plan whatever the state (state {})",
                row.state
            );
            Ok(decisions(&self.legacy, &context))
        }
    }
}

/// One decision per component, each reason prefixed with the situation it was made in.
fn decisions(set: &ComponentSet, context: &str) -> Vec<Decision> {
    Component::ALL
        .iter()
        .map(|&component| {
            let entry = set.get(component);
            Decision {
                component,
                rendered: entry.rendered,
                reason: format!("{context}: {}", entry.why),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
