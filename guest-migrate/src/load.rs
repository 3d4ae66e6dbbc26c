//! What both passes start from: the plan recomputed from LINSTOR and the inventory,
//! and the objects of the created kinds that already exist.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{During, Error};
use crate::inventory::Inventory;
use crate::kube::{Cluster, ListQuery, name_of};
use crate::linstor;
use crate::log::{Level, Log};
use crate::names::{CREATED_KINDS, STORAGE_V1ALPHA1};
use crate::plan::{self, Plan};

/// (kind, name) -> object, for every kind the migration creates.
pub type Existing = BTreeMap<(String, String), Value>;

/// The plan, or `None` when the cluster has no LINSTOR database.
pub fn plan(cluster: &mut dyn Cluster, log: &mut dyn Log) -> Result<Option<Plan>, Error> {
    let Some(linstor) = linstor::read(cluster, log)? else {
        return Ok(None);
    };
    let inventory = Inventory::read(cluster)?;
    let plan = plan::plan(&linstor, &inventory)?;
    for warning in &plan.warnings {
        log.emit(Level::Warn, warning, &[]);
    }
    let total: usize = plan.objects().count();
    log.emit(
        Level::Info,
        "planned the new control-plane objects",
        &[
            ("pools", plan.pools.len().to_string()),
            ("volumes", plan.volumes.len().to_string()),
            ("objects", total.to_string()),
        ],
    );
    Ok(Some(plan))
}

/// Lists every object of the kinds the migration creates.
pub fn existing(cluster: &mut dyn Cluster) -> Result<Existing, Error> {
    let mut existing = Existing::new();
    for kind in CREATED_KINDS {
        let objects = cluster
            .list(&ListQuery::all(STORAGE_V1ALPHA1, kind))
            .during(|| format!("listing {kind}"))?;
        for object in objects {
            existing.insert((kind.to_owned(), name_of(&object).to_owned()), object);
        }
    }
    Ok(existing)
}

/// The (kind, name) key of a planned object.
pub fn key(object: &Value) -> (String, String) {
    (plan::kind_of(object).to_owned(), name_of(object).to_owned())
}
