//! A render planner (world `render-guest`): a pure decision over the module's values of
//! which components Helm renders. It imports nothing, so it needs no [`crate::Host`].

use serde_json::Value;

/// One component's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The component's key in the plan (`linstor`, `agent`, ...).
    pub component: String,
    /// Whether Helm renders it.
    pub rendered: bool,
    /// One line a person can read: why.
    pub reason: String,
}

/// One edge of the state machine, for documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// From this state (`[*]`: the start).
    pub from: String,
    /// To this state (`[*]`: the end).
    pub to: String,
    /// What moves it.
    pub trigger: String,
}

/// The state machine a planner knows (`wasm-hooks plan` prints it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateMachine {
    /// The states, in order.
    pub states: Vec<String>,
    /// The documented edges.
    pub transitions: Vec<Transition>,
    /// Where the plan is written, below the module's values key (`/internal/renderPlan`).
    pub values_path: String,
    /// The beforeHelm order to run at.
    pub before_helm: u32,
}

/// The switch and the state to plan for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanInput {
    /// Whether the new control plane is switched on.
    pub new_control_plane: bool,
    /// The migration state.
    pub state: String,
}

/// A render planner. Implement it and export it with [`crate::export_render!`].
pub trait Render {
    /// The state machine, for documentation.
    fn describe() -> StateMachine;
    /// The components to render; an unknown state is an error, never a guess.
    fn plan(input: &PlanInput) -> Result<Vec<Decision>, String>;
    /// Reads the plan input out of the module's values.
    fn input_from_values(module_values: &Value) -> Result<PlanInput, String>;
}

/// The plan as the host writes it into values: `{component: {rendered, reason}}`.
pub fn plan_values(decisions: &[Decision]) -> Value {
    decisions
        .iter()
        .map(|d| {
            (
                d.component.clone(),
                serde_json::json!({"rendered": d.rendered, "reason": d.reason}),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}
