//! The seed's summary table and state diagram, as data.

use render_plan::{ComponentSet, StateRow, StateTable, Transition, off, on};

/// While `newControlPlane` is false: LINSTOR and its CSI, as before the migration existed.
const LEGACY: ComponentSet = ComponentSet {
    linstor: on("LINSTOR serves the volumes"),
    agent: off("the new control plane is off"),
    controller: off("the new control plane is off"),
    csi: on("CSI runs over LINSTOR"),
    migration_job: off("no migration requested"),
};

/// The prepare step: the switch is on, the Job is created, LINSTOR still serves the volumes.
const PREPARE: ComponentSet = ComponentSet {
    linstor: on("prepare step: LINSTOR keeps running until the Job sets stage1_started"),
    agent: off("waits for Pass 1 to create its resources"),
    controller: off("waits for Pass 1 to create its resources"),
    csi: on("CSI keeps running over LINSTOR until the Job stops it"),
    migration_job: on("migration requested: the Job is created and starts stage 1"),
};

const STAGE1_STARTED: ComponentSet = ComponentSet {
    linstor: off("stopped so Pass 1 reads a LINSTOR database nobody changes"),
    agent: off("waits for Pass 1 to create its resources"),
    controller: off("waits for Pass 1 to create its resources"),
    csi: off("waits: no storage backend runs during Pass 1"),
    migration_job: on("runs Pass 1: creates RV, RVR, LLV, RVA, DRBDResource in maintenance"),
};

const STAGE1_COMPLETED: ComponentSet = ComponentSet {
    linstor: off("stopped: the new control plane takes over"),
    agent: on("starts on the resources Pass 1 created"),
    controller: on("starts on the resources Pass 1 created"),
    csi: off("waits until the migration completes"),
    migration_job: on("waits for agent and controller to become ready"),
};

const STAGE2_STARTED: ComponentSet = ComponentSet {
    migration_job: on("runs Pass 2: verifies consistency and lifts maintenance"),
    agent: on("runs the migrated volumes"),
    controller: on("runs the migrated volumes"),
    ..STAGE1_COMPLETED
};

const ALL_COMPLETED: ComponentSet = ComponentSet {
    linstor: off("stopped: the new control plane is active"),
    agent: on("the new control plane is active"),
    controller: on("the new control plane is active"),
    csi: on("CSI runs over the new control plane"),
    migration_job: off("migration finished (or fresh install): nothing to migrate"),
};

/// The seed's states in order, its diagram's edges, and where the plan goes.
pub const TABLE: StateTable = StateTable {
    states: &[
        StateRow {
            state: "not_started",
            components: PREPARE,
        },
        StateRow {
            state: "stage1_started",
            components: STAGE1_STARTED,
        },
        StateRow {
            state: "stage1_completed",
            components: STAGE1_COMPLETED,
        },
        StateRow {
            state: "stage2_started",
            components: STAGE2_STARTED,
        },
        StateRow {
            state: "all_completed",
            components: ALL_COMPLETED,
        },
    ],
    legacy: LEGACY,
    transitions: TRANSITIONS,
    values_path: "/internal/renderPlan",
    before_helm: 10,
};

const TRANSITIONS: &[Transition] = &[
    Transition {
        from: "[*]",
        to: "not_started",
        trigger: "initial state, newControlPlane=false",
    },
    Transition {
        from: "[*]",
        to: "all_completed",
        trigger: "newControlPlane=true and ConfigMap state all_completed (fresh install)",
    },
    Transition {
        from: "not_started",
        to: "stage1_started",
        trigger: "newControlPlane=true and ConfigMap state not_started (prepare step, the Job starts while LINSTOR runs)",
    },
    Transition {
        from: "stage1_started",
        to: "stage1_completed",
        trigger: "Job Pass 1 resource creation",
    },
    Transition {
        from: "stage1_completed",
        to: "stage2_started",
        trigger: "Agent & Controller ready",
    },
    Transition {
        from: "stage2_started",
        to: "all_completed",
        trigger: "Job Pass 2 verification & activation",
    },
    Transition {
        from: "all_completed",
        to: "[*]",
        trigger: "All components on new control plane",
    },
];

#[cfg(test)]
mod tests;
