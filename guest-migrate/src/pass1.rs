//! Pass 1: create the new control-plane objects for every LINSTOR volume while LINSTOR
//! is stopped. Creates are if-absent and the plan is recomputed on every run, so a
//! run killed anywhere is finished by the next one.

use std::collections::BTreeMap;

use crate::error::{During, Error};
use crate::kube::{Cluster, name_of};
use crate::load;
use crate::log::{Level, Log};
use crate::plan::kind_of;

/// Volumes between two progress lines.
const PROGRESS_EVERY: usize = 250;

/// Creates what is missing; returns a one-line summary.
pub fn run(cluster: &mut dyn Cluster, log: &mut dyn Log) -> Result<String, Error> {
    let Some(plan) = load::plan(cluster, log)? else {
        return Ok("Pass 1: no LINSTOR data, nothing to create".into());
    };
    let existing = load::existing(cluster)?;
    let mut created: BTreeMap<String, usize> = BTreeMap::new();
    let mut present = 0usize;
    let batches = std::iter::once(&plan.pools).chain(plan.volumes.iter());
    for (done, batch) in batches.enumerate() {
        for object in batch {
            if existing.contains_key(&load::key(object)) {
                present += 1;
                continue;
            }
            cluster
                .create(object, true)
                .during(|| format!("Pass 1: creating {} {}", kind_of(object), name_of(object)))?;
            *created.entry(kind_of(object).to_owned()).or_default() += 1;
        }
        if done > 0 && done % PROGRESS_EVERY == 0 {
            log.emit(
                Level::Info,
                "Pass 1 progress",
                &[("volumes", format!("{done}/{}", plan.volumes.len()))],
            );
        }
    }
    let mut fields: Vec<(&str, String)> = created
        .iter()
        .map(|(k, n)| (k.as_str(), n.to_string()))
        .collect();
    fields.push(("alreadyPresent", present.to_string()));
    fields.push(("volumes", plan.volumes.len().to_string()));
    log.emit(Level::Info, "Pass 1 done", &fields);
    let total: usize = created.values().sum();
    Ok(format!(
        "Pass 1: {} volumes, {total} objects created, {present} already present",
        plan.volumes.len()
    ))
}
