//! The nine states: the seed's five plus stage2_completed .. stage4_started before all_completed.

use render_plan::{ComponentSet, StateRow, StateTable, Transition, off, on};

const LEGACY: ComponentSet = ComponentSet {
    linstor: on("LINSTOR serves the volumes"),
    agent: off("the new control plane is off"),
    controller: off("the new control plane is off"),
    csi: on("CSI runs over LINSTOR"),
    migration_job: off("no migration requested"),
};

const PREPARE: ComponentSet = ComponentSet {
    linstor: on("prepare step: LINSTOR keeps running until the Job sets stage1_started"),
    agent: off("waits for Pass 1 to create its resources"),
    controller: off("waits for Pass 1 to create its resources"),
    csi: on("CSI keeps running over LINSTOR until the Job stops it"),
    migration_job: on("migration requested: the Job is created and starts stage 1"),
};

const STAGE1_STARTED: ComponentSet = ComponentSet {
    linstor: off("stopped so Pass 1 reads a LINSTOR database nobody changes"),
    csi: off("waits: no storage backend runs during Pass 1"),
    migration_job: on("runs Pass 1: creates RV, RVR, LLV, RVA, DRBDResource in maintenance"),
    ..PREPARE
};

/// From stage1_completed to stage4_started the new control plane runs, LINSTOR stays stopped,
/// CSI waits for the end and the Job drives the next stage; only the Job's task differs.
const fn migrating(job: &'static str) -> ComponentSet {
    ComponentSet {
        linstor: off("stopped: the new control plane has taken over"),
        agent: on("runs the migrated volumes"),
        controller: on("runs the migrated volumes"),
        csi: off("waits until the migration completes"),
        migration_job: on(job),
    }
}

const ALL_COMPLETED: ComponentSet = ComponentSet {
    linstor: off("stopped: the new control plane is active"),
    agent: on("the new control plane is active"),
    controller: on("the new control plane is active"),
    csi: on("CSI runs over the new control plane"),
    migration_job: off("migration finished (or fresh install): nothing to migrate"),
};

/// The nine states in order and the diagram's edges.
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
            components: migrating("waits for agent and controller to become ready"),
        },
        StateRow {
            state: "stage2_started",
            components: migrating("runs Pass 2: verifies consistency and lifts maintenance"),
        },
        StateRow {
            state: "stage2_completed",
            components: migrating("starts the LINSTOR backup"),
        },
        StateRow {
            state: "stage3_started",
            components: migrating("backs up the LINSTOR database, then removes LINSTOR"),
        },
        StateRow {
            state: "stage3_completed",
            components: migrating("starts the switch to automatic configuration"),
        },
        StateRow {
            state: "stage4_started",
            components: migrating("switches the volumes to automatic configuration"),
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
        to: "stage2_completed",
        trigger: "Job Pass 2 verification",
    },
    Transition {
        from: "stage2_completed",
        to: "stage3_started",
        trigger: "Job starts the LINSTOR backup",
    },
    Transition {
        from: "stage3_started",
        to: "stage3_completed",
        trigger: "LINSTOR database backed up and LINSTOR removed",
    },
    Transition {
        from: "stage3_completed",
        to: "stage4_started",
        trigger: "Job starts the switch to automatic configuration",
    },
    Transition {
        from: "stage4_started",
        to: "all_completed",
        trigger: "every volume in automatic configuration",
    },
    Transition {
        from: "all_completed",
        to: "[*]",
        trigger: "All components on new control plane",
    },
];

#[cfg(test)]
mod tests;
