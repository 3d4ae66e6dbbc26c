//! A table as the SDK's render planner: what each render guest exports.

use crate::table::StateTable;
use deckhouse_hooks_sdk::render::{Decision, PlanInput, Render, StateMachine, Transition};
use serde_json::Value;
use std::marker::PhantomData;

/// Gives a guest type its table, so one generic planner serves every table.
pub trait RenderTable {
    /// The guest's table.
    const TABLE: StateTable;
}

/// The planner over table `T`; a guest exports `Planner<ItsTable>` with
/// `deckhouse_hooks_sdk::export_render!`.
pub struct Planner<T>(PhantomData<T>);

impl<T: RenderTable> Render for Planner<T> {
    fn describe() -> StateMachine {
        let table = T::TABLE;
        StateMachine {
            states: table.state_names().into_iter().map(str::to_owned).collect(),
            transitions: table
                .transitions
                .iter()
                .map(|t| Transition {
                    from: t.from.into(),
                    to: t.to.into(),
                    trigger: t.trigger.into(),
                })
                .collect(),
            values_path: table.values_path.into(),
            before_helm: table.before_helm,
        }
    }

    fn plan(input: &PlanInput) -> Result<Vec<Decision>, String> {
        let plan = T::TABLE.plan(input).map_err(|e| e.to_string())?;
        Ok(plan
            .into_iter()
            .map(|d| Decision {
                component: d.component.key().into(),
                rendered: d.rendered,
                reason: d.reason,
            })
            .collect())
    }

    fn input_from_values(module_values: &Value) -> Result<PlanInput, String> {
        crate::input_from_value(module_values).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_table;

    struct Three;

    impl RenderTable for Three {
        const TABLE: StateTable = test_table::TABLE;
    }

    #[test]
    fn describes_plans_and_reads_values_like_the_table() {
        let machine = Planner::<Three>::describe();
        assert_eq!(machine.states, ["before", "moving", "done"]);
        assert_eq!(
            (machine.values_path.as_str(), machine.before_helm),
            ("/internal/renderPlan", 10)
        );
        assert_eq!(machine.transitions[1].trigger, "job starts");
        let input = Planner::<Three>::input_from_values(
            &serde_json::json!({"newControlPlane": true, "internal": {"controlPlaneMigration": "moving"}}),
        )
        .unwrap();
        let plan = Planner::<Three>::plan(&input).unwrap();
        let keys: Vec<&str> = plan.iter().map(|d| d.component.as_str()).collect();
        assert_eq!(
            keys,
            ["linstor", "agent", "controller", "csi", "migrationJob"]
        );
        assert!(plan[1].rendered && !plan[0].rendered);
        let unknown = PlanInput {
            new_control_plane: true,
            state: "bogus".into(),
        };
        assert!(
            Planner::<Three>::plan(&unknown)
                .unwrap_err()
                .contains("known states: before, moving, done")
        );
        assert!(
            Planner::<Three>::input_from_values(&serde_json::json!([]))
                .unwrap_err()
                .contains("an object")
        );
    }
}
