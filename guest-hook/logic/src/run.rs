//! One hook run: read the switch and the ConfigMap, decide, and report.

use crate::bindings::{
    CONFIG_MAP, CONFIG_MAP_CANARY, CRD_CANARY, LINSTOR_CONTROLLER, LINSTOR_DATABASE,
    MODULE_NAMESPACE, NAMESPACE_CANARY,
};
use crate::decide::{
    Evidence, Outcome, Unproven, configmap_object, configmap_state, namespace_usable, outcome,
    seed_state,
};
use crate::env::{HookEnv, KubeError, LogLevel, ObjectRef};
use crate::inputs::{Inputs, STATE_PATH};
use crate::metrics::{Refused, metrics};
use crate::output::{HookOutput, ValuesOp};
use crate::states::{Rejection, StateTable};
use serde_json::{Value, json};

/// Runs the hook once over all values (`{"global":..,"sdsReplicatedVolume":..}`).
///
/// A refused ConfigMap state is not an error: failing would block the module's queue
/// in a retry loop while a person must fix the ConfigMap anyway; the run keeps the last
/// good value, logs a warning and raises the rejection metric instead.
pub fn run(
    table: &StateTable,
    env: &mut impl HookEnv,
    values: &Value,
) -> Result<HookOutput, String> {
    let inputs = Inputs::from_values(values)?;
    // The ConfigMap is followed whatever the switch: after a switch back (or a Deckhouse
    // restart resetting the internal value), the render plan must still see the state.
    if let Some(configmap) = lookup(env, &CONFIG_MAP)? {
        let candidate = configmap_state(table, &configmap);
        return Ok(settle(table, env, &inputs, &candidate));
    }
    let evidence = evidence(env)?;
    if !inputs.new_control_plane {
        if !evidence.configmap_absent() {
            return Err(unproven(Unproven::ConfigMap));
        }
        env.log(
            LogLevel::Debug,
            "newControlPlane is false and there is no ConfigMap: internal.controlPlaneMigration is left as it is",
            &[],
        );
        let rendered = inputs.current_label(table.first());
        return Ok(HookOutput {
            values_patch: Vec::new(),
            metrics: metrics(&rendered, None),
        });
    }
    let candidate = recreate_configmap(table, env, &inputs, evidence)?;
    Ok(settle(table, env, &inputs, &candidate))
}

/// What the snapshots prove beyond the objects in them (see [`Evidence`]).
fn evidence(env: &mut impl HookEnv) -> Result<Evidence, String> {
    Ok(Evidence {
        configmaps_listed: lookup(env, &CONFIG_MAP_CANARY)?.is_some(),
        namespaces_listed: lookup(env, &NAMESPACE_CANARY)?.is_some(),
        namespace_present: lookup(env, &MODULE_NAMESPACE)?.is_some(),
        crds_listed: lookup(env, &CRD_CANARY)?.is_some(),
        linstor_seen: lookup(env, &LINSTOR_DATABASE)?.is_some()
            || lookup(env, &LINSTOR_CONTROLLER)?.is_some(),
    })
}

/// The run's error when it would have to guess: failing keeps the last render in place
/// (Deckhouse runs Helm only after every beforeHelm hook succeeded) and is retried.
fn unproven(why: Unproven) -> String {
    format!(
        "{}; not deciding the migration state from missing objects. Deckhouse retries the run; if this persists, check that the hook's kubernetes bindings are synchronized",
        why.as_str()
    )
}

/// Creates the missing ConfigMap (when its namespace can hold it) and returns its state.
fn recreate_configmap(
    table: &StateTable,
    env: &mut impl HookEnv,
    inputs: &Inputs,
    evidence: Evidence,
) -> Result<String, String> {
    let (state, why) = seed_state(table, inputs.current_state(), evidence).map_err(unproven)?;
    let fields = [("state", state), ("why", why.as_str())];
    if !namespace_usable(lookup(env, &MODULE_NAMESPACE)?.as_ref()) {
        // Creating it now would fail and block the queue; Helm creates the namespace
        // during this module run, and the namespace event brings the hook back.
        let message = "namespace d8-sds-replicated-volume does not exist yet (or is being deleted): not creating ConfigMap control-plane-migration in this run, only setting the internal value; a later run creates it";
        env.log(LogLevel::Info, message, &fields);
        return Ok(state.to_owned());
    }
    let created = env.create(configmap_object(state), true).map_err(|e| {
        format!("creating {CONFIG_MAP}: {e}; check this hook's create grant in grants.yaml")
    })?;
    env.log(
        LogLevel::Info,
        "ConfigMap d8-sds-replicated-volume/control-plane-migration was missing: created it",
        &fields,
    );
    // With if-absent, a ConfigMap that appeared meanwhile comes back as it is: its state wins.
    Ok(configmap_state(table, &created))
}

/// Turns the candidate into the values patch, the log lines and the metrics.
fn settle(
    table: &StateTable,
    env: &mut impl HookEnv,
    inputs: &Inputs,
    candidate: &str,
) -> HookOutput {
    match outcome(table, inputs, candidate) {
        Outcome::Accepted { state, changed } => {
            let mut values_patch = Vec::new();
            // Only a real change is written: a values change made in an Event run queues a
            // module re-run (a Helm render), so the patch says exactly when the state moved.
            if changed {
                let from = inputs.current_label("(absent)");
                env.log(
                    LogLevel::Info,
                    "control-plane migration state synced into internal values",
                    &[("from", &from), ("to", state)],
                );
                values_patch.push(ValuesOp::add(STATE_PATH, json!(state)));
            }
            HookOutput {
                values_patch,
                metrics: metrics(state, None),
            }
        }
        Outcome::Rejected { state, reason } => {
            let current = inputs.current_label(table.first());
            let message = refusal_message(table, reason);
            env.log(
                LogLevel::Warn,
                &message,
                &[
                    ("state", &state),
                    ("current", &current),
                    ("reason", reason.as_label()),
                ],
            );
            let refused = Refused {
                state: &state,
                current: &current,
                reason,
            };
            HookOutput {
                values_patch: Vec::new(),
                metrics: metrics(&current, Some(refused)),
            }
        }
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

/// One object, None when it does not exist; other failures fail the run, because the
/// hook cannot decide without the object (a missing binding or grant is a packaging bug).
fn lookup(env: &mut impl HookEnv, target: &ObjectRef) -> Result<Option<Value>, String> {
    match env.get(target) {
        Ok(object) => Ok(Some(object)),
        Err(KubeError::NotFound(_)) => Ok(None),
        Err(e) => Err(format!(
            "reading {target}: {e}; check this hook's kubernetes bindings and its grants in grants.yaml"
        )),
    }
}
