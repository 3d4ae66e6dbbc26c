//! Compares the objects that exist with the plan, kind by kind and page by page: which
//! planned objects exist, which are missing, and which differ in a spec field the
//! migration wrote. Pass 2 fails on any difference; the rehearsal reports existing
//! objects that differ as name collisions; the status counts what exists.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use crate::compare::differences;
use crate::error::{During, Error};
use crate::names::name_of;
use crate::names::{CREATED_KINDS, DRBDR, STORAGE_V1ALPHA1};
use crate::plan::Plan;
use deckhouse_hooks_sdk::{Kube, ListQuery};

#[derive(Debug, Default)]
pub struct Comparison {
    /// `kind name: spec.field is x, expected y`, in listing order.
    pub differing: Vec<String>,
    /// `kind name`, sorted.
    pub missing: Vec<String>,
    /// Planned objects that exist, per kind.
    pub present: BTreeMap<String, usize>,
}

pub fn compare(kube: Kube<'_>, plan: &Plan, page_size: u32) -> Result<Comparison, Error> {
    let index = plan.index();
    let mut seen: HashSet<(&'static str, String)> = HashSet::with_capacity(index.len());
    let mut comparison = Comparison::default();
    for kind in CREATED_KINDS {
        for page in kube.pages(&ListQuery::new(STORAGE_V1ALPHA1, kind).limit(page_size)) {
            for actual in page.during(|| format!("listing {kind}"))? {
                let name = name_of(&actual);
                let key = (kind, name.to_owned());
                let Some(at) = index.get(&key) else {
                    continue;
                };
                *comparison.present.entry(kind.to_owned()).or_default() += 1;
                if let Some(planned) = plan.object(*at, kind, name) {
                    for difference in differences(&compared_spec(&planned), &actual["spec"]) {
                        comparison
                            .differing
                            .push(format!("{kind} {name}: {difference}"));
                    }
                }
                seen.insert(key);
            }
        }
    }
    let mut missing: Vec<String> = index
        .keys()
        .filter(|key| !seen.contains(*key))
        .map(|(kind, name)| format!("{kind} {name}"))
        .collect();
    missing.sort();
    comparison.missing = missing;
    Ok(comparison)
}

/// The planned spec minus `maintenance`, which Pass 2 itself clears.
fn compared_spec(object: &Value) -> Value {
    let mut spec = object["spec"].clone();
    if object["kind"] == DRBDR
        && let Some(fields) = spec.as_object_mut()
    {
        fields.remove("maintenance");
    }
    spec
}
