//! One LINSTOR volume -> its LVMLogicalVolumes, DRBDResources, ReplicatedVolumeReplicas,
//! ReplicatedVolume and ReplicatedVolumeAttachments, in creation order.

use std::collections::BTreeMap;

use serde_json::Value;

use super::objects::{self, Backing, Manual};
use super::pools::{Pools, Usable};
use crate::inventory::Inventory;
use crate::linstor::{PoolNode, Replica, ReplicaKind, Volume};
use crate::quantity::{align_up, format_bytes, value_bytes};

/// The most simultaneous attachments a ReplicatedVolume allows.
const MAX_ATTACHMENTS: usize = 32;

pub struct Context<'a> {
    pub pools: &'a Pools,
    pub linstor_pools: &'a BTreeMap<String, Vec<PoolNode>>,
    pub inventory: &'a Inventory,
}

/// The volume's objects, or every problem that prevents mapping it.
pub fn plan(volume: &Volume, cx: &Context) -> Result<Vec<Value>, Vec<String>> {
    let size = format_bytes(size_of(volume, cx.inventory).map_err(|p| vec![p])?);
    let pool = pool_of(volume).map_err(|p| vec![p])?;
    let usable = usable_pool(volume, &pool, cx).map_err(|p| vec![p])?;
    let mut problems = Vec::new();
    let (mut llvs, mut drbds, mut rvrs) = (Vec::new(), Vec::new(), Vec::new());
    for replica in &volume.replicas {
        let name = format!("{}-{}", volume.name, replica.node_id);
        let (kind, backing) = match replica.kind {
            ReplicaKind::Access => ("Access", None),
            ReplicaKind::TieBreaker => ("TieBreaker", None),
            ReplicaKind::Diskful => match backing(volume, replica, &pool, usable, cx) {
                Ok(b) => ("Diskful", Some(b)),
                Err(problem) => {
                    problems.push(problem);
                    continue;
                }
            },
        };
        if let Some(b) = &backing {
            llvs.push(objects::llv(&name, &volume.name, &size, b));
        }
        let disk = backing.as_ref().map(|_| (size.as_str(), name.as_str()));
        drbds.push(objects::drbd_resource(
            &name,
            &volume.name,
            &replica.node,
            replica.node_id,
            disk,
        ));
        rvrs.push(objects::replica(
            &name,
            &volume.name,
            &replica.node,
            kind,
            backing.as_ref(),
        ));
    }
    let diskful = llvs.len();
    if diskful == 0 && problems.is_empty() {
        problems.push(format!(
            "volume {}: no diskful replica in LINSTOR, so no data to take over",
            volume.name
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let attached = cx.inventory.attachments.get(&volume.name);
    let manual = resilience(&usable.name, diskful, attached.map_or(0, |a| a.len()));
    let mut out = llvs;
    out.append(&mut drbds);
    out.append(&mut rvrs);
    out.push(objects::volume(&volume.name, &size, &manual));
    out.extend(
        attached
            .into_iter()
            .flatten()
            .map(|node| objects::attachment(&volume.name, node)),
    );
    Ok(out)
}

/// Bytes: the PV's capacity, else LINSTOR's size; rounded up to DRBD's 4 KiB unit.
fn size_of(volume: &Volume, inventory: &Inventory) -> Result<u64, String> {
    let bytes = match inventory.capacities.get(&volume.name) {
        Some(capacity) => value_bytes(capacity).map_err(|e| {
            format!(
                "PersistentVolume {}: spec.capacity.storage: {e}",
                volume.name
            )
        })?,
        None => volume
            .size_kib
            .and_then(|kib| kib.checked_mul(1024))
            .ok_or_else(|| {
                format!(
                    "volume {}: no PersistentVolume and no LINSTOR VolumeDefinitions size",
                    volume.name
                )
            })?,
    };
    if bytes == 0 {
        return Err(format!("volume {}: size is 0", volume.name));
    }
    Ok(align_up(bytes))
}

/// The resource group's pool, else the one pool all diskful replicas are in.
fn pool_of(volume: &Volume) -> Result<String, String> {
    if let Some(pool) = &volume.group_pool {
        return Ok(pool.clone());
    }
    let mut pools = volume
        .replicas
        .iter()
        .filter(|r| r.kind == ReplicaKind::Diskful)
        .map(|r| r.pool.as_deref());
    let first = pools.next().flatten();
    match first {
        Some(pool) if pools.all(|p| p == Some(pool)) => Ok(pool.to_owned()),
        _ => Err(format!(
            "volume {}: its resource group names no pool and its diskful replicas do not share one",
            volume.name
        )),
    }
}

fn usable_pool<'p>(volume: &Volume, pool: &str, cx: &Context<'p>) -> Result<&'p Usable, String> {
    match cx.pools.by_linstor_name.get(pool) {
        Some(Ok(usable)) => Ok(usable),
        Some(Err(why)) => Err(format!(
            "volume {}: its LINSTOR pool {pool} cannot be migrated: {why}",
            volume.name
        )),
        None => Err(format!(
            "volume {}: LINSTOR pool {pool} has no NodeStorPool entries",
            volume.name
        )),
    }
}

/// The LVMVolumeGroup (and thin pool) under a diskful replica.
fn backing<'c>(
    volume: &Volume,
    replica: &Replica,
    pool: &str,
    usable: &Usable,
    cx: &Context<'c>,
) -> Result<Backing<'c>, String> {
    let at = || {
        format!(
            "volume {} replica on node {} (node ID {})",
            volume.name, replica.node, replica.node_id
        )
    };
    if let Some(own) = replica.pool.as_deref().filter(|own| *own != pool) {
        return Err(format!(
            "{}: lives in pool {own}, but the volume's pool is {pool}",
            at()
        ));
    }
    let node = cx
        .linstor_pools
        .get(pool)
        .and_then(|nodes| nodes.iter().find(|n| n.node == replica.node));
    let node =
        node.ok_or_else(|| format!("{}: LINSTOR pool {pool} has no entry for this node", at()))?;
    let vg = node.vg.as_deref().ok_or_else(|| {
        format!(
            "{}: pool {pool} has no StorDriver/StorPoolName on this node",
            at()
        )
    })?;
    let group = cx.inventory.volume_group(&replica.node, vg).ok_or_else(|| {
        format!(
            "{}: no LVMVolumeGroup on node {} with actualVGNameOnTheNode {vg}; create it (sds-node-configurator)",
            at(),
            replica.node
        )
    })?;
    let thin_pool = match (usable.thin, node.thin_pool.as_deref()) {
        (true, None) => {
            return Err(format!(
                "{}: thin pool {pool} names no thin pool for VG {vg}",
                at()
            ));
        }
        (true, thin) => thin,
        (false, _) => None,
    };
    Ok(Backing {
        lvg: &group.name,
        thin_pool,
    })
}

/// Diskful replicas = FTT + GMDR + 1 with |FTT - GMDR| <= 1 (both at most 2): one
/// disk tolerates nothing, two tolerate one failure, three also keep a second copy.
fn resilience(pool: &str, diskful: usize, attachments: usize) -> Manual<'_> {
    let diskful = u32::try_from(diskful).unwrap_or(u32::MAX).max(1);
    Manual {
        pool,
        failures_to_tolerate: (diskful / 2).min(2),
        guaranteed_minimum_data_redundancy: ((diskful - 1) / 2).min(2),
        max_attachments: attachments.clamp(1, MAX_ATTACHMENTS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resilience_follows_diskful_count() {
        let pairs: Vec<(u32, u32)> = (1..=6)
            .map(|d| resilience("p", d, 0))
            .map(|m| (m.failures_to_tolerate, m.guaranteed_minimum_data_redundancy))
            .collect();
        assert_eq!(pairs, [(0, 0), (1, 0), (1, 1), (2, 1), (2, 2), (2, 2)]);
        assert_eq!(resilience("p", 2, 0).max_attachments, 1);
        assert_eq!(resilience("p", 2, 2).max_attachments, 2);
    }
}
