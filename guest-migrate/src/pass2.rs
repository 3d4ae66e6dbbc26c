//! Pass 2: with the new agent and controller running, check once per Job that every
//! planned object exists and still says what LINSTOR says, then hand the volumes over
//! one by one: when a volume's adoption gate opens, lift maintenance on its
//! DRBDResources and remove its adopt annotations. A Job that sees no volume pass the
//! gate for `adoptionTimeoutSeconds` fails, naming every volume still waiting.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;

use crate::adoption::{self, Gate};
use crate::clock::Clock;
use crate::error::{During, Error, all_problems};
use crate::load;
use crate::names::name_of;
use crate::names::{
    ADOPT_RVR, ADOPT_SHARED_SECRET, DRBDR, REPLICATED_VOLUME_LABEL, RV, STORAGE_V1ALPHA1,
};
use crate::plan::{Plan, VolumePlan};
use crate::progress::Progress;
use crate::settings::Settings;
use crate::verify;
use deckhouse_hooks_sdk::Logger;
use deckhouse_hooks_sdk::{Kube, ListQuery, ObjectRef, PatchOptions};

/// What Pass 2 remembers between steps of one Job (a new Job starts afresh).
#[derive(Default)]
pub struct Watch {
    verified: bool,
    /// When a volume last passed the gate (or the watch began).
    last_progress: Option<Duration>,
    adopted: usize,
    progress: Option<Progress>,
}

pub enum Outcome {
    Done(String),
    Wait(u32, String),
}

/// One round: verify (once), then move every volume whose gate is open.
pub fn run(
    kube: Kube<'_>,
    log: Logger<'_>,
    clock: &dyn Clock,
    settings: &Settings,
    watch: &mut Watch,
) -> Result<Outcome, Error> {
    let Some(plan) = load::plan(kube, log, settings)? else {
        return Ok(Outcome::Done(
            "Pass 2: no LINSTOR data, nothing to verify".into(),
        ));
    };
    let plan = plan.complete()?;
    if !watch.verified {
        verify(kube, &plan, settings, log)?;
        watch.verified = true;
    }
    let survey = adoption::survey(kube, &plan, settings.page_size)?;
    let mut adopted = survey.adopted;
    let mut blocked = Vec::new();
    let ready: Vec<&VolumePlan> = survey
        .marked
        .iter()
        .filter(|(_, gate)| matches!(gate, Gate::Open | Gate::Formed))
        .map(|(i, _)| &plan.volumes[*i])
        .collect();
    let mut taken_over = taken_over(kube, &ready, settings.page_size)?;
    for volume in ready {
        let drbds = taken_over.remove(volume.name.as_str()).unwrap_or_default();
        match hand_over(kube, volume, &drbds)? {
            None => adopted += 1,
            Some(why) => blocked.push((volume.name.as_str(), why)),
        }
    }
    let now = clock.elapsed();
    if watch.last_progress.is_none() || adopted > watch.adopted {
        watch.last_progress = Some(now);
        watch.adopted = adopted;
    }
    let interval = settings.progress_interval_seconds;
    let progress = watch.progress.get_or_insert_with(|| {
        Progress::new("Pass 2", "volumes", plan.volumes.len(), clock, interval)
    });
    progress.set(adopted, clock, log);
    if adopted == plan.volumes.len() {
        progress.finish(clock, log);
        return Ok(Outcome::Done(format!(
            "Pass 2: {} volumes verified and adopted, maintenance lifted",
            plan.volumes.len()
        )));
    }
    let mut waiting: Vec<(&str, String)> = survey
        .marked
        .iter()
        .filter_map(|(i, gate)| match gate {
            Gate::Waiting(why) => Some((plan.volumes[*i].name.as_str(), why.clone())),
            Gate::Open | Gate::Formed => None,
        })
        .collect();
    waiting.extend(survey.absent.iter().map(|name| {
        (
            name.as_str(),
            "its ReplicatedVolume does not exist".to_owned(),
        )
    }));
    waiting.extend(blocked);
    let stuck_for = now.saturating_sub(watch.last_progress.unwrap_or(now));
    if stuck_for > Duration::from_secs(settings.adoption_timeout_seconds) {
        let lines: Vec<String> = waiting
            .iter()
            .map(|(name, why)| format!("ReplicatedVolume {name}: {why}"))
            .collect();
        return Err(all_problems(
            &format!(
                "Pass 2: no volume passed the adoption gate for {}s (adoptionTimeoutSeconds); \
                 these keep DRBD maintenance",
                settings.adoption_timeout_seconds
            ),
            &lines,
            "Look at each named ReplicatedVolume's status.datameshTransitions and conditions and at \
             the controller's log; once the controller moves them on, delete the Job so Deckhouse \
             runs it again (volumes already handed over are not touched twice).",
        ));
    }
    let names: Vec<&str> = waiting.iter().take(5).map(|(n, _)| *n).collect();
    let more = waiting.len().saturating_sub(names.len());
    let first_why = waiting.first().map(|(_, why)| why.as_str()).unwrap_or("");
    Ok(Outcome::Wait(
        settings.adoption_poll_seconds.saturating_mul(1000),
        format!(
            "waiting for the controller to adopt {} of {} volumes: {}{} ({})",
            waiting.len(),
            plan.volumes.len(),
            names.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            },
            first_why
        ),
    ))
}

