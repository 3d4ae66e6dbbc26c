//! The simulated system: the cluster, Deckhouse's values for the module, the last Helm
//! render, and the Job; and every action that changes them, each run through the real
//! guests.

use super::SimError;
use super::cluster::{CallFault, StoreBackend, apply_operation, merged};
use crate::bindings::StepResult;
use crate::deckhouse::job::Job;
use crate::deckhouse::run::{PreparedGuest, RunInputs, run_prepared};
use crate::error::HostError;
use crate::manifest::Guest;
use crate::protocol::binding_context::BindingContexts;
use crate::protocol::hook_config::KubeBinding;
use crate::runtime::guest::Runtime;
use kube_memstore::{Key, Store};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The module's namespace, where the chart's workloads and the ConfigMap live.
pub const NAMESPACE: &str = "d8-sds-replicated-volume";
/// The migration state ConfigMap.
pub const CONFIGMAP: &str = "control-plane-migration";
/// The chart's migration Job.
pub const JOB: &str = "control-plane-migrator";
/// The nodes DaemonSets run on.
const NODES: u64 = 3;

/// The workloads each render-plan component stands for in the chart (`templates/`).
pub const WORKLOADS: &[(&str, &[(&str, &str)])] = &[
    (
        "linstor",
        &[
            ("Deployment", "linstor-controller"),
            ("DaemonSet", "linstor-node"),
            ("Deployment", "linstor-affinity-controller"),
            ("Deployment", "linstor-scheduler-extender"),
        ],
    ),
    ("agent", &[("DaemonSet", "agent")]),
    ("controller", &[("Deployment", "controller")]),
    (
        "csi",
        &[("Deployment", "csi-controller"), ("DaemonSet", "csi-node")],
    ),
];

/// Which snapshots a module run's hooks get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Snapshots {
    /// The cluster as it is.
    Full,
    /// What the previous full run saw (a monitor lagging behind).
    Stale,
    /// Every binding delivers nothing (a monitor not synchronized, a filter dropping all).
    Empty,
    /// The ConfigMap's binding delivers nothing; the others are current.
    Partial,
}

/// What an administrator does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Admin {
    /// `newControlPlane: true` in the ModuleConfig.
    Enable,
    /// `newControlPlane: false`, through the admission policy (refused once the
    /// migration left not_started).
    Disable,
    /// `newControlPlane: false` with the policy bypassed (or not installed).
    DisableForced,
    /// The seed's recovery after a failed Job: delete it, reset the ConfigMap to not_started.
    RecoveryReset,
    /// `kubectl delete job`: Helm creates it again on the next module run if rendered.
    DeleteJob,
}

/// One thing that happens to the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "action")]
pub enum Action {
    /// A module run: beforeHelm hooks by order, then Helm applies the render plan.
    ModuleRun {
        snapshots: Snapshots,
    },
    /// The state-sync hook on a kubernetes event (or Synchronization) of its bindings.
    HookEvent,
    /// Kubelet and the controllers: rendered workloads become ready, the new controller
    /// reports adoption on ReplicatedVolumes.
    Controllers,
    /// One step of the Job, optionally with a fault at one of its API calls.
    JobStep {
        fault: Option<(u32, CallFault)>,
    },
    /// Deckhouse restarts: module values go back to their openapi defaults.
    Restart,
    Admin {
        admin: Admin,
    },
}

impl Action {
    /// Whether the action is a disturbance of the seed's path, counted against the
    /// fault budget of an exploration.
    pub fn is_fault(&self) -> bool {
        match self {
            Action::ModuleRun { snapshots } => *snapshots != Snapshots::Full,
            Action::HookEvent | Action::Controllers => false,
            Action::JobStep { fault } => fault.is_some(),
            Action::Restart => true,
            Action::Admin { admin } => *admin != Admin::Enable,
        }
    }

