//! The nine-state table restated by hand, and held to the same invariants as the seed's.

use render_plan::PlanInput;
use render_plan::invariants::{check_all_plans, check_table};

use super::TABLE;

const STATES: [&str; 9] = [
    "not_started",
    "stage1_started",
    "stage1_completed",
    "stage2_started",
    "stage2_completed",
    "stage3_started",
    "stage3_completed",
    "stage4_started",
    "all_completed",
];

fn rendered(new_control_plane: bool, state: &str) -> Vec<&'static str> {
    let input = PlanInput {
        new_control_plane,
        state: state.to_owned(),
    };
    let plan = TABLE
        .plan(&input)
        .unwrap_or_else(|e| panic!("{state}: {e}"));
    plan.iter()
        .filter(|d| d.rendered)
        .map(|d| d.component.key())
        .collect()
}

#[test]
fn states_are_the_nine_in_order() {
    assert_eq!(TABLE.state_names(), STATES);
}

#[test]
fn every_state_renders_as_expected() {
    let migrating: &[&str] = &["agent", "controller", "migrationJob"];
    let expected: [&[&str]; 9] = [
        &["linstor", "csi", "migrationJob"],
        &["migrationJob"],
        migrating,
        migrating,
        migrating,
        migrating,
        migrating,
        migrating,
        &["agent", "controller", "csi"],
    ];
    for (state, components) in STATES.iter().zip(expected) {
        assert_eq!(rendered(true, state), components, "{state}");
        // A switch back keeps the state's plan without the Job, except before the migration.
        let back: Vec<&str> = if *state == "not_started" {
            vec!["linstor", "csi"]
        } else {
            components
                .iter()
                .copied()
                .filter(|c| *c != "migrationJob")
                .collect()
        };
        assert_eq!(rendered(false, state), back, "{state}");
    }
}

#[test]
fn seed_states_render_what_the_seed_guest_renders() {
    let ours = |input: &PlanInput| flags(TABLE.plan(input));
    let seed = |input: &PlanInput| flags(guest_render::TABLE.plan(input));
    for state in guest_render::TABLE.state_names() {
        for new_control_plane in [false, true] {
            let input = PlanInput {
                new_control_plane,
                state: state.into(),
            };
            assert_eq!(
                ours(&input),
                seed(&input),
                "{state}, newControlPlane={new_control_plane}"
            );
        }
    }
}

fn flags(
    plan: Result<Vec<render_plan::Decision>, render_plan::PlanError>,
) -> Vec<(&'static str, bool)> {
    let plan = plan.expect("known state");
    plan.iter()
        .map(|d| (d.component.key(), d.rendered))
        .collect()
}

#[test]
fn unknown_state_is_an_error() {
    let input = PlanInput {
        new_control_plane: true,
        state: "stage5_started".into(),
    };
    let err = TABLE.plan(&input).unwrap_err().to_string();
    assert!(
        err.contains("stage5_started") && err.contains(&STATES.join(", ")),
        "{err}"
    );
}

#[test]
fn table_and_every_plan_keep_the_invariants() {
    check_table(&TABLE).expect("valid table");
    check_all_plans(&TABLE).expect("valid plans");
}