/// Fails naming every object that is missing or differs.
fn verify(kube: Kube<'_>, plan: &Plan, settings: &Settings, log: Logger<'_>) -> Result<(), Error> {
    let comparison = verify::compare(kube, plan, settings.page_size)?;
    let mut mismatches = comparison.differing;
    mismatches.extend(
        comparison
            .missing
            .into_iter()
            .map(|m| format!("{m}: missing")),
    );
    if mismatches.is_empty() {
        let objects: usize = comparison.present.values().sum();
        log.info("Pass 2 verified", &[("objects", &objects.to_string())]);
        return Ok(());
    }
    Err(all_problems(
        "Pass 2: the new control-plane objects disagree with LINSTOR",
        &mismatches,
        "Correct or delete the named objects (Pass 1 recreates deleted ones), then reset ConfigMap \
         d8-sds-replicated-volume/control-plane-migration data.state to not_started and recreate the Job.",
    ))
}

/// Volume -> its labelled DRBDResources as (name, in maintenance).
type TakenOver<'p> = HashMap<&'p str, Vec<(String, bool)>>;

/// The DRBDResources the rvr-controller has taken over, of the given volumes: those
/// labelled `replicated-volume=<volume>`, as (name, in maintenance). One paginated
/// list per round (of every labelled DRBDResource), not one per volume.
fn taken_over<'p>(
    kube: Kube<'_>,
    volumes: &[&'p VolumePlan],
    page_size: u32,
) -> Result<TakenOver<'p>, Error> {
    let mut found: TakenOver = volumes
        .iter()
        .map(|v| (v.name.as_str(), Vec::new()))
        .collect();
    if found.is_empty() {
        return Ok(found);
    }
    let query = ListQuery::new(STORAGE_V1ALPHA1, DRBDR)
        .limit(page_size)
        .labels(REPLICATED_VOLUME_LABEL);
    for page in kube.pages(&query) {
        for drbd in page.during(|| format!("listing {DRBDR} labelled {REPLICATED_VOLUME_LABEL}"))? {
            let volume = drbd["metadata"]["labels"][REPLICATED_VOLUME_LABEL]
                .as_str()
                .unwrap_or("");
            if let Some(entries) = found.get_mut(volume) {
                let maintenance = &drbd["spec"]["maintenance"];
                let in_maintenance = !maintenance.is_null() && maintenance != "";
                entries.push((name_of(&drbd).to_owned(), in_maintenance));
            }
        }
    }
    Ok(found)
}

/// Lifts maintenance on the volume's DRBDResources, then removes the adopt
/// annotations. Only DRBDResources the rvr-controller has taken over (labelled with
/// the volume) are touched, and only once every planned one is: an unlabelled one
/// has no datamesh spec yet. Returns why it cannot proceed yet, if so.
fn hand_over(
    kube: Kube<'_>,
    volume: &VolumePlan,
    labelled: &[(String, bool)],
) -> Result<Option<String>, Error> {
    let unlabelled: Vec<String> = volume
        .drbd_resources()
        .filter(|name| !labelled.iter().any(|(l, _)| l == name))
        .collect();
    if !unlabelled.is_empty() {
        return Ok(Some(format!(
            "adoption gate open, but {DRBDR} {} not yet labelled {REPLICATED_VOLUME_LABEL} by the \
             rvr-controller; maintenance stays until it is",
            unlabelled.join(", ")
        )));
    }
    let options = PatchOptions::default();
    let lift = json!({"spec": {"maintenance": null}});
    for (name, _) in labelled
        .iter()
        .filter(|(_, in_maintenance)| *in_maintenance)
    {
        let target = ObjectRef::cluster(STORAGE_V1ALPHA1, DRBDR, name);
        kube.merge_patch(&target, &lift, &options)
            .during(|| format!("Pass 2: lifting maintenance on {target}"))?;
    }
    let target = ObjectRef::cluster(STORAGE_V1ALPHA1, RV, &volume.name);
    let unmark = json!({"metadata": {"annotations": {ADOPT_RVR: null, ADOPT_SHARED_SECRET: null}}});
    let options = PatchOptions {
        subresource: None,
        ignore_missing_object: true,
    };
    kube.merge_patch(&target, &unmark, &options)
        .during(|| format!("Pass 2: removing the adopt annotations of {target}"))?;
    Ok(None)
}
