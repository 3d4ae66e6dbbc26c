//! The seed's summary table, restated by hand: every state with the switch off and on.

use render_plan::invariants::{check_all_plans, check_table};
use render_plan::{PlanError, PlanInput};

use super::TABLE;

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

const STATES: [&str; 5] = [
    "not_started",
    "stage1_started",
    "stage1_completed",
    "stage2_started",
    "all_completed",
];

#[test]
fn states_are_the_seeds_in_order() {
    assert_eq!(TABLE.state_names(), STATES);
    assert_eq!(TABLE.values_path, "/internal/renderPlan");
    assert_eq!(TABLE.before_helm, 10);
}

#[test]
fn switch_off_is_the_legacy_plan_only_in_not_started() {
    assert_eq!(rendered(false, "not_started"), ["linstor", "csi"]);
}

#[test]
fn switch_back_keeps_the_new_control_plane_without_the_job() {
    let expected: [(&str, &[&str]); 4] = [
        ("stage1_started", &[]),
        ("stage1_completed", &["agent", "controller"]),
        ("stage2_started", &["agent", "controller"]),
        ("all_completed", &["agent", "controller", "csi"]),
    ];
    for (state, components) in expected {
        assert_eq!(rendered(false, state), components, "{state}");
    }
}

#[test]
fn switch_on_follows_the_summary_table() {
    let expected: [(&str, &[&str]); 5] = [
        ("not_started", &["linstor", "csi", "migrationJob"]),
        ("stage1_started", &["migrationJob"]),
        ("stage1_completed", &["agent", "controller", "migrationJob"]),
        ("stage2_started", &["agent", "controller", "migrationJob"]),
        ("all_completed", &["agent", "controller", "csi"]),
    ];
    for (state, components) in expected {
        assert_eq!(rendered(true, state), components, "{state}");
    }
}

#[test]
fn switch_back_reasons_name_the_policy() {
    let input = PlanInput {
        new_control_plane: false,
        state: "stage1_started".into(),
    };
    for decision in TABLE.plan(&input).expect("known state") {
        assert!(
            decision
                .reason
                .contains("the new control plane is kept (state stage1_started; switching back is refused by the ModuleConfig admission policy)"),
            "{}",
            decision.reason
        );
    }
}

#[test]
fn unknown_state_is_an_error_with_the_known_states() {
    for new_control_plane in [false, true] {
        let input = PlanInput {
            new_control_plane,
            state: "stage3_started".into(),
        };
        let err = TABLE.plan(&input).unwrap_err();
        assert!(matches!(&err, PlanError::UnknownState { state, .. } if state == "stage3_started"));
        assert!(err.to_string().contains(&STATES.join(", ")), "{err}");
    }
}

#[test]
fn table_and_every_plan_keep_the_invariants() {
    check_table(&TABLE).expect("valid table");
    check_all_plans(&TABLE).expect("valid plans");
}

#[test]
fn transitions_include_the_fresh_install_entry() {
    let fresh = TABLE
        .transitions
        .iter()
        .find(|t| t.from == "[*]" && t.to == "all_completed");
    assert!(fresh.is_some_and(|t| t.trigger.contains("fresh install")));
    let edges: Vec<(&str, &str)> = TABLE.transitions.iter().map(|t| (t.from, t.to)).collect();
    for pair in STATES.windows(2) {
        assert!(
            edges.contains(&(pair[0], pair[1])),
            "missing {} -> {}",
            pair[0],
            pair[1]
        );
    }
}