    /// Who acts, for the timeline.
    pub fn actor(&self) -> &'static str {
        match self {
            Action::ModuleRun { .. } | Action::HookEvent | Action::Restart => "deckhouse",
            Action::Controllers => "controllers",
            Action::JobStep { .. } => "job",
            Action::Admin { .. } => "admin",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Action::ModuleRun { snapshots } => format!("module run ({snapshots:?} snapshots)"),
            Action::HookEvent => "state-sync hook on a ConfigMap event".into(),
            Action::Controllers => "kubelet and controllers reconcile".into(),
            Action::JobStep { fault: None } => "Job step".into(),
            Action::JobStep {
                fault: Some((at, kind)),
            } => format!("Job step, {kind:?} at API call {at}"),
            Action::Restart => "Deckhouse restarts (values reset to openapi defaults)".into(),
            Action::Admin { admin } => match admin {
                Admin::Enable => "admin sets newControlPlane: true".into(),
                Admin::Disable => {
                    "admin sets newControlPlane: false (through the admission policy)".into()
                }
                Admin::DisableForced => {
                    "admin forces newControlPlane: false past the admission policy".into()
                }
                Admin::RecoveryReset => {
                    "admin: recovery (delete the Job, ConfigMap state to not_started)".into()
                }
                Admin::DeleteJob => "admin deletes the Job".into(),
            },
        }
    }
}

/// The Job as Kubernetes runs it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum JobPhase {
    #[default]
    Absent,
    Running,
    Succeeded,
    Failed,
}

/// What the last Helm run rendered, and from which inputs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    pub components: Vec<String>,
    pub new_control_plane: bool,
    pub state: String,
}

/// The whole simulated system.
#[derive(Clone, Debug)]
pub struct World {
    pub store: Store,
    /// All values as Deckhouse keeps them: `{"global":..,"sdsReplicatedVolume":..}`.
    pub values: Value,
    /// The module's openapi defaults, what a restart resets the values to.
    pub defaults: Value,
    pub new_control_plane: bool,
    pub job: JobPhase,
    pub applied: Applied,
    /// Per binding, what the last full module run saw (the `Stale` snapshots).
    pub last_seen: Option<BTreeMap<String, Vec<Value>>>,
    /// The ConfigMap state the hook last saw: an event is pending when it differs.
    pub hook_saw: Option<String>,
    /// Values as they were before a restart whose module run has not happened yet.
    pub before_restart: Option<Value>,
    /// LINSTOR was seen stopped after the migration left not_started (Pass 1 may read).
    pub linstor_stopped: bool,
    /// Faults used so far.
    pub faults: u32,
}

/// What one action did, for the timeline and the checks.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// One line per thing that happened.
    pub notes: Vec<String>,
    /// A module run's applied plan changed what runs.
    pub plan_changed: bool,
    /// A hook failed (the module run stopped before Helm).
    pub failed: bool,
}

/// One hook guest: its bindings and beforeHelm order, prepared once.
pub struct Hook<'r> {
    pub guest: &'r Guest,
    pub bindings: Vec<KubeBinding>,
    pub order: u32,
    pub prepared: PreparedGuest,
}

/// The guests the simulator runs, each loaded and linked once and instantiated per call.
pub struct Guests<'r> {
    pub runtime: &'r Runtime,
    /// By beforeHelm order.
    pub hooks: Vec<Hook<'r>>,
    pub render: (&'r Guest, PreparedGuest),
    pub job: Job<'r>,
    pub values_key: String,
}

impl World {
    /// A world of `store` and `values` with the switch on, no Job, nothing rendered or
    /// seen yet and no fault used: the start unit tests build on.
    #[cfg(test)]
    pub fn switched_on(store: Store, values: Value) -> Self {
        World {
            store,
            values,
            defaults: json!({}),
            new_control_plane: true,
            job: JobPhase::Absent,
            applied: Applied::default(),
            last_seen: None,
            hook_saw: None,
            before_restart: None,
            linstor_stopped: false,
            faults: 0,
        }
    }

