//! One ReplicatedStoragePool `linstor-auto-<pool>` per LINSTOR storage pool, holding
//! the LVMVolumeGroups that back the pool on each node.

use std::collections::BTreeMap;

use serde_json::Value;

use super::objects::{self, PoolGroup};
use crate::inventory::Inventory;
use crate::linstor::{Driver, PoolNode};
use crate::names::POOL_PREFIX;

/// A pool the volumes can refer to.
pub struct Usable {
    pub name: String,
    pub thin: bool,
}

pub struct Pools {
    /// In creation order.
    pub objects: Vec<Value>,
    /// LINSTOR pool -> its ReplicatedStoragePool, or why there is none.
    pub by_linstor_name: BTreeMap<String, Result<Usable, String>>,
}

pub fn plan(
    linstor: &BTreeMap<String, Vec<PoolNode>>,
    inventory: &Inventory,
    warnings: &mut Vec<String>,
) -> Pools {
    let mut pools = Pools {
        objects: Vec::new(),
        by_linstor_name: BTreeMap::new(),
    };
    let mut taken: BTreeMap<String, &str> = BTreeMap::new();
    for (pool, nodes) in linstor {
        let name = format!("{POOL_PREFIX}{}", dns_label(pool));
        let outcome = match taken.insert(name.clone(), pool) {
            Some(other) => Err(format!(
                "LINSTOR pools {other} and {pool} both map to ReplicatedStoragePool {name}"
            )),
            None => one(pool, &name, nodes, inventory, warnings),
        };
        let outcome = outcome.map(|(object, thin)| {
            pools.objects.push(object);
            Usable { name, thin }
        });
        if let Err(why) = &outcome {
            warnings.push(format!("LINSTOR pool {pool}: not migrated: {why}"));
        }
        pools.by_linstor_name.insert(pool.clone(), outcome);
    }
    pools
}

/// The pool object and whether it is thin; `Err` says why the pool cannot be made.
fn one(
    pool: &str,
    name: &str,
    nodes: &[PoolNode],
    inventory: &Inventory,
    warnings: &mut Vec<String>,
) -> Result<(Value, bool), String> {
    let thin = driver_of(nodes)?;
    let mut groups: Vec<PoolGroup> = Vec::new();
    for node in nodes {
        match group_of(node, thin, inventory) {
            Ok(group) => groups.push(group),
            Err(why) => warnings.push(format!(
                "LINSTOR pool {pool} on node {}: {why}; node left out of {name}",
                node.node
            )),
        }
    }
    if groups.is_empty() {
        return Err("no LVMVolumeGroup matches any of its nodes".into());
    }
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    groups.dedup_by(|a, b| a.name == b.name);
    Ok((objects::pool(name, thin, &groups), thin))
}

/// The node's LVMVolumeGroup (by node and VG name) with its thin pool for thin pools.
fn group_of(node: &PoolNode, thin: bool, inventory: &Inventory) -> Result<PoolGroup, String> {
    let vg = node
        .vg
        .as_deref()
        .ok_or("no StorDriver/StorPoolName property")?;
    if thin && node.thin_pool.is_none() {
        return Err(format!(
            "StorDriver/StorPoolName {vg:?} names no thin pool (expected vg/thinpool)"
        ));
    }
    let group = inventory
        .volume_group(&node.node, vg)
        .ok_or_else(|| format!("no LVMVolumeGroup for VG {vg:?}"))?;
    Ok(PoolGroup {
        name: group.name.clone(),
        thin_pool: if thin { node.thin_pool.clone() } else { None },
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

/// A pool name as a Kubernetes name: lowercase, anything but [a-z0-9-.] becomes `-`.
fn dns_label(pool: &str) -> String {
    pool.chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}
