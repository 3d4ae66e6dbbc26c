//! Scenario files: the initial cluster, the module's values, and the steps to run
//! (admin actions, faults at chosen points, and `settle` to let the system run).

use super::SimError;
use super::cluster::CallFault;
use super::invariants::{self, States};
use super::timeline::Line;
use super::world::{Action, Admin, Guests, JobPhase, Snapshots, World, workload_key};
use kube_memstore::Store;
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A scenario as written in YAML (paths are relative to the scenario file).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    pub description: String,
    /// Multi-document YAML files whose objects make the initial cluster.
    #[serde(default)]
    pub cluster: Vec<PathBuf>,
    /// The module's openapi `values.yaml`: its defaults are the initial values and what a
    /// Deckhouse restart resets them to.
    pub openapi: PathBuf,
    /// `newControlPlane` in the ModuleConfig at the start.
    #[serde(default)]
    pub new_control_plane: bool,
    /// `internal.controlPlaneMigration` at the start (default: the openapi default).
    pub internal: Option<String>,
    /// Render-plan components running (ready) at the start.
    #[serde(default)]
    pub running: Vec<String>,
    /// What happens, in order (`- moduleRun: empty`, `- restart`, `- settle: 40`).
    #[serde(with = "serde_yaml::with::singleton_map_recursive")]
    pub steps: Vec<Step>,
    /// What must hold at the end.
    #[serde(default)]
    pub expect: Expect,
}

/// One step of a scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Step {
    /// A module run with the given snapshots (`full`, `stale`, `empty`, `partial`).
    ModuleRun(Snapshots),
    HookEvent,
    Controllers,
    /// A Job step; `{fault: kill|unavailable|invalid, at: N}` injects a fault at call N.
    JobStep(#[serde(default)] JobStepSpec),
    Restart,
    Admin(Admin),
    /// Let Deckhouse, the controllers and the Job run until nothing changes (at most N actions).
    Settle(u32),
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobStepSpec {
    pub fault: Option<CallFault>,
    #[serde(default)]
    pub at: u32,
}

/// The end state a scenario expects; a mismatch fails `simulate`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expect {
    /// The ConfigMap's final state.
    pub state: Option<String>,
    /// The render-plan components running at the end.
    pub running: Option<Vec<String>>,
}

impl Scenario {
    pub fn load(path: &Path) -> Result<(Self, PathBuf), SimError> {
        let bad = |message: String| SimError::Scenario {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read: {e}")))?;
        let scenario: Scenario = serde_yaml::from_str(&text)
            .map_err(|e| bad(format!("{e}; see tests/scenarios/README.md for the format")))?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        Ok((scenario, dir))
    }

    /// The initial world.
    pub fn world(&self, dir: &Path, key: &str) -> Result<World, SimError> {
        let bad = |path: &Path, message: String| SimError::Scenario {
            path: path.to_path_buf(),
            message,
        };
        let mut store = Store::new();
        for object in base_cluster() {
            store
                .create(object)
                .map_err(|e| SimError::Model(e.to_string()))?;
        }
        for file in &self.cluster {
            let path = dir.join(file);
            for object in yaml_documents(&path).map_err(|e| bad(&path, e))? {
                store
                    .create(object)
                    .map_err(|e| bad(&path, format!("cannot load an object: {e}")))?;
            }
        }
        for object in [
            super::world::module_config(self.new_control_plane),
            super::world::new_control_plane_crd(),
        ] {
            // A scenario may bring its own; the one in the scenario's files wins.
            let _ = store.create(object);
        }
        let openapi = dir.join(&self.openapi);
        let schema: Value = yaml_documents(&openapi)
            .map_err(|e| bad(&openapi, e))?
            .into_iter()
            .next()
            .ok_or_else(|| bad(&openapi, "empty openapi file".into()))?;
        let defaults = defaults(&schema).unwrap_or_else(|| json!({}));
        let mut module = defaults.clone();
        module["newControlPlane"] = json!(self.new_control_plane);
        if let Some(state) = &self.internal {
            module["internal"]["controlPlaneMigration"] = json!(state);
        }
        let mut world = World {
            store,
            values: json!({"global": {}, key: module}),
            defaults,
            new_control_plane: self.new_control_plane,
            job: JobPhase::Absent,
            applied: Default::default(),
            last_seen: None,
            hook_saw: None,
            before_restart: None,
            linstor_stopped: false,
            faults: 0,
        };
        for component in &self.running {
            let Some((_, workloads)) = super::world::WORKLOADS.iter().find(|(c, _)| c == component)
            else {
                return Err(bad(
                    dir,
                    format!(
                        "running: unknown component {component:?} (linstor, agent, controller, csi)"
                    ),
                ));
            };
            for (kind, name) in *workloads {
                let ready = if *kind == "DaemonSet" {
                    json!({"desiredNumberScheduled": 3, "numberReady": 3})
                } else {
                    json!({"readyReplicas": 1})
                };
                let key = workload_key(kind, name);
                let _ = world.store.create(json!({"apiVersion": "apps/v1", "kind": kind,
                    "metadata": {"name": key.name, "namespace": key.namespace}, "spec": {}, "status": ready}));
            }
            world.applied.components.push(component.clone());
        }
        world.applied.new_control_plane = self.new_control_plane;
        world.applied.state = world.internal(key).unwrap_or_default();
        Ok(world)
    }
}

/// What every cluster the module runs in has: kube-system, and Deckhouse's ModuleConfig CRD.
fn base_cluster() -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"},
               "status": {"phase": "Active"}}),
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "moduleconfigs.deckhouse.io"},
               "spec": {"group": "deckhouse.io", "names": {"kind": "ModuleConfig", "plural": "moduleconfigs"}, "scope": "Cluster"}}),
    ]
}

