//! One run of one hook guest, in-process, on inputs already read: what `hook run N`
//! does between reading Deckhouse's files and writing its outputs.

use super::config::check_watches;
use crate::bindings::hook::HookGuestPre;
use crate::bindings::hook_api::HookInput;
use crate::bindings::render::RenderGuestPre;
use crate::capabilities::grants::Grants;
use crate::capabilities::kubernetes::KubeCtx;
use crate::capabilities::log::LogCtx;
use crate::capabilities::snapshot::SnapshotBackend;
use crate::error::{HostError, Result};
use crate::logging;
use crate::manifest::{Guest, World};
use crate::protocol::binding_context::{BindingContexts, WatchedKind};
use crate::protocol::env::{self, BINDING_CONTEXT_PATH, CONFIG_VALUES_PATH, VALUES_PATH};
use crate::protocol::hook_config::{self, HookConfig};
use crate::protocol::output::RunOutput;
use crate::protocol::{metrics, object_ops, values_patch};
use crate::runtime::guest::{ImportsState, Prepared, RenderState, Runtime};
use crate::runtime::state::Imports;
use crate::runtime::{budget, convert};
use serde_json::{Map, Value, json};
use std::time::Instant;

/// What Deckhouse hands a run.
#[derive(Clone, Debug, Default)]
pub struct RunInputs {
    pub binding_context: BindingContexts,
    /// All values: `{"global": .., "<valuesKey>": ..}`.
    pub values: Value,
    /// The config values, same shape.
    pub config_values: Value,
}

impl RunInputs {
    /// The inputs named by Deckhouse's environment variables.
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            binding_context: BindingContexts::read(&env::required(BINDING_CONTEXT_PATH)?)?,
            values: env::read_json("values", &env::required(VALUES_PATH)?)?,
            config_values: env::read_json_var("config values", CONFIG_VALUES_PATH)?,
        })
    }
}

/// A hook or render guest loaded and linked once, for callers that run it many times
/// (the simulator); each run still gets a fresh instance.
pub enum PreparedGuest {
    Hook(Prepared<HookGuestPre<ImportsState>>),
    Render(Prepared<RenderGuestPre<RenderState>>),
}

/// Loads and links a hook or render guest.
pub fn prepare(runtime: &Runtime, guest: &Guest) -> Result<PreparedGuest> {
    match guest.world {
        World::Hook => Ok(PreparedGuest::Hook(runtime.prepare_hook(guest)?)),
        World::Render => Ok(PreparedGuest::Render(runtime.prepare_render(guest)?)),
        World::Job => Err(HostError::Other(format!(
            "guest {} is a job; run it with `job {}`",
            guest.name, guest.name
        ))),
    }
}

/// Runs one hook or render guest; the output is checked by Deckhouse's own rules, so
/// what comes back is safe to write.
pub fn run(runtime: &Runtime, guest: &Guest, inputs: &RunInputs) -> Result<RunOutput> {
    run_prepared(runtime, guest, &prepare(runtime, guest)?, inputs)
}

/// [`run`] with the guest already prepared.
pub fn run_prepared(
    runtime: &Runtime,
    guest: &Guest,
    prepared: &PreparedGuest,
    inputs: &RunInputs,
) -> Result<RunOutput> {
    let started = Instant::now();
    let output = match prepared {
        PreparedGuest::Hook(prepared) => run_hook(prepared, guest, inputs, runtime)?,
        PreparedGuest::Render(prepared) => run_render(prepared, runtime, guest, &inputs.values)?,
    };
    logging::info(
        "hook run succeeded",
        &[
            ("guest", guest.name.clone().into()),
            ("bindings", inputs.binding_context.bindings().into()),
            ("valuesOps", output.values_patch.len().into()),
            ("configValuesOps", output.config_values_patch.len().into()),
            ("objectOps", output.object_operations.len().into()),
            ("metrics", output.metrics.len().into()),
            (
                "durationMs",
                (started.elapsed().as_secs_f64() * 1000.0).into(),
            ),
        ],
    );
    Ok(output)
}

