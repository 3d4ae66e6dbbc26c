//! One run: read the switch and the ConfigMap, decide, and report through values, log
//! lines and metrics. The decisions are plain functions, each unit-tested.

use crate::states::{Rejection, StateTable};
use crate::{CONFIG_MAP, NAMESPACE, binding};
use deckhouse_hooks_sdk::{Error, HookInput};
use serde_json::{Value, json};

/// Where the synced state lives, below the module's values key.
pub const STATE_PATH: &str = "internal.controlPlaneMigration";

/// The metric group every series of this hook belongs to; each run expires it and sets
/// what holds now, so a rejection series vanishes once the ConfigMap is fixed.
pub const GROUP: &str = "d8_sds_control_plane_migration";

/// Info gauge: 1 with the state the module renders for as the `state` label.
pub const STATE: &str = "d8_sds_control_plane_migration_state";

/// 1 while the ConfigMap holds a state the hook refuses; an alert fires on it.
pub const REJECTED: &str = "d8_sds_control_plane_migration_state_rejected";

/// Runs the hook once.
///
/// A refused ConfigMap state is not an error: failing would block the module's queue in a
/// retry loop while a person must fix the ConfigMap anyway; the run keeps the last good
/// value, logs a warning and raises the rejection metric instead.
pub fn run(table: &StateTable, input: &mut HookInput<'_>) -> Result<(), Error> {
    let switch = input.values.get::<bool>("newControlPlane").map_err(|e| {
        Error::msg(format!(
            "{e}; fix spec.settings.newControlPlane in ModuleConfig sds-replicated-volume"
        ))
    })?;
    let current: Option<Value> = input.values.get(STATE_PATH)?;
    if !switch.unwrap_or(false) {
        input.log.debug(
            "newControlPlane is false: internal.controlPlaneMigration is left as it is",
            &[],
        );
        publish(input, &label(current.as_ref(), table.first()), None);
        return Ok(());
    }
    let candidate = match lookup(input, binding::CONFIG_MAP)? {
        Some(configmap) => configmap_state(table, &configmap),
        None => recreate_configmap(table, input, current.as_ref())?,
    };
    settle(table, input, current.as_ref(), &candidate)
}

/// Creates the missing ConfigMap (when its namespace can hold it) and returns its state.
fn recreate_configmap(
    table: &StateTable,
    input: &mut HookInput<'_>,
    current: Option<&Value>,
) -> Result<String, Error> {
    let linstor_installed = lookup(input, binding::LINSTOR_DATABASE)?.is_some()
        || lookup(input, binding::LINSTOR_CONTROLLER)?.is_some();
    let (state, why) = seed_state(table, current.and_then(Value::as_str), linstor_installed);
    let fields = [("state", state), ("why", why)];
    if !namespace_usable(lookup(input, binding::NAMESPACE)?.as_ref()) {
        // Creating it now would fail and block the queue; Helm creates the namespace
        // during this module run, and the namespace event brings the hook back.
        let message = "namespace d8-sds-replicated-volume does not exist yet (or is being deleted): not creating ConfigMap control-plane-migration in this run, only setting the internal value; a later run creates it";
        input.log.info(message, &fields);
        return Ok(state.to_owned());
    }
    let created = input
        .kube
        .create_if_not_exists(&configmap_object(state))
        .map_err(|e| {
            Error::msg(format!(
                "creating ConfigMap {NAMESPACE}/{CONFIG_MAP} (v1): {e}; check this hook's create grant in grants.yaml"
            ))
        })?;
    let message =
        "ConfigMap d8-sds-replicated-volume/control-plane-migration was missing: created it";
    input.log.info(message, &fields);
    // If-not-exists: a ConfigMap that appeared meanwhile comes back as it is; its state wins.
    Ok(configmap_state(table, &created))
}