    pub fn state(&self) -> Option<String> {
        let key = Key {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some(NAMESPACE.into()),
            name: CONFIGMAP.into(),
        };
        self.store.get(&key).ok().and_then(|cm| {
            cm.pointer("/data/state")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
    }

    pub fn internal(&self, key: &str) -> Option<String> {
        self.values
            .pointer(&format!("/{key}/internal/controlPlaneMigration"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Which chart workloads exist, by component.
    pub fn running(&self) -> Vec<&'static str> {
        WORKLOADS
            .iter()
            .filter(|(_, workloads)| {
                workloads
                    .iter()
                    .any(|(kind, name)| self.store.get(&workload_key(kind, name)).is_ok())
            })
            .map(|(component, _)| *component)
            .collect()
    }

    /// The actions possible now (a fault-free Job step is always listed first, so its
    /// call count can size the per-call faults).
    pub fn enabled(&self, budget: u32) -> Vec<Action> {
        let mut actions = Vec::new();
        let can_fault = self.faults < budget;
        if self.job == JobPhase::Running {
            actions.push(Action::JobStep { fault: None });
        }
        actions.push(Action::ModuleRun {
            snapshots: Snapshots::Full,
        });
        if self.hook_saw != self.state() {
            actions.push(Action::HookEvent);
        }
        actions.push(Action::Controllers);
        if !self.new_control_plane {
            actions.push(Action::Admin {
                admin: Admin::Enable,
            });
        }
        if can_fault {
            for snapshots in [Snapshots::Empty, Snapshots::Partial, Snapshots::Stale] {
                if snapshots != Snapshots::Stale || self.last_seen.is_some() {
                    actions.push(Action::ModuleRun { snapshots });
                }
            }
            actions.push(Action::Restart);
            if self.new_control_plane {
                actions.push(Action::Admin {
                    admin: Admin::Disable,
                });
                actions.push(Action::Admin {
                    admin: Admin::DisableForced,
                });
            }
            if self.job == JobPhase::Failed {
                actions.push(Action::Admin {
                    admin: Admin::RecoveryReset,
                });
            }
            if self.job != JobPhase::Absent {
                actions.push(Action::Admin {
                    admin: Admin::DeleteJob,
                });
            }
        }
        actions
    }

    /// Applies one action. `Err` is a simulator or guest-runtime failure, not a finding.
    pub fn apply(&mut self, guests: &Guests, action: Action) -> Result<(Outcome, u32), SimError> {
        if action.is_fault() {
            self.faults += 1;
        }
        let mut out = Outcome::default();
        let mut calls = 0;
        match action {
            Action::ModuleRun { snapshots } => self.module_run(guests, snapshots, &mut out)?,
            Action::HookEvent => {
                let seen = self.snapshots(guests, Snapshots::Full);
                self.run_hooks(guests, &seen, true, &mut out)?;
            }
            Action::Controllers => self.controllers(&mut out),
            Action::JobStep { fault } => calls = self.job_step(guests, fault, &mut out)?,
            Action::Restart => {
                if self.before_restart.is_none() {
                    self.before_restart = Some(self.values.clone());
                }
                let key = &guests.values_key;
                let mut module = self.defaults.clone();
                module["newControlPlane"] = json!(self.new_control_plane);
                self.values[key] = module;
                self.hook_saw = None;
                out.notes
                    .push("values reset to the openapi defaults".into());
            }
            Action::Admin { admin } => self.admin(guests, admin, &mut out),
        }
        self.track_linstor();
        Ok((out, calls))
    }

    fn admin(&mut self, guests: &Guests, admin: Admin, out: &mut Outcome) {
        let key = guests.values_key.clone();
        match admin {
            Admin::Enable => self.set_switch(&key, true),
            Admin::Disable => {
                let state = self.state();
                if state.as_deref().is_some_and(|s| s != "not_started") {
                    out.notes.push(format!(
                        "refused by the admission policy: the migration is in {}",
                        state.unwrap_or_default()
                    ));
                } else {
                    self.set_switch(&key, false);
                }
            }
            Admin::DisableForced => self.set_switch(&key, false),
            Admin::RecoveryReset => {
                self.delete_job();
                let cm = configmap_key();
                if self.store.get(&cm).is_ok() {
                    let _ = self
                        .store
                        .merge_patch(&cm, &json!({"data": {"state": "not_started"}}));
                }
                out.notes
                    .push("Job deleted, ConfigMap state set to not_started".into());
            }
            Admin::DeleteJob => self.delete_job(),
        }
    }

    fn set_switch(&mut self, key: &str, on: bool) {
        self.new_control_plane = on;
        // The switch lives in the ModuleConfig, which the Job's pre-flight reads.
        let _ = self.store.merge_patch(
            &module_config_key(),
            &json!({"spec": {"settings": {"newControlPlane": on}}}),
        );
        self.values[key]["newControlPlane"] = json!(on);
        if let Some(before) = &mut self.before_restart {
            before[key]["newControlPlane"] = json!(on);
        }
    }

    fn delete_job(&mut self) {
        let _ = self.store.delete(&job_key());
        self.job = JobPhase::Absent;
    }

    /// I4's memory: LINSTOR stopped while the state was past not_started.
    fn track_linstor(&mut self) {
        match self.state().as_deref() {
            None | Some("not_started") => self.linstor_stopped = false,
            Some(_) if !self.running().contains(&"linstor") => self.linstor_stopped = true,
            Some(_) => {}
        }
    }

    /// Each binding's objects, as the given snapshots deliver them.
    pub fn snapshots(&self, guests: &Guests, mode: Snapshots) -> BTreeMap<String, Vec<Value>> {
        let mut all = BTreeMap::new();
        for hook in &guests.hooks {
            for binding in &hook.bindings {
                let objects = match mode {
                    Snapshots::Empty => Vec::new(),
                    Snapshots::Partial if binding.kind == "ConfigMap" => Vec::new(),
                    Snapshots::Stale => self
                        .last_seen
                        .as_ref()
                        .and_then(|seen| seen.get(&binding.name).cloned())
                        .unwrap_or_default(),
                    _ => self
                        .store
                        .objects()
                        .filter(|o| selects(binding, o))
                        .cloned()
                        .collect(),
                };
                all.insert(binding.name.clone(), objects);
            }
        }
        all
    }

    fn module_run(
        &mut self,
        guests: &Guests,
        mode: Snapshots,
        out: &mut Outcome,
    ) -> Result<(), SimError> {
        let seen = self.snapshots(guests, mode);
        if !self.run_hooks(guests, &seen, false, out)? {
            return Ok(());
        }
        if mode == Snapshots::Full {
            self.last_seen = Some(seen);
        }
        let plan = self.render(guests, out)?;
        self.helm(guests, &plan, out);
        self.before_restart = None;
        Ok(())
    }

    /// Runs the hooks in beforeHelm order (or only on their event); false when one failed.
    fn run_hooks(
        &mut self,
        guests: &Guests,
        seen: &BTreeMap<String, Vec<Value>>,
        event: bool,
        out: &mut Outcome,
    ) -> Result<bool, SimError> {
        for hook in &guests.hooks {
            let (guest, bindings) = (hook.guest, &hook.bindings);
            let snapshots: serde_json::Map<String, Value> = bindings
                .iter()
                .map(|b| {
                    let items: Vec<Value> = seen
                        .get(&b.name)
                        .into_iter()
                        .flatten()
                        .map(|o| json!({"object": o}))
                        .collect();
                    (b.name.clone(), Value::Array(items))
                })
                .collect();
            let context = if event {
                let binding = bindings.first().map(|b| b.name.clone()).unwrap_or_default();
                json!([{"binding": binding, "type": "Group", "groupName": "main", "snapshots": snapshots}])
            } else {
                json!([{"binding": "beforeHelm", "snapshots": snapshots}])
            };
            let inputs = RunInputs {
                binding_context: BindingContexts::parse(&context.to_string())
                    .map_err(SimError::Model)?,
                values: self.values.clone(),
                config_values: json!({}),
            };
            match run_prepared(guests.runtime, guest, &hook.prepared, &inputs) {
                Ok(output) => {
                    let before = self.internal(&guests.values_key);
                    apply_values_patch(&mut self.values, &output.values_patch)
                        .map_err(|e| SimError::Model(format!("{}: {e}", guest.name)))?;
                    for op in &output.object_operations {
                        apply_operation(&mut self.store, op)
                            .map_err(|e| SimError::Model(format!("{}: {e}", guest.name)))?;
                    }
                    let after = self.internal(&guests.values_key);
                    if before != after {
                        out.notes.push(format!(
                            "{}: internal {} -> {}",
                            guest.name,
                            before.as_deref().unwrap_or("(absent)"),
                            after.as_deref().unwrap_or("(absent)")
                        ));
                    }
                    if !output.object_operations.is_empty() {
                        out.notes.push(format!(
                            "{}: {} object operation(s) applied",
                            guest.name,
                            output.object_operations.len()
                        ));
                    }
                }
                Err(HostError::GuestFailed { message, .. }) => {
                    out.failed = true;
                    out.notes.push(format!(
                        "{} failed, the module run stops before Helm: {}",
                        guest.name,
                        first_sentence(&message)
                    ));
                    return Ok(false);
                }
                Err(e) => return Err(SimError::Host(e)),
            }
        }
        self.hook_saw = if matches!(seen.get("control-plane-migration"), Some(v) if !v.is_empty()) {
            self.state()
        } else {
            self.hook_saw.clone()
        };
        Ok(true)
    }

    /// The render hook: writes `internal.renderPlan`, returns the rendered components.
    fn render(&mut self, guests: &Guests, out: &mut Outcome) -> Result<Vec<String>, SimError> {
        let inputs = RunInputs {
            binding_context: BindingContexts::default(),
            values: self.values.clone(),
            config_values: json!({}),
        };
        let (render, prepared) = &guests.render;
        let output = match run_prepared(guests.runtime, render, prepared, &inputs) {
            Ok(output) => output,
            Err(HostError::GuestFailed { message, .. }) => {
                out.failed = true;
                out.notes
                    .push(format!("render plan failed: {}", first_sentence(&message)));
                return Ok(self.applied.components.clone());
            }
            Err(e) => return Err(SimError::Host(e)),
        };
        apply_values_patch(&mut self.values, &output.values_patch).map_err(SimError::Model)?;
        let plan = self
            .values
            .pointer(&format!("/{}/internal/renderPlan", guests.values_key))
            .and_then(Value::as_object)
            .ok_or_else(|| {
                SimError::Model("the render hook wrote no internal.renderPlan".into())
            })?;
        Ok(plan
            .iter()
            .filter(|(_, d)| d["rendered"].as_bool() == Some(true))
            .map(|(c, _)| c.clone())
            .collect())
    }

    /// Helm: the namespace and every rendered workload exist, the others are deleted.
    fn helm(&mut self, guests: &Guests, plan: &[String], out: &mut Outcome) {
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": NAMESPACE}, "status": {"phase": "Active"}});
        if self.store.create(namespace).is_ok() {
            out.notes
                .push(format!("helm created namespace {NAMESPACE}"));
        }
        let before = self.running();
        for (component, workloads) in WORKLOADS {
            let rendered = plan.iter().any(|c| c == component);
            for (kind, name) in *workloads {
                let key = workload_key(kind, name);
                if rendered && self.store.get(&key).is_err() {
                    let _ = self.store.create(workload(kind, name));
                } else if !rendered {
                    let _ = self.store.delete(&key);
                }
            }
        }
        let job_rendered = plan.iter().any(|c| c == "migrationJob");
        if job_rendered && self.store.get(&job_key()).is_err() {
            let job = json!({"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": JOB, "namespace": NAMESPACE}, "spec": {}});
            let _ = self.store.create(job);
            self.job = JobPhase::Running;
            out.notes.push("helm created the Job".into());
        } else if !job_rendered && self.job != JobPhase::Absent {
            self.delete_job();
            out.notes.push("helm deleted the Job".into());
        }
        let after = self.running();
        if before != after {
            out.plan_changed = true;
            out.notes.push(format!(
                "helm: running {} -> {}",
                list(&before),
                list(&after)
            ));
        }
        self.applied = Applied {
            components: plan.to_vec(),
            new_control_plane: self.new_control_plane,
            state: self.internal(&guests.values_key).unwrap_or_default(),
        };
    }

    /// Kubelet, the root CA publisher, and the new controller's adoption status.
    fn controllers(&mut self, out: &mut Outcome) {
        let ca = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kube-root-ca.crt", "namespace": NAMESPACE}, "data": {}});
        let ns = Key {
            api_version: "v1".into(),
            kind: "Namespace".into(),
            namespace: None,
            name: NAMESPACE.into(),
        };
        if self.store.get(&ns).is_ok() && self.store.create(ca).is_ok() {
            out.notes.push("kube-root-ca.crt published".into());
        }
        for (_, workloads) in WORKLOADS {
            for (kind, name) in *workloads {
                let key = workload_key(kind, name);
                let Ok(object) = self.store.get(&key) else {
                    continue;
                };
                let ready = ready_status(kind);
                if object["status"] != ready {
                    let _ = self.store.merge_patch(&key, &json!({"status": ready}));
                    out.notes.push(format!("{kind} {name} ready"));
                }
            }
        }
        if self.controller_ready() {
            self.adoption(out);
        }
    }

    fn controller_ready(&self) -> bool {
        self.store
            .get(&workload_key("Deployment", "controller"))
            .is_ok_and(|d| d["status"]["readyReplicas"].as_u64() > Some(0))
    }

    /// The new controller's Formation/adopt/v1 transition on each ReplicatedVolume, as
    /// the real one reports it (migrator-parity §5): steps Completed, Completed, Active
    /// while a replica's DRBDResource is in maintenance; removed once none is.
    fn adoption(&mut self, out: &mut Outcome) {
        let rvs = self
            .store
            .list(
                "storage.deckhouse.io/v1alpha1",
                "ReplicatedVolume",
                None,
                None,
            )
            .unwrap_or_default();
        let drbd = self
            .store
            .list("storage.deckhouse.io/v1alpha1", "DRBDResource", None, None)
            .unwrap_or_default();
        for rv in rvs {
            let name = rv["metadata"]["name"].as_str().unwrap_or_default();
            // The rvr-controller labels each DRBDResource with its volume (the Job's Pass 2
            // finds them by that label, as the real migrator does).
            for d in drbd
                .iter()
                .filter(|d| d["spec"]["actualNameOnTheNode"] == name)
            {
                let labelled = d
                    .pointer(
                        "/metadata/labels/sds-replicated-volume.deckhouse.io~1replicated-volume",
                    )
                    .is_some();
                if let (false, Ok(key)) = (labelled, Key::of(d)) {
                    let label = json!({"metadata": {"labels": {"sds-replicated-volume.deckhouse.io/replicated-volume": name}}});
                    let _ = self.store.merge_patch(&key, &label);
                }
            }
            let in_maintenance = drbd.iter().any(|d| {
                d.pointer("/metadata/labels/sds-replicated-volume.deckhouse.io~1replicated-volume")
                    .and_then(Value::as_str)
                    .is_none_or(|owner| owner == name)
                    && d["spec"]["maintenance"]
                        .as_str()
                        .is_some_and(|m| !m.is_empty())
                    && d["metadata"]["name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with(name))
            });
            let wanted = if in_maintenance {
                json!([{"type": "Formation", "planID": "adopt/v1", "steps": [
                    {"name": "Verify prerequisites", "status": "Completed"},
                    {"name": "Populate and verify datamesh", "status": "Completed"},
                    {"name": "Exit maintenance", "status": "Active"}]}])
            } else {
                json!([])
            };
            let current = rv
                .pointer("/status/datameshTransitions")
                .cloned()
                .unwrap_or_else(|| json!([]));
            if current != wanted {
                let patched = merged(&rv, &json!({"status": {"datameshTransitions": wanted}}));
                if let Ok(key) = Key::of(&patched) {
                    let _ = self
                        .store
                        .merge_patch(&key, &json!({"status": patched["status"].clone()}));
                }
                out.notes.push(format!(
                    "controller: ReplicatedVolume {name} adoption {}",
                    if in_maintenance {
                        "in progress (Completed, Completed, Active)"
                    } else {
                        "done"
                    }
                ));
            }
        }
    }

    /// One Job step on the shared store; returns how many API calls it made.
    fn job_step(
        &mut self,
        guests: &Guests,
        fault: Option<(u32, CallFault)>,
        out: &mut Outcome,
    ) -> Result<u32, SimError> {
        let before = self.store.calls();
        let shared = Arc::new(Mutex::new(std::mem::take(&mut self.store)));
        let backend = StoreBackend::new(shared.clone(), fault);
        // The backend comes back with the step's result: drop it so the store is ours again.
        let result = guests.job.step(Box::new(backend)).map(|(step, _)| step);
        let killed = matches!(fault, Some((_, CallFault::Kill)));
        let note = match result {
            // A killed pod's step is void whatever it returned; the Job's controller
            // starts a new pod, which continues from the cluster's state.
            Ok(_) | Err(HostError::GuestFailed { .. }) if killed => {
                "Job pod killed; Kubernetes starts a new one".to_owned()
            }
            Ok(StepResult::Done(summary)) => {
                self.job = JobPhase::Succeeded;
                format!("Job done: {}", first_sentence(&summary))
            }
            Ok(StepResult::Wait((_, why))) => format!("Job waits: {}", first_sentence(&why)),
            Err(HostError::GuestFailed { message, .. }) => {
                self.job = JobPhase::Failed;
                format!("Job failed: {}", first_sentence(&message))
            }
            Err(e) => return Err(SimError::Host(e)),
        };
        let store = Arc::try_unwrap(shared)
            .map_err(|_| SimError::Model("the Job kept the cluster".into()))?
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        let calls = u32::try_from(store.calls().saturating_sub(before)).unwrap_or(u32::MAX);
        self.store = store;
        out.notes.push(note);
        Ok(calls)
    }
}

/// Whether a binding selects an object: kind, names, namespaces, matchLabels.
pub fn selects(binding: &KubeBinding, object: &Value) -> bool {
    let text = |p: &str| object.pointer(p).and_then(Value::as_str);
    if text("/apiVersion") != Some(binding.api_version.as_str())
        || text("/kind") != Some(binding.kind.as_str())
    {
        return false;
    }
    let name = text("/metadata/name").unwrap_or_default();
    if !binding.name_selector.is_empty() && !binding.name_selector.iter().any(|n| n == name) {
        return false;
    }
    if let Some(ns) = &binding.namespace {
        let namespace = text("/metadata/namespace").unwrap_or_default();
        if !ns.match_names.is_empty() && !ns.match_names.iter().any(|n| n == namespace) {
            return false;
        }
    }
    binding.label_selector.as_ref().is_none_or(|sel| {
        sel.match_labels
            .iter()
            .all(|(k, v)| object["metadata"]["labels"][k].as_str() == Some(v.as_str()))
    })
}

/// Applies a values patch strictly, as Deckhouse does: `add` under a missing parent and
/// `remove` of a missing path fail.
pub fn apply_values_patch(values: &mut Value, ops: &[Value]) -> Result<(), String> {
    let patch: json_patch::Patch = serde_json::from_value(Value::Array(ops.to_vec()))
        .map_err(|e| format!("values patch is not RFC 6902: {e}"))?;
    json_patch::patch(values, &patch).map_err(|e| format!("values patch does not apply: {e}"))
}

fn configmap_key() -> Key {
    Key {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: Some(NAMESPACE.into()),
        name: CONFIGMAP.into(),
    }
}

/// The module's ModuleConfig, where an administrator sets `newControlPlane`.
pub fn module_config_key() -> Key {
    Key {
        api_version: "deckhouse.io/v1alpha1".into(),
        kind: "ModuleConfig".into(),
        namespace: None,
        name: "sds-replicated-volume".into(),
    }
}

/// The ModuleConfig as Deckhouse keeps it, with the switch as given.
pub fn module_config(new_control_plane: bool) -> Value {
    json!({"apiVersion": "deckhouse.io/v1alpha1", "kind": "ModuleConfig",
           "metadata": {"name": "sds-replicated-volume"},
           "spec": {"enabled": true, "version": 1, "settings": {"newControlPlane": new_control_plane}}})
}

/// The new control plane's CRD the Job's pre-flight looks for: the module's chart
/// installs its CRDs whatever the switch, so the simulated cluster always has it.
pub fn new_control_plane_crd() -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "replicatedvolumes.storage.deckhouse.io"},
           "spec": {"group": "storage.deckhouse.io", "scope": "Cluster",
                    "names": {"kind": "ReplicatedVolume", "plural": "replicatedvolumes"}}})
}

