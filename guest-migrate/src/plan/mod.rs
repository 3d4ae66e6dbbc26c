//! What the migration must do, computed from LINSTOR and the cluster's inventory alone,
//! so Pass 1 (create), Pass 2 (verify), the rehearsal and the status report agree by
//! construction and a rerun after a crash computes exactly the same set. Volumes are
//! kept compact ([`VolumePlan`]) and rendered into objects only when needed.

mod naming;
mod objects;
mod pools;
mod volumes;

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::error::{Error, all_problems};
use crate::inventory::Inventory;
use crate::linstor::{Linstor, ReplicaKind};

pub use objects::{kind_of, owned_by};
pub use volumes::{PHASES, Phase, VolumePlan, counts, ftt_gmdr};

/// What kind of problem keeps the plan from being carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProblemKind {
    /// A LINSTOR volume that cannot be mapped onto the new objects.
    UnmappableVolume,
    /// A pool's node without the LVMVolumeGroup (or thin pool) behind it.
    MissingVolumeGroup,
    /// A pool that cannot be made.
    Pool,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnmappableVolume => "unmappable-volume",
            Self::MissingVolumeGroup => "missing-volume-group",
            Self::Pool => "pool",
        }
    }
}

/// One problem, naming what it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// `volume pvc-...`, `node worker-1`, `pool pool-a`.
    pub subject: String,
    pub message: String,
}

impl Problem {
    pub fn new(kind: ProblemKind, subject: String, message: impl Into<String>) -> Self {
        Self {
            kind,
            subject,
            message: message.into(),
        }
    }
}

/// Everything to create, in creation order, and what stands in the way.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// ReplicatedStoragePools, created before any volume refers to them.
    pub pools: Vec<Value>,
    /// Sorted by name.
    pub volumes: Vec<VolumePlan>,
    /// PVs of the replicated driver to label `no-linstor-resource` (LINSTOR has no
    /// resource for them) and those to unlabel.
    pub pv_labels_add: Vec<String>,
    pub pv_labels_remove: Vec<String>,
    /// Things that block the migration; Pass 1 writes nothing while any exists.
    pub problems: Vec<Problem>,
    /// Things left out or coerced that do not block it (for the log).
    pub warnings: Vec<String>,
}

impl Plan {
    /// Fails naming every problem, or returns the plan.
    pub fn complete(self) -> Result<Plan, Error> {
        if self.problems.is_empty() {
            return Ok(self);
        }
        let lines: Vec<String> = self.problems.iter().map(|p| p.message.clone()).collect();
        Err(all_problems(
            "Pass 1 cannot map these LINSTOR volumes onto the new control plane",
            &lines,
            "Fix the named objects (LINSTOR data, PersistentVolumes or LVMVolumeGroups), reset the \
             migration state to not_started and rerun the Job.",
        ))
    }

    /// (kind, name) -> index into `volumes`, or `None` for pools: to find the plan of
    /// an object met in a list.
    pub fn index(&self) -> HashMap<(&'static str, String), Option<usize>> {
        let mut index = HashMap::new();
        for pool in &self.pools {
            let name = pool["metadata"]["name"].as_str().unwrap_or("").to_owned();
            index.insert((crate::names::RSP, name), None);
        }
        for (i, volume) in self.volumes.iter().enumerate() {
            for key in volume.names() {
                index.insert(key, Some(i));
            }
        }
        index
    }

    /// The planned object of this kind and name (`at` from [`Plan::index`]), rendering
    /// only the phase that holds the kind.
    pub fn object(&self, at: Option<usize>, kind: &str, name: &str) -> Option<Value> {
        let candidates = match at {
            None => self.pools.clone(),
            Some(i) => self.volumes.get(i)?.objects(Phase::of(kind)?, &|_| None),
        };
        candidates
            .into_iter()
            .find(|o| kind_of(o) == kind && o["metadata"]["name"] == name)
    }
}

/// Computes the plan; problems are collected, not raised, so a rehearsal can list
/// them all. Call [`Plan::complete`] before writing anything.
pub fn plan(linstor: &Linstor, inventory: &Inventory) -> Plan {
    let mut problems = Vec::new();
    let mut warnings: Vec<String> = linstor
        .skipped
        .iter()
        .map(|s| format!("resource {s}: skipped"))
        .collect();
    let used: BTreeSet<String> = linstor
        .volumes
        .iter()
        .filter_map(|v| v.group_pool.clone())
        .collect();
    let pools = pools::plan(&linstor.pools, &used, inventory, &mut problems);
    let context = volumes::Context {
        pools: &pools,
        inventory,
    };
    let mut volumes = Vec::with_capacity(linstor.volumes.len());
    for volume in &linstor.volumes {
        match volumes::plan(volume, &context) {
            Ok(planned) => {
                warnings.extend(coerced(&planned));
                volumes.push(planned);
            }
            Err(mut found) => problems.append(&mut found),
        }
    }
    let (pv_labels_add, pv_labels_remove) = pv_labels(linstor, inventory);
    warnings.extend(pv_labels_add.iter().map(|pv| {
        format!(
            "PersistentVolume {pv}: no LINSTOR resource, so nothing to migrate for it (labelled)"
        )
    }));
    Plan {
        pools: pools.objects,
        volumes,
        pv_labels_add,
        pv_labels_remove,
        problems,
        warnings,
    }
}

/// The real migrator's warning for layouts its FTT/GMDR mapping caps at (1,1).
fn coerced(volume: &VolumePlan) -> Option<String> {
    let count = |kind| volume.replicas.iter().filter(|r| r.kind == kind).count();
    let (diskful, tie_breakers) = (count(ReplicaKind::Diskful), count(ReplicaKind::TieBreaker));
    (diskful > 3 || tie_breakers > 1).then(|| {
        format!(
            "volume {}: {diskful} diskful and {tie_breakers} tie-breaker replicas exceed what Manual \
             mode expresses; failuresToTolerate and guaranteedMinimumDataRedundancy capped at 1",
            volume.name
        )
    })
}

/// Replicated PVs LINSTOR has no resource rows for get the `no-linstor-resource`
/// label; those that have rows lose it. Only changes are listed.
fn pv_labels(linstor: &Linstor, inventory: &Inventory) -> (Vec<String>, Vec<String>) {
    let (mut add, mut remove) = (Vec::new(), Vec::new());
    for (name, pv) in &inventory.pvs {
        match (linstor.with_resources.contains(name), pv.orphan_label) {
            (false, false) => add.push(name.clone()),
            (true, true) => remove.push(name.clone()),
            _ => {}
        }
    }
    (add, remove)
}
