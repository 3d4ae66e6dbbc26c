//! Pass 1: with LINSTOR stopped, label the replicated PVs LINSTOR has no resource for,
//! then create the new control-plane objects: the pools, then per batch of volumes the
//! replicas, their LLVs and DRBDResources (in maintenance, owned by the replica), the
//! ReplicatedVolumes (marked for adoption) and their attachments. Every create is
//! if-absent and the plan is recomputed on every run, so a run killed anywhere (even
//! mid-batch) is finished by the next one without duplicates.

use serde_json::json;

use crate::clock::Clock;
use crate::create::Creator;
use crate::error::{During, Error};
use crate::load::{self, Existing};
use crate::names::NO_LINSTOR_RESOURCE;
use crate::plan::{self, PHASES, Plan};
use crate::progress::Progress;
use crate::settings::Settings;
use deckhouse_hooks_sdk::Logger;
use deckhouse_hooks_sdk::{Kube, ObjectRef, PatchOptions};

/// Creates what is missing; returns a one-line summary.
pub fn run(
    kube: Kube<'_>,
    log: Logger<'_>,
    clock: &dyn Clock,
    settings: &Settings,
) -> Result<String, Error> {
    let Some(plan) = load::plan(kube, log, settings)? else {
        return Ok("Pass 1: no LINSTOR data, nothing to create".into());
    };
    let plan = plan.complete()?;
    let labelled = label_pvs(kube, &plan)?;
    let existing = Existing::read(kube, settings.page_size)?;
    let mut creator = Creator::new(kube, existing, settings.create_batch, false);
    create_all(&mut creator, &plan, log, clock, settings)?;
    let mut fields: Vec<(&str, String)> = creator
        .created
        .iter()
        .map(|(k, n)| (k.as_str(), n.to_string()))
        .collect();
    let present: usize = creator.present.values().sum();
    fields.push(("alreadyPresent", present.to_string()));
    fields.push(("ownerRefsAdded", creator.owner_refs_added.to_string()));
    fields.push(("pvLabelsChanged", labelled.to_string()));
    fields.push(("volumes", plan.volumes.len().to_string()));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    log.info("Pass 1 done", &fields);
    let total: usize = creator.created.values().sum();
    Ok(format!(
        "Pass 1: {} volumes, {total} objects created, {present} already present",
        plan.volumes.len()
    ))
}

/// Sends the whole plan through `creator`, pools first, then batches of volumes
/// phase by phase (shared with the rehearsal).
pub fn create_all(
    creator: &mut Creator,
    plan: &Plan,
    log: Logger<'_>,
    clock: &dyn Clock,
    settings: &Settings,
) -> Result<(), Error> {
    let total: usize = plan::counts(plan.pools.len(), plan.volumes.iter())
        .values()
        .sum();
    let interval = settings.progress_interval_seconds;
    let mut progress = Progress::new("Pass 1", "objects", total, clock, interval);
    let handled = creator.send(plan.pools.clone())?;
    creator.fail_on_rejections()?;
    progress.add(handled, clock, log);
    let chunk = usize::try_from(settings.create_batch).unwrap_or(1).max(1);
    for volumes in plan.volumes.chunks(chunk) {
        for phase in PHASES {
            let objects: Vec<_> = volumes
                .iter()
                .flat_map(|v| v.objects(phase, &|rvr| creator.replica_uid(rvr)))
                .collect();
            let handled = creator.send(objects)?;
            if phase == plan::Phase::Backing {
                creator.fix_owners(volumes)?;
            }
            creator.fail_on_rejections()?;
            progress.add(handled, clock, log);
        }
    }
    progress.finish(clock, log);
    Ok(())
}

/// Adds or removes the `no-linstor-resource` label on replicated PVs (a PV deleted
/// meanwhile is fine); returns how many changed.
fn label_pvs(kube: Kube<'_>, plan: &Plan) -> Result<usize, Error> {
    let options = PatchOptions {
        subresource: None,
        ignore_missing_object: true,
    };
    let changes = plan
        .pv_labels_add
        .iter()
        .map(|pv| (pv, json!("true")))
        .chain(plan.pv_labels_remove.iter().map(|pv| (pv, json!(null))));
    let mut changed = 0;
    for (pv, value) in changes {
        let target = ObjectRef::cluster("v1", "PersistentVolume", pv);
        let patch = json!({"metadata": {"labels": {NO_LINSTOR_RESOURCE: value}}});
        kube.merge_patch(&target, &patch, &options)
            .during(|| format!("Pass 1: labelling {target}"))?;
        changed += 1;
    }
    Ok(changed)
}
