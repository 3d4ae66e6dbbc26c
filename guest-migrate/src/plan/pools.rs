//! One ReplicatedStoragePool `linstor-auto-<slug>` per LINSTOR pool that a migrated
//! volume's resource group names, holding the LVMVolumeGroup behind the pool on every
//! node. As in the real migrator, a node of such a pool without a matching
//! LVMVolumeGroup (or thin pool) is an error, not a node quietly left out.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::objects::{self, PoolGroup};
use super::{Problem, ProblemKind, naming};
use crate::inventory::Inventory;
use crate::linstor::{Driver, PoolNode};

/// A pool the volumes can refer to.
pub struct Usable {
    pub name: String,
    /// Lowercase node -> its entry in the pool.
    pub groups: BTreeMap<String, PoolGroup>,
}

pub struct Pools {
    /// In creation order.
    pub objects: Vec<Value>,
    /// LINSTOR pool -> its ReplicatedStoragePool, or why there is none.
    pub by_linstor_name: BTreeMap<String, Result<Usable, String>>,
}

/// Plans the pools in `used` (lowercase LINSTOR pool names); every pool that cannot
/// be made adds a problem.
pub fn plan(
    linstor: &BTreeMap<String, Vec<PoolNode>>,
    used: &BTreeSet<String>,
    inventory: &Inventory,
    problems: &mut Vec<Problem>,
) -> Pools {
    let mut pools = Pools {
        objects: Vec::new(),
        by_linstor_name: BTreeMap::new(),
    };
    let mut taken: BTreeMap<String, &str> = BTreeMap::new();
    for pool in used {
        let name = naming::pool(pool);
        let outcome = match (linstor.get(pool), taken.insert(name.clone(), pool)) {
            (_, Some(other)) => Err(format!(
                "LINSTOR pools {other} and {pool} both map to ReplicatedStoragePool {name}"
            )),
            (None, None) => Err(format!(
                "LINSTOR pool {pool} has no LVM or LVM_THIN NodeStorPool entries"
            )),
            (Some(nodes), None) => one(pool, &name, nodes, inventory, problems),
        };
        let outcome = outcome.map(|(object, usable)| {
            pools.objects.push(object);
            usable
        });
        if let Err(why) = &outcome {
            problems.push(Problem::new(ProblemKind::Pool, format!("pool {pool}"), why));
        }
        pools.by_linstor_name.insert(pool.clone(), outcome);
    }
    pools
}

/// The pool object and its entries; `Err` says why the pool cannot be made (node
/// problems are pushed one by one, so each is named).
fn one(
    pool: &str,
    name: &str,
    nodes: &[PoolNode],
    inventory: &Inventory,
    problems: &mut Vec<Problem>,
) -> Result<(Value, Usable), String> {
    let thin = driver_of(nodes)?;
    let mut groups = BTreeMap::new();
    let mut missing = 0;
    for node in nodes {
        match group_of(node, thin, inventory) {
            Ok(group) => {
                groups.insert(node.node.clone(), group);
            }
            Err(why) => {
                missing += 1;
                problems.push(Problem::new(
                    ProblemKind::MissingVolumeGroup,
                    format!("node {}", node.node),
                    format!("LINSTOR pool {pool} on node {}: {why}", node.node),
                ));
            }
        }
    }
    if missing > 0 {
        return Err(format!(
            "{missing} of its nodes have no matching LVMVolumeGroup, so {name} cannot list them"
        ));
    }
    let mut entries: Vec<PoolGroup> = groups.values().cloned().collect();
    entries.sort();
    entries.dedup_by(|a, b| a.name == b.name);
    let object = objects::pool(name, thin, &entries);
    Ok((
        object,
        Usable {
            name: name.to_owned(),
            groups,
        },
    ))
}

/// The node's LVMVolumeGroup (by node and VG name) with its thin pool for thin pools.
fn group_of(node: &PoolNode, thin: bool, inventory: &Inventory) -> Result<PoolGroup, String> {
    let vg = node
        .vg
        .as_deref()
        .ok_or("no StorDriver/StorPoolName property")?;
    let thin_pool = match (thin, node.thin_pool.as_deref()) {
        (true, None) => {
            return Err(format!(
                "StorDriver/StorPoolName {vg:?} names no thin pool (expected vg/thinpool)"
            ));
        }
        (true, Some(tp)) => Some(tp),
        (false, _) => None,
    };
    let group = inventory.volume_group(&node.node, vg).ok_or_else(|| {
        format!(
            "no LVMVolumeGroup with spec.local.nodeName {} and actualVGNameOnTheNode {vg}; \
             create it (sds-node-configurator)",
            node.node
        )
    })?;
    if let Some(tp) = thin_pool
        && !group.thin_pools.iter().any(|t| t == tp)
    {
        return Err(format!(
            "LVMVolumeGroup {} has no thin pool {tp} in spec.thinPools",
            group.name
        ));
    }
    Ok(PoolGroup {
        name: group.name.clone(),
        thin_pool: thin_pool.map(str::to_owned),
    })
}

/// True for thin; one driver per pool, LVM or LVM_THIN only.
fn driver_of(nodes: &[PoolNode]) -> Result<bool, String> {
    let mut thin = None;
    for node in nodes {
        let this = match &node.driver {
            Driver::Thick => false,
            Driver::Thin => true,
            Driver::Other(driver) => {
                return Err(format!(
                    "driver {driver} on node {} is not LVM or LVM_THIN",
                    node.node
                ));
            }
        };
        if thin.is_some_and(|t| t != this) {
            return Err("mixes LVM and LVM_THIN across nodes".into());
        }
        thin = Some(this);
    }
    thin.ok_or_else(|| "has no nodes".into())
}
