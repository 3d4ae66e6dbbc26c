//! A three-state table for testing the generic logic without any real guest's table.

use crate::table::{ComponentSet, StateRow, StateTable, Transition, off, on};

pub const LEGACY: ComponentSet = ComponentSet {
    linstor: on("old backend"),
    agent: off("not yet"),
    controller: off("not yet"),
    csi: on("over LINSTOR"),
    migration_job: off("nothing to migrate"),
};

const MOVING: ComponentSet = ComponentSet {
    linstor: off("stopped"),
    agent: on("starting"),
    controller: on("starting"),
    csi: off("waits"),
    migration_job: on("moves data"),
};

const DONE: ComponentSet = ComponentSet {
    csi: on("over the new plane"),
    migration_job: off("done"),
    ..MOVING
};

pub const TABLE: StateTable = StateTable {
    states: &[
        StateRow {
            state: "before",
            components: ComponentSet {
                migration_job: on("starts"),
                ..LEGACY
            },
        },
        StateRow {
            state: "moving",
            components: MOVING,
        },
        StateRow {
            state: "done",
            components: DONE,
        },
    ],
    legacy: LEGACY,
    transitions: &[
        Transition {
            from: "[*]",
            to: "before",
            trigger: "install",
        },
        Transition {
            from: "before",
            to: "moving",
            trigger: "job starts",
        },
        Transition {
            from: "moving",
            to: "done",
            trigger: "job ends",
        },
        Transition {
            from: "done",
            to: "[*]",
            trigger: "finished",
        },
    ],
    values_path: "/internal/renderPlan",
    before_helm: 10,
};
