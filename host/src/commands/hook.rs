//! Deckhouse's batch protocol: `hook list`, `hook config`, `hook run N`, `hook ready`,
//! `hook check`.

use crate::capabilities::backend::Shared;
use crate::capabilities::grants::Grants;
use crate::capabilities::kubernetes::KubeCapability;
use crate::capabilities::snapshot::{SnapshotBackend, WatchedKind};
use crate::cli::Cli;
use crate::error::{HostError, Result};
use crate::logging;
use crate::manifest::{Guest, Manifest, World};
use crate::protocol::binding_context::BindingContexts;
use crate::protocol::env::{self, BINDING_CONTEXT_PATH, CONFIG_VALUES_PATH, VALUES_PATH};
use crate::protocol::hook_config::{self, Form};
use crate::protocol::output::{OutputPaths, RunOutput};
use crate::protocol::{metrics, values_patch};
use crate::runtime::bindings::{HookConfig, HookInput, ValuesOpKind};
use crate::runtime::guest::Runtime;
use serde_json::{Map, Value, json};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// `Found N items:` then `I - NAME`: works with an empty environment, as discovery runs it.
pub fn list(cli: &Cli) -> Result<ExitCode> {
    let manifest = Manifest::load(&super::hooks_dir(cli)?)?;
    let hooks: Vec<&Guest> = manifest.hooks().collect();
    println!("Found {} items:", hooks.len());
    for (i, hook) in hooks.iter().enumerate() {
        println!("{i} - {}", hook.name);
    }
    Ok(ExitCode::SUCCESS)
}

/// Every hook's configuration, in `hook list` order.
pub fn config(cli: &Cli) -> Result<ExitCode> {
    let runtime = super::runtime(cli)?;
    let hooks = runtime
        .manifest
        .hooks()
        .map(|guest| guest_config(&runtime, guest).map(|c| hook_config::render(&guest.name, &c, Form::Batch)))
        .collect::<Result<Vec<Value>>>()?;
    let doc = json!({"version": "v1", "hooks": hooks, "has_settings_check": false});
    println!("{doc}");
    Ok(ExitCode::SUCCESS)
}

/// A guest's Deckhouse configuration: a hook's own bindings (checked against its grants),
/// or a render guest's beforeHelm order.
pub fn guest_config(runtime: &Runtime, guest: &Guest) -> Result<HookConfig> {
    match guest.world {
        World::Hook => {
            let backend = Box::new(SnapshotBackend::default());
            let mut instance = runtime.hook(guest, KubeCapability::new(Grants::default(), backend))?;
            let config = instance.call("config", |b, s| b.deckhouse_hooks_hook().call_config(s))?;
            let grants = Grants::new(guest.grants.clone());
            hook_config::check_grants(&guest.name, &config, &grants).map_err(HostError::Other)?;
            Ok(config)
        }
        World::Render => {
            let mut instance = runtime.render(guest)?;
            let machine = instance.call("describe", |b, s| b.deckhouse_hooks_render().call_describe(s))?;
            Ok(HookConfig {
                on_startup: None,
                before_helm: Some(machine.before_helm),
                after_helm: None,
                before_delete_helm: None,
                after_delete_helm: None,
                kubernetes: vec![],
                schedule: vec![],
            })
        }
        World::Job => Err(HostError::Other(format!("guest {} is a job, not a hook", guest.name))),
    }
}

/// Runs hook `index` with the files Deckhouse named; writes outputs only on success.
pub fn run(cli: &Cli, index: usize) -> Result<ExitCode> {
    let runtime = super::runtime(cli)?;
    let hooks: Vec<&Guest> = runtime.manifest.hooks().collect();
    let guest = *hooks.get(index).ok_or(HostError::UnknownHook { index, count: hooks.len() })?;
    let output = run_guest(&runtime, guest)?;
    output.write(&OutputPaths::from_env())?;
    Ok(ExitCode::SUCCESS)
}

/// One run of one hook guest with the inputs from the environment.
pub fn run_guest(runtime: &Runtime, guest: &Guest) -> Result<RunOutput> {
    let started = Instant::now();
    let contexts = BindingContexts::read(&env::required(BINDING_CONTEXT_PATH)?)?;
    let values = env::read_json("values", &env::required(VALUES_PATH)?)?;
    let config_values = env::read_json_var("config values", CONFIG_VALUES_PATH)?;
    let output = match guest.world {
        World::Hook => run_hook(runtime, guest, &contexts, &values, &config_values)?,
        World::Render => run_render(runtime, guest, &values)?,
        World::Job => return Err(HostError::Other(format!("guest {} is a job; run it with `job {}`", guest.name, guest.name))),
    };
    logging::info(
        "hook run succeeded",
        &[
            ("guest", guest.name.clone().into()),
            ("bindings", contexts.bindings().into()),
            ("valuesOps", output.values_patch.len().into()),
            ("objectOps", output.object_operations.len().into()),
            ("metrics", output.metrics.len().into()),
            ("durationMs", (started.elapsed().as_secs_f64() * 1000.0).into()),
        ],
    );
    Ok(output)
}