fn run_hook(
    prepared: &Prepared<HookGuestPre<ImportsState>>,
    guest: &Guest,
    inputs: &RunInputs,
    runtime: &Runtime,
) -> Result<RunOutput> {
    let bad = |what: &'static str| {
        move |problem: String| HostError::GuestOutput {
            guest: guest.name.clone(),
            what,
            problem,
        }
    };
    let caps = Imports {
        kube: KubeCtx::new(
            &guest.name,
            Grants::new(guest.grants.clone()),
            Box::new(SnapshotBackend::default()),
        ),
        log: LogCtx::new(&guest.name),
    };
    let mut instance = prepared.instantiate(caps)?;
    let config = convert::hook_config(
        instance.call_bounded("config", |b, s| b.deckhouse_hooks_hook().call_config(s))?,
    );
    check_watches(guest, &config)?;
    if only_unwanted_events(&config, &inputs.binding_context) {
        logging::info(
            "no binding context of this run asks for the hook; nothing to do",
            &[("guest", guest.name.clone().into())],
        );
        return Ok(RunOutput::default());
    }
    let current = inputs.binding_context.current_objects(&watched(&config));
    instance
        .store
        .data_mut()
        .caps
        .kube
        .replace_backend(Box::new(SnapshotBackend::new(
            current.objects,
            current.observed,
        )));
    let input = HookInput {
        binding_context: inputs.binding_context.raw.clone(),
        values: inputs.values.to_string(),
        config_values: inputs.config_values.to_string(),
    };
    let result = instance.call("run", |b, s| b.deckhouse_hooks_hook().call_run(s, &input))?;
    let output = result.map_err(|message| HostError::GuestFailed {
        guest: guest.name.clone(),
        message: budget::error_message(guest, &message),
    })?;
    budget::check_hook_output(guest, &output)?;
    let key = &runtime.manifest.module.values_key;
    let changes = |ops: Vec<_>| {
        ops.into_iter()
            .map(convert::values_change)
            .collect::<Result<Vec<_>, String>>()
    };
    let values_patch = values_patch::build(
        key,
        &inputs.values,
        changes(output.values_patch).map_err(bad("values op"))?,
    )
    .map_err(bad("values patch"))?;
    let config_values_patch = values_patch::build(
        key,
        &inputs.config_values,
        changes(output.config_values_patch).map_err(bad("config values op"))?,
    )
    .map_err(bad("config values patch"))?;
    let metrics = metrics::to_json(
        &output
            .metrics
            .into_iter()
            .map(convert::metric)
            .collect::<Vec<_>>(),
    )
    .map_err(bad("metric"))?;
    let object_operations = instance.into_caps().kube.into_backend().take_operations();
    for (i, op) in object_operations.iter().enumerate() {
        object_ops::check(op).map_err(|problem| HostError::GuestOutput {
            guest: guest.name.clone(),
            what: "object operation",
            problem: format!(
                "operation {i} ({}): {problem}",
                op.get("operation")
                    .and_then(Value::as_str)
                    .unwrap_or("no operation")
            ),
        })?;
    }
    Ok(RunOutput {
        values_patch,
        config_values_patch,
        object_operations,
        metrics,
    })
}

fn watched(config: &HookConfig) -> Vec<WatchedKind> {
    config
        .kubernetes
        .iter()
        .map(|b| WatchedKind {
            binding: b.name.clone(),
            api_version: b.api_version.clone(),
            kind: b.kind.clone(),
        })
        .collect()
}

/// True when every context is an Event of a type its binding does not want: the batch
/// config can only switch events on or off, so the host filters by type itself.
fn only_unwanted_events(config: &HookConfig, contexts: &BindingContexts) -> bool {
    !contexts.is_empty()
        && contexts.iter().all(|ctx| {
            let Some(event) = ctx
                .watch_event
                .as_deref()
                .filter(|_| ctx.kind.as_deref() == Some("Event"))
            else {
                return false;
            };
            config
                .kubernetes
                .iter()
                .find(|b| b.name == ctx.binding)
                .is_some_and(|b| !hook_config::events(b).iter().any(|e| e.as_str() == event))
        })
}

/// Runs a render guest: reads its input from the module's values, writes its plan back.
fn run_render(
    prepared: &Prepared<RenderGuestPre<RenderState>>,
    runtime: &Runtime,
    guest: &Guest,
    values: &Value,
) -> Result<RunOutput> {
    let key = &runtime.manifest.module.values_key;
    let module_values = values.get(key).cloned().unwrap_or_else(|| json!({}));
    let mut instance = prepared.instantiate()?;
    let failed = |message: String| HostError::GuestFailed {
        guest: guest.name.clone(),
        message: budget::error_message(guest, &message),
    };
    let machine = instance.call_bounded("describe", |b, s| {
        b.deckhouse_hooks_render().call_describe(s)
    })?;
    let input = instance
        .call_bounded("input-from-values", |b, s| {
            b.deckhouse_hooks_render()
                .call_input_from_values(s, &module_values.to_string())
        })?
        .map_err(failed)?;
    let decisions = instance
        .call_bounded("plan", |b, s| {
            b.deckhouse_hooks_render().call_plan(s, &input)
        })?
        .map_err(failed)?;
    let mut plan = Map::new();
    for d in decisions {
        plan.insert(
            d.component,
            json!({"rendered": d.rendered, "reason": d.reason}),
        );
    }
    logging::info(
        "render plan",
        &[
            ("guest", guest.name.clone().into()),
            ("state", input.state.clone().into()),
            ("newControlPlane", input.new_control_plane.into()),
            ("plan", Value::Object(plan.clone())),
        ],
    );
    let change = values_patch::Change::Add {
        path: machine.values_path.clone(),
        value: Value::Object(plan),
    };
    let values_patch = values_patch::build(key, values, vec![change]).map_err(|problem| {
        HostError::GuestOutput {
            guest: guest.name.clone(),
            what: "values path",
            problem,
        }
    })?;
    Ok(RunOutput {
        values_patch,
        ..RunOutput::default()
    })
}
