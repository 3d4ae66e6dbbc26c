//! One run: read the switch and the ConfigMap, decide, and report through values, log
//! lines and metrics. The decisions are plain functions, each unit-tested.

use crate::states::{Rejection, StateTable};
use crate::{CONFIG_MAP, LINSTOR_CONTROLLER, LINSTOR_CRD, NAMESPACE, binding, canary};
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
/// A present ConfigMap is followed whatever the switch: after a switch back (or a
/// Deckhouse restart resetting the internal value) the render plan must still see the
/// state. A refused ConfigMap state is not an error: failing would block the module's
/// queue in a retry loop while a person must fix the ConfigMap anyway; the run keeps the
/// last good value, logs a warning and raises the rejection metric instead. A decision
/// that would rest on objects merely missing from the snapshots fails the run instead
/// (see [`Unproven`]).
pub fn run(table: &StateTable, input: &mut HookInput<'_>) -> Result<(), Error> {
    let switch = input.values.get::<bool>("newControlPlane").map_err(|e| {
        Error::msg(format!(
            "{e}; fix spec.settings.newControlPlane in ModuleConfig sds-replicated-volume"
        ))
    })?;
    let current: Option<Value> = input.values.get(STATE_PATH)?;
    if let Some(configmap) = lookup(input, binding::CONFIG_MAP, CONFIG_MAP)? {
        let candidate = configmap_state(table, &configmap);
        return settle(table, input, current.as_ref(), &candidate);
    }
    let evidence = evidence(input)?;
    if !switch.unwrap_or(false) {
        if !evidence.configmap_absent() {
            return Err(unproven(Unproven::ConfigMap));
        }
        input.log.debug(
            "newControlPlane is false and there is no ConfigMap: internal.controlPlaneMigration is left as it is",
            &[],
        );
        publish(input, &label(current.as_ref(), table.first()), None);
        return Ok(());
    }
    let candidate = recreate_configmap(table, input, current.as_ref(), evidence)?;
    settle(table, input, current.as_ref(), &candidate)
}

/// What the snapshots prove beyond the objects in them (see [`Evidence`]).
fn evidence(input: &HookInput<'_>) -> Result<Evidence, Error> {
    let seen = |binding, name| lookup(input, binding, name).map(|o| o.is_some());
    Ok(Evidence {
        configmaps_listed: seen(binding::CONFIG_MAP, canary::CONFIG_MAP)?,
        namespaces_listed: seen(binding::NAMESPACE, canary::NAMESPACE)?,
        namespace_present: seen(binding::NAMESPACE, NAMESPACE)?,
        crds_listed: seen(binding::LINSTOR_DATABASE, canary::CRD)?,
        linstor_seen: seen(binding::LINSTOR_DATABASE, LINSTOR_CRD)?
            || seen(binding::LINSTOR_CONTROLLER, LINSTOR_CONTROLLER)?,
    })
}

/// The run's error when it would have to guess: failing keeps the last render in place
/// (Deckhouse runs Helm only after every beforeHelm hook succeeded) and is retried.
fn unproven(why: Unproven) -> Error {
    Error::msg(format!(
        "{}; not deciding the migration state from missing objects. Deckhouse retries the run; if this persists, check that the hook's kubernetes bindings are synchronized",
        why.as_str()
    ))
}

/// Creates the missing ConfigMap (when its namespace can hold it) and returns its state.
fn recreate_configmap(
    table: &StateTable,
    input: &mut HookInput<'_>,
    current: Option<&Value>,
    evidence: Evidence,
) -> Result<String, Error> {
    let (state, why) =
        seed_state(table, current.and_then(Value::as_str), evidence).map_err(unproven)?;
    let fields = [("state", state), ("why", why)];
    if !namespace_usable(lookup(input, binding::NAMESPACE, NAMESPACE)?.as_ref()) {
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

/// One watched object by name, None when it is not in the binding's snapshot; a binding
/// this run did not deliver fails the run, because the hook cannot decide without it.
fn lookup(input: &HookInput<'_>, binding: &str, name: &str) -> Result<Option<Value>, Error> {
    let objects: Vec<Value> = input.snapshots.get(binding).map_err(|e| {
        let doing = format!(
            "no snapshot of {name} in this run, so the hook cannot decide the migration state"
        );
        Error::from(e).context(doing)
    })?;
    let named = |o: &Value| o.pointer("/metadata/name").and_then(Value::as_str) == Some(name);
    Ok(objects.into_iter().find(named))
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

/// What this run's snapshots prove when the ConfigMap is not in them: absence counts
/// only inside a listing known to have arrived, which its [`canary`] shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    /// The ConfigMap listing arrived (`kube-root-ca.crt` is in it).
    pub configmaps_listed: bool,
    /// The Namespace listing arrived (`kube-system` is in it).
    pub namespaces_listed: bool,
    /// The module namespace is in the snapshot.
    pub namespace_present: bool,
    /// The CRD listing arrived (`moduleconfigs.deckhouse.io` is in it).
    pub crds_listed: bool,
    /// LINSTOR's database CRD or its controller is in the snapshot: LINSTOR is installed.
    pub linstor_seen: bool,
}

impl Evidence {
    /// Whether the ConfigMap is really absent: its listing arrived without it, or the
    /// Namespace listing arrived without the namespace that would hold it.
    pub fn configmap_absent(&self) -> bool {
        self.configmaps_listed || (self.namespaces_listed && !self.namespace_present)
    }
}

/// Why a run cannot decide without guessing; the run fails, so nothing is rendered from a
/// guess, and Deckhouse retries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unproven {
    /// The ConfigMap is not in the snapshot, and nothing shows it is really absent.
    ConfigMap,
    /// No LINSTOR in the snapshot, but the CRD listing did not arrive either.
    Linstor,
}

impl Unproven {
    /// What is unproven, for the run's error.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfigMap => {
                "ConfigMap d8-sds-replicated-volume/control-plane-migration is not in this run's snapshot, and the snapshot does not show it absent (no kube-root-ca.crt in the ConfigMap listing, no kube-system in the Namespace listing): the snapshots are empty or incomplete"
            }
            Self::Linstor => {
                "LINSTOR is not in this run's snapshot, and the CRD listing did not arrive (no moduleconfigs.deckhouse.io in it): cannot tell a fresh install from a LINSTOR cluster"
            }
        }
    }
}

/// The state to create a missing ConfigMap with, and why, decided only on positive
/// evidence: progress already in the values, LINSTOR seen, or a CRD listing without LINSTOR.
pub fn seed_state(
    table: &StateTable,
    current: Option<&str>,
    evidence: Evidence,
) -> Result<(&'static str, &'static str), Unproven> {
    if !evidence.configmap_absent() {
        return Err(Unproven::ConfigMap);
    }
    match current.and_then(|c| table.canonical(c)) {
        // The ConfigMap was lost mid-migration (or after it): starting over would redo it.
        Some(kept) if kept != table.first() => Ok((kept, "kept the state already in values")),
        _ if evidence.linstor_seen => Ok((table.first(), LINSTOR_INSTALLED)),
        _ if evidence.crds_listed => Ok((table.last(), FRESH_INSTALL)),
        _ => Err(Unproven::Linstor),
    }
}

const LINSTOR_INSTALLED: &str = "LINSTOR is installed, so its volumes need migrating";
const FRESH_INSTALL: &str = "fresh install without LINSTOR, nothing to migrate (the CRD listing arrived without LINSTOR's CRD)";

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