fn run_hook(runtime: &Runtime, guest: &Guest, contexts: &BindingContexts, values: &Value, config_values: &Value) -> Result<RunOutput> {
    let snapshot = Arc::new(Mutex::new(SnapshotBackend::default()));
    let capability = KubeCapability::new(Grants::new(guest.grants.clone()), Box::new(Shared(snapshot.clone())));
    let mut instance = runtime.hook(guest, capability)?;
    let config = instance.call("config", |b, s| b.deckhouse_hooks_hook().call_config(s))?;
    if only_unwanted_events(&config, contexts) {
        logging::info("no binding context of this run asks for the hook; nothing to do", &[("guest", guest.name.clone().into())]);
        return Ok(RunOutput::default());
    }
    *lock(&snapshot) = SnapshotBackend::new(contexts, watched(&config));
    let input = HookInput { binding_context: contexts.raw.clone(), values: values.to_string(), config_values: config_values.to_string() };
    let result = instance.call("run", |b, s| b.deckhouse_hooks_hook().call_run(s, &input))?;
    let output = result.map_err(|message| HostError::GuestFailed { guest: guest.name.clone(), message })?;
    let changes = output.values_patch.into_iter().map(|op| change(guest, op)).collect::<Result<Vec<_>>>()?;
    let values_patch = values_patch::build(&runtime.manifest.module.values_key, values, changes)
        .map_err(|problem| HostError::GuestOutput { guest: guest.name.clone(), what: "values patch", problem })?;
    let metrics = output
        .metrics
        .iter()
        .map(metrics::to_json)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|problem| HostError::GuestOutput { guest: guest.name.clone(), what: "metric", problem })?;
    drop(instance);
    let object_operations = std::mem::take(&mut *lock(&snapshot)).into_operations();
    Ok(RunOutput { values_patch, object_operations, metrics })
}

fn lock(m: &Mutex<SnapshotBackend>) -> std::sync::MutexGuard<'_, SnapshotBackend> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn watched(config: &HookConfig) -> Vec<WatchedKind> {
    config
        .kubernetes
        .iter()
        .map(|b| WatchedKind { binding: b.name.clone(), api_version: b.api_version.clone(), kind: b.kind.clone() })
        .collect()
}

/// True when every context is an Event of a type its binding does not want: the batch
/// config can only switch events on or off, so the host filters by type itself.
fn only_unwanted_events(config: &HookConfig, contexts: &BindingContexts) -> bool {
    !contexts.is_empty()
        && contexts.iter().all(|ctx| {
            let Some(event) = ctx.watch_event.as_deref().filter(|_| ctx.kind.as_deref() == Some("Event")) else {
                return false;
            };
            config.kubernetes.iter().find(|b| b.name == ctx.binding).is_some_and(|b| {
                !b.execute_hook_on_event.is_empty() && !hook_config::events(&b.execute_hook_on_event).contains(&event)
            })
        })
}

fn change(guest: &Guest, op: crate::runtime::bindings::ValuesOp) -> Result<values_patch::Change> {
    let bad = |problem: String| HostError::GuestOutput { guest: guest.name.clone(), what: "values op", problem };
    match op.op {
        ValuesOpKind::Remove => Ok(values_patch::Change::Remove { path: op.path }),
        ValuesOpKind::Add => {
            let text = op.value.ok_or_else(|| bad(format!("add {} has no value", op.path)))?;
            let value = serde_json::from_str(&text).map_err(|e| bad(format!("add {}: value is not JSON: {e}", op.path)))?;
            Ok(values_patch::Change::Add { path: op.path, value })
        }
    }
}

/// Runs a render guest: reads its input from the module's values, writes its plan back.
fn run_render(runtime: &Runtime, guest: &Guest, values: &Value) -> Result<RunOutput> {
    let key = &runtime.manifest.module.values_key;
    let module_values = values.get(key).cloned().unwrap_or_else(|| json!({}));
    let mut instance = runtime.render(guest)?;
    let failed = |message: String| HostError::GuestFailed { guest: guest.name.clone(), message };
    let machine = instance.call("describe", |b, s| b.deckhouse_hooks_render().call_describe(s))?;
    let input = instance
        .call("input-from-values", |b, s| b.deckhouse_hooks_render().call_input_from_values(s, &module_values.to_string()))?
        .map_err(failed)?;
    let decisions = instance.call("plan", |b, s| b.deckhouse_hooks_render().call_plan(s, &input))?.map_err(failed)?;
    let mut plan = Map::new();
    for d in decisions {
        plan.insert(d.component, json!({"rendered": d.rendered, "reason": d.reason}));
    }
    logging::info(
        "render plan",
        &[("guest", guest.name.clone().into()), ("state", input.state.clone().into()), ("newControlPlane", input.new_control_plane.into()), ("plan", Value::Object(plan.clone()))],
    );
    let change = values_patch::Change::Add { path: machine.values_path.clone(), value: Value::Object(plan) };
    let values_patch = values_patch::build(key, values, vec![change])
        .map_err(|problem| HostError::GuestOutput { guest: guest.name.clone(), what: "values path", problem })?;
    Ok(RunOutput { values_patch, ..RunOutput::default() })
}

/// No readiness probe is configured, so Deckhouse never asks; if asked, we are ready.
pub fn ready() -> Result<ExitCode> {
    logging::info("no readiness probe is configured; ready", &[]);
    Ok(ExitCode::SUCCESS)
}

/// No settings check is configured (`has_settings_check: false`); if asked, the settings
/// are accepted when they are a JSON object.
pub fn check() -> Result<ExitCode> {
    let settings = env::read_json_var("settings", env::SETTINGS_PATH)?;
    if settings.is_object() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{}", json!({"valid": false, "message": "settings must be a JSON object", "warnings": []}));
    Ok(ExitCode::from(1))
}

