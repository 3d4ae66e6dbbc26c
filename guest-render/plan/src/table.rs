//! The data a render guest is made of: ordered states, each with its component decisions.

/// The module's components, in plan order. Their keys name the plan entries the chart reads
/// (`.Values.sdsReplicatedVolume.internal.renderPlan.<key>.rendered`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Component {
    /// LINSTOR: controller, node agents, affinity controller, scheduler extender.
    Linstor,
    /// The new control plane's node agent (DaemonSet `agent`).
    Agent,
    /// The new control plane's controller (Deployment `controller`).
    Controller,
    /// The CSI driver (controller, node plugin, CSIDriver object).
    Csi,
    /// The migration Job and its RBAC.
    MigrationJob,
}

impl Component {
    /// Every component, in the order plans list them.
    pub const ALL: [Component; 5] = [
        Component::Linstor,
        Component::Agent,
        Component::Controller,
        Component::Csi,
        Component::MigrationJob,
    ];

    /// The component's key in the plan and in the chart's values.
    pub fn key(self) -> &'static str {
        match self {
            Component::Linstor => "linstor",
            Component::Agent => "agent",
            Component::Controller => "controller",
            Component::Csi => "csi",
            Component::MigrationJob => "migrationJob",
        }
    }
}

/// One component's decision in one state, with the reason a person reads in the values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub rendered: bool,
    /// One line: why the component is (not) rendered in this state.
    pub why: &'static str,
}

/// A rendered component; `const` so tables stay plain statics.
pub const fn on(why: &'static str) -> Entry {
    Entry {
        rendered: true,
        why,
    }
}

/// A component left out of the render.
pub const fn off(why: &'static str) -> Entry {
    Entry {
        rendered: false,
        why,
    }
}

/// The decisions for all components in one situation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ComponentSet {
    pub linstor: Entry,
    pub agent: Entry,
    pub controller: Entry,
    pub csi: Entry,
    pub migration_job: Entry,
}

impl ComponentSet {
    /// The entry for one component.
    pub fn get(&self, component: Component) -> Entry {
        match component {
            Component::Linstor => self.linstor,
            Component::Agent => self.agent,
            Component::Controller => self.controller,
            Component::Csi => self.csi,
            Component::MigrationJob => self.migration_job,
        }
    }
}

/// One migration state (the value of `internal.controlPlaneMigration`) and what it renders
/// while `newControlPlane` is true.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateRow {
    pub state: &'static str,
    pub components: ComponentSet,
}

/// One documented edge of the state machine. `[*]` is the start (as `from`) or end (as `to`),
/// as in a Mermaid state diagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    pub from: &'static str,
    pub to: &'static str,
    pub trigger: &'static str,
}

/// Everything a render guest knows.
#[derive(Clone, Copy, Debug)]
pub struct StateTable {
    /// In migration order; the first is the state before migration, the last the finished one.
    pub states: &'static [StateRow],
    /// The plan while `newControlPlane` is false, whatever the state.
    pub legacy: ComponentSet,
    pub transitions: &'static [Transition],
    /// Where the host writes the plan, below the module's values key.
    pub values_path: &'static str,
    /// The beforeHelm order: after the state-sync hook has copied the state into values.
    pub before_helm: u32,
}

/// The marker for the start and end of the state machine in transitions.
pub const TERMINAL: &str = "[*]";

impl StateTable {
    /// The state names, in order.
    pub fn state_names(&self) -> Vec<&'static str> {
        self.states.iter().map(|row| row.state).collect()
    }

    /// The row of a state, if the table knows it.
    pub fn row(&self, state: &str) -> Option<&StateRow> {
        self.states.iter().find(|row| row.state == state)
    }

    /// The state in which the migration is finished (the last row).
    pub fn final_state(&self) -> Option<&'static str> {
        self.states.last().map(|row| row.state)
    }
}
