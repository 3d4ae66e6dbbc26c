use crate::plan::{PlanError, PlanInput};
use crate::table::Component;
use crate::test_table::TABLE;

fn input(new_control_plane: bool, state: &str) -> PlanInput {
    PlanInput {
        new_control_plane,
        state: state.to_owned(),
    }
}

fn rendered(new_control_plane: bool, state: &str) -> Vec<&'static str> {
    let plan = TABLE
        .plan(&input(new_control_plane, state))
        .expect("known state");
    plan.iter()
        .filter(|d| d.rendered)
        .map(|d| d.component.key())
        .collect()
}

#[test]
fn switch_on_follows_the_state_row() {
    assert_eq!(rendered(true, "before"), ["linstor", "csi", "migrationJob"]);
    assert_eq!(
        rendered(true, "moving"),
        ["agent", "controller", "migrationJob"]
    );
    assert_eq!(rendered(true, "done"), ["agent", "controller", "csi"]);
}

#[test]
fn switch_off_gives_the_legacy_plan_only_before_the_migration() {
    assert_eq!(rendered(false, "before"), ["linstor", "csi"]);
}

#[test]
fn switch_back_after_the_first_state_keeps_the_new_control_plane_without_the_job() {
    assert_eq!(rendered(false, "moving"), ["agent", "controller"]);
    assert_eq!(rendered(false, "done"), ["agent", "controller", "csi"]);
    assert!(!TABLE.keeps_new_control_plane("before"));
    assert!(TABLE.keeps_new_control_plane("moving"));
    assert!(!TABLE.keeps_new_control_plane("unknown"));
}

#[test]
fn plans_list_every_component_in_order() {
    let plan = TABLE.plan(&input(true, "moving")).expect("known state");
    let order: Vec<Component> = plan.iter().map(|d| d.component).collect();
    assert_eq!(order, Component::ALL);
}

#[test]
fn reasons_say_which_situation_decided() {
    let plan = TABLE.plan(&input(false, "before")).expect("known state");
    assert_eq!(
        plan[0].reason,
        "newControlPlane=false: legacy plan before the migration (state before): old backend"
    );
    let plan = TABLE.plan(&input(false, "done")).expect("known state");
    assert!(
        plan[4]
            .reason
            .starts_with("newControlPlane=false after the migration left before")
            && plan[4]
                .reason
                .ends_with("set it back to true to finish the migration"),
        "{}",
        plan[4].reason
    );
    let plan = TABLE.plan(&input(true, "moving")).expect("known state");
    assert_eq!(
        plan[4].reason,
        "newControlPlane=true, state moving: moves data"
    );
}

#[test]
fn unknown_state_is_an_error_naming_it_and_the_known_states() {
    for switch in [false, true] {
        let err = TABLE.plan(&input(switch, "stage9_started")).unwrap_err();
        assert_eq!(
            err,
            PlanError::UnknownState {
                state: "stage9_started".into(),
                known: vec!["before", "moving", "done"]
            }
        );
        let text = err.to_string();
        assert!(
            text.contains("\"stage9_started\"") && text.contains("before, moving, done"),
            "{text}"
        );
    }
}

#[test]
fn state_match_is_exact() {
    assert!(TABLE.plan(&input(true, "Moving")).is_err());
    assert!(TABLE.plan(&input(true, " moving")).is_err());
    assert!(TABLE.plan(&input(true, "")).is_err());
}
