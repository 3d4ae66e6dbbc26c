//! The objects the migration must create, computed from LINSTOR and the cluster's
//! inventory alone, so Pass 1 (create) and Pass 2 (verify) agree by construction and
//! a re-run after a crash computes exactly the same set.

mod objects;
mod pools;
mod volumes;

use serde_json::Value;

use crate::error::{Error, all_problems};
use crate::inventory::Inventory;
use crate::linstor::Linstor;

pub use objects::kind_of;

/// Everything to create, in creation order.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// ReplicatedStoragePools, created before any volume refers to them.
    pub pools: Vec<Value>,
    /// Per volume: LLVs, DRBDResources, RVRs, the RV, RVAs (in that order).
    pub volumes: Vec<Vec<Value>>,
    /// Things left out that do not block the migration (for the log).
    pub warnings: Vec<String>,
}

impl Plan {
    /// Every object, pools first.
    pub fn objects(&self) -> impl Iterator<Item = &Value> {
        self.pools.iter().chain(self.volumes.iter().flatten())
    }
}

/// Computes the plan; every problem found is reported in one error.
pub fn plan(linstor: &Linstor, inventory: &Inventory) -> Result<Plan, Error> {
    let mut problems = Vec::new();
    let mut warnings = linstor
        .skipped
        .iter()
        .map(|s| format!("resource {s}: skipped"))
        .collect::<Vec<_>>();
    let pools = pools::plan(&linstor.pools, inventory, &mut warnings);
    let mut volumes = Vec::with_capacity(linstor.volumes.len());
    for volume in &linstor.volumes {
        let context = volumes::Context {
            pools: &pools,
            linstor_pools: &linstor.pools,
            inventory,
        };
        match volumes::plan(volume, &context) {
            Ok(objects) => volumes.push(objects),
            Err(mut found) => problems.append(&mut found),
        }
    }
    warnings.extend(orphan_volumes(linstor, inventory));
    if !problems.is_empty() {
        return Err(all_problems(
            "Pass 1 cannot map these LINSTOR volumes onto the new control plane",
            &problems,
            "Fix the named objects (LINSTOR data, PersistentVolumes or LVMVolumeGroups), reset the \
             migration state to not_started and rerun the Job.",
        ));
    }
    Ok(Plan {
        pools: pools.objects,
        volumes,
        warnings,
    })
}

/// PVs of the replicated driver that LINSTOR knows nothing about: nothing to take over,
/// but an operator should hear of them.
fn orphan_volumes(linstor: &Linstor, inventory: &Inventory) -> Vec<String> {
    let known: std::collections::BTreeSet<&str> =
        linstor.volumes.iter().map(|v| v.name.as_str()).collect();
    inventory
        .csi_volumes
        .iter()
        .filter(|pv| !known.contains(pv.as_str()))
        .map(|pv| {
            format!("PersistentVolume {pv}: no LINSTOR resource, so nothing to migrate for it")
        })
        .collect()
}
