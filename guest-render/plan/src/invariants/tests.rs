//! Each check is fed a plan or table that breaks it, so none of them can pass vacuously.

use crate::invariants::{check_all_plans, check_plan, check_table};
use crate::plan::PlanInput;
use crate::table::{Component, StateRow, StateTable, Transition, on};
use crate::test_table::{LEGACY, TABLE};

fn input(new_control_plane: bool, state: &str) -> PlanInput {
    PlanInput {
        new_control_plane,
        state: state.to_owned(),
    }
}

/// The table's plan for `state` with one component forced on.
fn forced(state: &str, new_control_plane: bool, component: Component) -> Result<(), String> {
    let input = input(new_control_plane, state);
    let mut plan = TABLE.plan(&input).expect("known state");
    plan.iter_mut()
        .filter(|d| d.component == component)
        .for_each(|d| d.rendered = true);
    check_plan(&TABLE, &input, &plan)
}

#[test]
fn the_test_table_passes() {
    check_table(&TABLE).expect("valid table");
    check_all_plans(&TABLE).expect("valid plans");
}

#[test]
fn linstor_with_the_new_control_plane_fails() {
    let err = forced("moving", true, Component::Linstor).unwrap_err();
    assert!(err.contains("LINSTOR rendered together"), "{err}");
    assert!(forced("before", true, Component::Agent).is_err());
    assert!(forced("before", false, Component::Controller).is_err());
}

#[test]
fn csi_without_its_backend_fails() {
    let err = forced("moving", true, Component::Csi).unwrap_err();
    assert!(err.contains("CSI rendered without its backend"), "{err}");
}

#[test]
fn new_control_plane_backs_csi_only_once_finished() {
    let input = input(false, "moving");
    let mut plan = TABLE.plan(&input).expect("known state");
    for d in &mut plan {
        d.rendered = matches!(
            d.component,
            Component::Agent | Component::Controller | Component::Csi
        );
    }
    let err = check_plan(&TABLE, &input, &plan).unwrap_err();
    assert!(err.contains("CSI rendered without its backend"), "{err}");
}

#[test]
fn linstor_after_the_first_state_fails_whatever_the_switch() {
    for switch in [false, true] {
        let input = input(switch, "moving");
        let mut plan = TABLE.plan(&input).expect("known state");
        for d in &mut plan {
            d.rendered = matches!(d.component, Component::Linstor | Component::Csi);
        }
        let err = check_plan(&TABLE, &input, &plan).unwrap_err();
        assert!(err.contains("only the first state may run it"), "{err}");
    }
}

#[test]
fn job_outside_its_window_fails() {
    let err = forced("done", true, Component::MigrationJob).unwrap_err();
    assert!(err.contains("migration Job rendered"), "{err}");
    assert!(forced("before", false, Component::MigrationJob).is_err());
}

#[test]
fn plan_shape_is_checked() {
    let input = input(true, "moving");
    let mut plan = TABLE.plan(&input).expect("known state");
    plan.swap(0, 1);
    assert!(
        check_plan(&TABLE, &input, &plan)
            .unwrap_err()
            .contains("plan lists")
    );
    plan.swap(0, 1);
    plan[2].reason = "two\nlines".into();
    assert!(
        check_plan(&TABLE, &input, &plan)
            .unwrap_err()
            .contains("one-line reason")
    );
    plan.pop();
    assert!(check_plan(&TABLE, &input, &plan).is_err());
}

#[test]
fn broken_tables_fail() {
    const DUP: &[StateRow] = &[TABLE.states[0], TABLE.states[0]];
    assert!(
        check_table(&StateTable {
            states: DUP,
            ..TABLE
        })
        .unwrap_err()
        .contains("duplicate")
    );
    assert!(
        check_table(&StateTable {
            states: &[],
            ..TABLE
        })
        .is_err()
    );
    let unknown: &[Transition] = &[Transition {
        from: "before",
        to: "nowhere",
        trigger: "x",
    }];
    let err = check_table(&StateTable {
        transitions: unknown,
        ..TABLE
    })
    .unwrap_err();
    assert!(err.contains("unknown state \"nowhere\""), "{err}");
    let all: &'static [Transition] = TABLE.transitions;
    let err = check_table(&StateTable {
        transitions: &all[..2],
        ..TABLE
    })
    .unwrap_err();
    assert!(
        err.contains("no transition leads to state \"done\""),
        "{err}"
    );
    let silent: &[Transition] = &[Transition {
        from: "[*]",
        to: "before",
        trigger: " ",
    }];
    assert!(
        check_table(&StateTable {
            transitions: silent,
            ..TABLE
        })
        .unwrap_err()
        .contains("no trigger")
    );
    assert!(
        check_table(&StateTable {
            values_path: "internal",
            ..TABLE
        })
        .is_err()
    );
}

#[test]
fn a_table_breaking_a_rule_fails_the_sweep() {
    let rows: &[StateRow] = &[StateRow {
        state: "before",
        components: LEGACY,
    }];
    let bad_legacy = crate::table::ComponentSet {
        agent: on("too early"),
        ..LEGACY
    };
    let table = StateTable {
        states: rows,
        legacy: bad_legacy,
        ..TABLE
    };
    let err = check_all_plans(&table).unwrap_err();
    assert!(
        err.starts_with("newControlPlane=false, before: LINSTOR"),
        "{err}"
    );
}