fn job_key() -> Key {
    Key {
        api_version: "batch/v1".into(),
        kind: "Job".into(),
        namespace: Some(NAMESPACE.into()),
        name: JOB.into(),
    }
}

pub fn workload_key(kind: &str, name: &str) -> Key {
    Key {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        namespace: Some(NAMESPACE.into()),
        name: name.into(),
    }
}

/// A workload as Helm creates it: not ready yet.
fn workload(kind: &str, name: &str) -> Value {
    let status = if kind == "DaemonSet" {
        json!({"desiredNumberScheduled": NODES, "numberReady": 0})
    } else {
        json!({"readyReplicas": 0})
    };
    json!({"apiVersion": "apps/v1", "kind": kind,
        "metadata": {"name": name, "namespace": NAMESPACE}, "spec": {}, "status": status})
}

fn ready_status(kind: &str) -> Value {
    if kind == "DaemonSet" {
        json!({"desiredNumberScheduled": NODES, "numberReady": NODES})
    } else {
        json!({"readyReplicas": 1})
    }
}

fn list(items: &[&str]) -> String {
    if items.is_empty() {
        "nothing".into()
    } else {
        items.join("+")
    }
}

/// The first sentence of a long guest message, for one timeline line.
pub fn first_sentence(text: &str) -> String {
    let cut = text.find("; ").unwrap_or(text.len()).min(160);
    text.get(..cut).unwrap_or(text).to_owned()
}