/// Turns the candidate into the values change, the log lines and the metrics.
fn settle(
    table: &StateTable,
    input: &mut HookInput<'_>,
    current: Option<&Value>,
    candidate: &str,
) -> Result<(), Error> {
    let current_state = current.and_then(Value::as_str);
    match table.judge(current_state, candidate) {
        Ok(()) => {
            let state = table.canonical(candidate).unwrap_or_else(|| table.first());
            // Only a real change is written: a values change made in an Event run queues a
            // module re-run (a Helm render), so the patch says exactly when the state moved.
            if current_state != Some(state) {
                let from = label(current, "(absent)");
                let fields = [("from", from.as_str()), ("to", state)];
                input.log.info(
                    "control-plane migration state synced into internal values",
                    &fields,
                );
                input.values.set(STATE_PATH, state)?;
            }
            publish(input, state, None);
        }
        Err(reason) => {
            let current = label(current, table.first());
            let fields = [
                ("state", candidate),
                ("current", &current),
                ("reason", reason.as_label()),
            ];
            input.log.warn(&refusal_message(table, reason), &fields);
            publish(input, &current, Some(&fields));
        }
    }
    Ok(())
}

/// Expires the group, sets the info gauge and, for a refusal, the rejection gauge.
fn publish(input: &mut HookInput<'_>, state: &str, refused: Option<&[(&str, &str); 3]>) {
    let mut group = input.metrics.group(GROUP);
    group.expire();
    group.set(STATE, 1.0, &[("state", state)]);
    if let Some(labels) = refused {
        group.set(REJECTED, 1.0, labels);
    }
}

/// One watched object, None when it does not exist; a binding this run did not deliver
/// fails the run, because the hook cannot decide without it.
fn lookup(input: &HookInput<'_>, binding: &str) -> Result<Option<Value>, Error> {
    let object = input.snapshots.first(binding);
    object.map_err(|e| Error::from(e).context("the hook cannot decide the migration state"))
}

/// The state a ConfigMap holds, as read: `data.state` without surrounding whitespace
/// (a `kubectl create --from-file` leaves a newline); empty or absent is the first state.
/// A non-string value comes back as its JSON text, which no table knows.
pub fn configmap_state(table: &StateTable, configmap: &Value) -> String {
    match configmap.pointer("/data/state") {
        None | Some(Value::Null) => table.first().to_owned(),
        Some(Value::String(s)) if s.trim().is_empty() => table.first().to_owned(),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(other) => other.to_string(),
    }
}

/// The state to create a missing ConfigMap with, and why.
pub fn seed_state(
    table: &StateTable,
    current: Option<&str>,
    linstor_installed: bool,
) -> (&'static str, &'static str) {
    match current.and_then(|c| table.canonical(c)) {
        // The ConfigMap was lost mid-migration (or after it): starting over would redo it.
        Some(kept) if kept != table.first() => (kept, "kept the state already in values"),
        _ if linstor_installed => (
            table.first(),
            "LINSTOR is installed, so its volumes need migrating",
        ),
        _ => (
            table.last(),
            "fresh install without LINSTOR, nothing to migrate",
        ),
    }
}

/// Whether objects can be created in this namespace: it exists and is not being deleted
/// (a create there fails, and a failing hook blocks the module's queue).
pub fn namespace_usable(namespace: Option<&Value>) -> bool {
    let Some(ns) = namespace else { return false };
    let deleting = ns
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null());
    let terminating = ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating");
    !deleting && !terminating
}

/// The ConfigMap as the hook creates it.
pub fn configmap_object(state: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": CONFIG_MAP,
            "namespace": NAMESPACE,
            "labels": {"heritage": "deckhouse", "module": "sds-replicated-volume"},
        },
        "data": {"state": state},
    })
}

/// A values entry as a label: its text, or `default` when absent.
fn label(value: Option<&Value>, default: &str) -> String {
    match value {
        None => default.to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn refusal_message(table: &StateTable, reason: Rejection) -> String {
    let what = match reason {
        Rejection::UnknownState => {
            format!("it is not a known state ({})", table.states().join(", "))
        }
        Rejection::Regression => format!(
            "it moves the migration backwards (the only way back is a reset to {}, and never out of {})",
            table.first(),
            table.last()
        ),
    };
    format!(
        "refused the state in ConfigMap d8-sds-replicated-volume/control-plane-migration: {what}; keeping the current internal value. Fix data.state in the ConfigMap"
    )
}