/// The `default`s of an openapi schema, as a values document.
pub fn defaults(schema: &Value) -> Option<Value> {
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        let mut out = serde_json::Map::new();
        for (name, sub) in properties {
            if let Some(value) = defaults(sub) {
                out.insert(name.clone(), value);
            }
        }
        let base = schema.get("default").cloned();
        return match base {
            Some(Value::Object(mut b)) => {
                b.extend(out);
                Some(Value::Object(b))
            }
            Some(other) if out.is_empty() => Some(other),
            _ if out.is_empty() => None,
            _ => Some(Value::Object(out)),
        };
    }
    schema.get("default").cloned()
}

/// Every non-empty document of a multi-document YAML file, as JSON.
pub fn yaml_documents(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut out = Vec::new();
    for document in serde_yaml::Deserializer::from_str(&text) {
        let yaml = serde_yaml::Value::deserialize(document).map_err(|e| e.to_string())?;
        let json = serde_json::to_value(yaml).map_err(|e| format!("not JSON-compatible: {e}"))?;
        if !json.is_null() {
            out.push(json);
        }
    }
    Ok(out)
}

/// A run of a scenario: its timeline, and whether it held.
pub struct Run {
    pub lines: Vec<Line>,
    pub problems: Vec<String>,
}

/// Runs the scenario's steps, checking the invariants after every action.
pub fn run(
    scenario: &Scenario,
    mut world: World,
    guests: &Guests,
    states: &States,
) -> Result<Run, SimError> {
    let key = guests.values_key.clone();
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    for step in &scenario.steps {
        let actions: Vec<Action> = match step {
            Step::Settle(max) => {
                settle(&mut world, guests, states, *max, &mut lines, &mut problems)?;
                continue;
            }
            Step::ModuleRun(snapshots) => vec![Action::ModuleRun {
                snapshots: *snapshots,
            }],
            Step::HookEvent => vec![Action::HookEvent],
            Step::Controllers => vec![Action::Controllers],
            Step::JobStep(spec) => vec![Action::JobStep {
                fault: spec.fault.map(|f| (spec.at, f)),
            }],
            Step::Restart => vec![Action::Restart],
            Step::Admin(admin) => vec![Action::Admin { admin: *admin }],
        };
        for action in actions {
            act(
                &mut world,
                guests,
                states,
                action,
                &mut lines,
                &mut problems,
            )?;
        }
    }
    let state = world.state();
    if let Some(want) = &scenario.expect.state
        && state.as_ref() != Some(want)
    {
        problems.push(format!(
            "expected the ConfigMap to end in {want}, it ends in {}",
            state.as_deref().unwrap_or("(none)")
        ));
    }
    if let Some(want) = &scenario.expect.running {
        let running: Vec<String> = world.running().iter().map(|s| (*s).to_owned()).collect();
        if &running != want {
            problems.push(format!(
                "expected {want:?} running at the end, got {running:?}"
            ));
        }
    }
    let _ = key;
    Ok(Run { lines, problems })
}

/// One action, its line, and its checks (I8 included).
pub fn act(
    world: &mut World,
    guests: &Guests,
    states: &States,
    action: Action,
    lines: &mut Vec<Line>,
    problems: &mut Vec<String>,
) -> Result<(), SimError> {
    let before = world.clone();
    let (outcome, _) = world.apply(guests, action)?;
    let mut violations = invariants::check(
        states,
        &guests.values_key,
        &before,
        &action,
        &outcome,
        world,
    );
    if let Some(v) = restart_check(&before, guests, action, world)? {
        violations.push(v);
    }
    for v in &violations {
        problems.push(format!(
            "step {}: {} violated: {}",
            lines.len() + 1,
            v.invariant,
            v.message
        ));
    }
    lines.push(Line::new(
        lines.len() + 1,
        action,
        outcome,
        world,
        &guests.values_key,
        violations,
    ));
    Ok(())
}

/// I8 for a module run that follows a restart: the same run without the restart.
pub fn restart_check(
    before: &World,
    guests: &Guests,
    action: Action,
    after: &World,
) -> Result<Option<invariants::Violation>, SimError> {
    let (Action::ModuleRun { .. }, Some(values)) = (action, &before.before_restart) else {
        return Ok(None);
    };
    if after.before_restart.is_some() {
        return Ok(None);
    }
    let mut shadow = before.clone();
    shadow.values = values.clone();
    shadow.before_restart = None;
    shadow.apply(guests, action)?;
    Ok(invariants::i8_restart(after, &shadow))
}

/// Lets the system run: the first progress action that changes something, repeatedly.
fn settle(
    world: &mut World,
    guests: &Guests,
    states: &States,
    max: u32,
    lines: &mut Vec<Line>,
    problems: &mut Vec<String>,
) -> Result<(), SimError> {
    for _ in 0..max {
        let mut progressed = false;
        for action in [
            Action::HookEvent,
            Action::ModuleRun {
                snapshots: Snapshots::Full,
            },
            Action::Controllers,
            Action::JobStep { fault: None },
        ] {
            if !world.enabled(0).contains(&action) {
                continue;
            }
            let mut trial = world.clone();
            trial.apply(guests, action)?;
            if super::explore::fingerprint(&trial) != super::explore::fingerprint(world) {
                act(world, guests, states, action, lines, problems)?;
                progressed = true;
                break;
            }
        }
        if !progressed {
            return Ok(());
        }
    }
    Ok(())
}
