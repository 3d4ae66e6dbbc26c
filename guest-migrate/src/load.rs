//! What every pass starts from: the plan recomputed from LINSTOR and the inventory,
//! and a compact index of the objects of the created kinds that already exist.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{During, Error};
use crate::inventory::Inventory;
use crate::linstor;
use crate::names::name_of;
use crate::names::{CREATED_KINDS, DRBDR, LLV, RVR, STORAGE_V1ALPHA1};
use crate::plan::{self, Plan};
use crate::settings::Settings;
use deckhouse_hooks_sdk::Logger;
use deckhouse_hooks_sdk::{Kube, ListQuery};

/// The plan (problems included, not raised), or `None` when the cluster has no
/// LINSTOR database.
pub fn plan(kube: Kube<'_>, log: Logger<'_>, settings: &Settings) -> Result<Option<Plan>, Error> {
    let Some(linstor) = linstor::read(kube, log, settings.page_size)? else {
        return Ok(None);
    };
    let inventory = Inventory::read(kube, settings.page_size)?;
    let plan = plan::plan(&linstor, &inventory);
    for warning in &plan.warnings {
        log.warn(warning, &[]);
    }
    let objects: usize = plan::counts(plan.pools.len(), plan.volumes.iter())
        .values()
        .sum();
    log.info(
        "planned the new control-plane objects",
        &[
            ("pools", &plan.pools.len().to_string()),
            ("volumes", &plan.volumes.len().to_string()),
            ("objects", &objects.to_string()),
            ("problems", &plan.problems.len().to_string()),
        ],
    );
    Ok(Some(plan))
}

/// What Pass 1 needs to know of an existing object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// Kept for ReplicatedVolumeReplicas (the owner of LLVs and DRBDResources).
    pub uid: Option<String>,
    /// Names of its ownerReferences, kept for LLVs and DRBDResources.
    pub owners: Vec<String>,
}

/// The existing objects of every created kind, by kind and name; a few dozen bytes
/// each, never the objects themselves.
#[derive(Debug, Default)]
pub struct Existing {
    by_kind: HashMap<&'static str, HashMap<String, Meta>>,
}

impl Existing {
    /// Lists every created kind, page by page.
    pub fn read(kube: Kube<'_>, page_size: u32) -> Result<Self, Error> {
        let mut existing = Self::default();
        for kind in CREATED_KINDS {
            let entries = existing.by_kind.entry(kind).or_default();
            for page in kube.pages(&ListQuery::new(STORAGE_V1ALPHA1, kind).limit(page_size)) {
                for object in page.during(|| format!("listing {kind}"))? {
                    entries.insert(name_of(&object).to_owned(), meta(kind, &object));
                }
            }
        }
        Ok(existing)
    }

    pub fn get(&self, kind: &str, name: &str) -> Option<&Meta> {
        self.by_kind.get(kind)?.get(name)
    }

    pub fn contains(&self, kind: &str, name: &str) -> bool {
        self.get(kind, name).is_some()
    }

    /// Remembers an object just created.
    pub fn insert(&mut self, kind: &'static str, object: &Value) {
        self.by_kind
            .entry(kind)
            .or_default()
            .insert(name_of(object).to_owned(), meta(kind, object));
    }
}

fn meta(kind: &str, object: &Value) -> Meta {
    let metadata = &object["metadata"];
    Meta {
        uid: (kind == RVR)
            .then(|| metadata["uid"].as_str().map(str::to_owned))
            .flatten(),
        owners: if kind == LLV || kind == DRBDR {
            metadata["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["name"].as_str().map(str::to_owned))
                .collect()
        } else {
            Vec::new()
        },
    }
}
