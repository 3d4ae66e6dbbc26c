//! Pass 2: with the new agent and controller running, check that every object Pass 1
//! planned exists and still says what LINSTOR says, then lift DRBD maintenance.

use serde_json::{Value, json};

use crate::compare::differences;
use crate::error::{During, Error, all_problems};
use crate::kube::{Cluster, ObjRef, PatchKind, name_of};
use crate::load::{self, Existing};
use crate::log::{Level, Log};
use crate::names::{DRBDR, STORAGE_V1ALPHA1};
use crate::plan::{Plan, kind_of};

/// Verifies, then clears maintenance; returns a one-line summary.
pub fn run(cluster: &mut dyn Cluster, log: &mut dyn Log) -> Result<String, Error> {
    let Some(plan) = load::plan(cluster, log)? else {
        return Ok("Pass 2: no LINSTOR data, nothing to verify".into());
    };
    let existing = load::existing(cluster)?;
    verify(&plan, &existing)?;
    log.emit(
        Level::Info,
        "Pass 2 verified",
        &[("objects", plan.objects().count().to_string())],
    );
    let cleared = clear_maintenance(cluster, &plan, &existing)?;
    log.emit(
        Level::Info,
        "Pass 2 lifted DRBD maintenance",
        &[("drbdResources", cleared.to_string())],
    );
    Ok(format!(
        "Pass 2: {} volumes verified, maintenance lifted on {cleared} DRBDResources",
        plan.volumes.len()
    ))
}

/// Fails naming every object that is missing or differs.
fn verify(plan: &Plan, existing: &Existing) -> Result<(), Error> {
    let mut mismatches = Vec::new();
    for object in plan.objects() {
        let (kind, name) = load::key(object);
        let Some(actual) = existing.get(&(kind.clone(), name.clone())) else {
            mismatches.push(format!("{kind} {name}: missing"));
            continue;
        };
        for difference in differences(&compared_spec(object), &actual["spec"]) {
            mismatches.push(format!("{kind} {name}: {difference}"));
        }
    }
    if mismatches.is_empty() {
        return Ok(());
    }
    Err(all_problems(
        "Pass 2: the new control-plane objects disagree with LINSTOR",
        &mismatches,
        "Correct or delete the named objects (Pass 1 recreates deleted ones), then reset ConfigMap \
         d8-sds-replicated-volume/control-plane-migration data.state to not_started and recreate the Job.",
    ))
}

/// The planned spec minus `maintenance`, which Pass 2 itself clears.
fn compared_spec(object: &Value) -> Value {
    let mut spec = object["spec"].clone();
    if kind_of(object) == DRBDR
        && let Some(fields) = spec.as_object_mut()
    {
        fields.remove("maintenance");
    }
    spec
}

/// Clears `spec.maintenance` on the migration's DRBDResources that still have it.
fn clear_maintenance(
    cluster: &mut dyn Cluster,
    plan: &Plan,
    existing: &Existing,
) -> Result<usize, Error> {
    let patch = json!({ "spec": { "maintenance": null } });
    let mut cleared = 0;
    for object in plan.objects().filter(|o| kind_of(o) == DRBDR) {
        let in_maintenance = existing
            .get(&load::key(object))
            .is_some_and(|a| !a["spec"]["maintenance"].is_null());
        if !in_maintenance {
            continue;
        }
        let target = ObjRef::cluster(STORAGE_V1ALPHA1, DRBDR, name_of(object));
        cluster
            .patch(&target, PatchKind::Merge, &patch)
            .during(|| format!("Pass 2: lifting maintenance on {target}"))?;
        cleared += 1;
    }
    Ok(cleared)
}
