//! One LINSTOR volume -> a compact [`VolumePlan`], rendered into its objects only when
//! they are created or compared, so a 10,000-volume plan stays a few megabytes.

use std::collections::BTreeMap;

use serde_json::Value;

use super::objects::{self, Backing, VolumeMeta};
use super::pools::{Pools, Usable};
use super::{Problem, ProblemKind, naming};
use crate::inventory::Inventory;
use crate::linstor::{Replica, ReplicaKind, Volume};
use crate::names::{DRBDR, LLV, RV, RVA, RVR};
use crate::quantity::{align_up, format_bytes, value_bytes};

/// One replica as it will be created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaPlan {
    pub node: String,
    pub node_id: u32,
    pub kind: ReplicaKind,
    /// Diskful replicas only.
    pub backing: Option<Backing>,
}

/// Everything needed to render one volume's objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumePlan {
    pub name: String,
    /// Canonical quantity text, 4 KiB aligned.
    pub size: String,
    /// The ReplicatedStoragePool.
    pub pool: String,
    pub secret: Option<String>,
    pub has_pv: bool,
    /// Sorted by node ID.
    pub replicas: Vec<ReplicaPlan>,
    /// Lowercase nodes with a VolumeAttachment (volumes with a PV only).
    pub attached: Vec<String>,
}

/// The phases of a volume's creation, in order: replicas first (their uids go into
/// the ownerRefs), the ReplicatedVolume after everything it adopts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Replicas,
    Backing,
    Volume,
    Attachments,
}

impl Phase {
    /// The phase that creates objects of `kind`.
    pub fn of(kind: &str) -> Option<Self> {
        match kind {
            RVR => Some(Self::Replicas),
            LLV | DRBDR => Some(Self::Backing),
            RV => Some(Self::Volume),
            RVA => Some(Self::Attachments),
            _ => None,
        }
    }
}

pub const PHASES: [Phase; 4] = [
    Phase::Replicas,
    Phase::Backing,
    Phase::Volume,
    Phase::Attachments,
];

impl VolumePlan {
    fn replica_name(&self, replica: &ReplicaPlan) -> String {
        format!("{}-{}", self.name, replica.node_id)
    }

    fn llv_name(&self, replica: &ReplicaPlan, backing: &Backing) -> String {
        naming::llv(
            &self.replica_name(replica),
            &backing.lvg,
            backing.thin_pool.as_deref(),
        )
    }

    /// The objects of one phase. `owner_uid` gives an RVR's uid for the LLV and
    /// DRBDResource ownerRefs; without it (comparisons) no ownerRef is written.
    pub fn objects(&self, phase: Phase, owner_uid: &dyn Fn(&str) -> Option<String>) -> Vec<Value> {
        match phase {
            Phase::Replicas => self
                .replicas
                .iter()
                .map(|r| {
                    let kind = match r.kind {
                        ReplicaKind::Diskful => "Diskful",
                        ReplicaKind::Access => "Access",
                        ReplicaKind::TieBreaker => "TieBreaker",
                    };
                    objects::replica(
                        &self.replica_name(r),
                        &self.name,
                        &r.node,
                        kind,
                        r.backing.as_ref(),
                    )
                })
                .collect(),
            Phase::Backing => {
                let mut out = Vec::new();
                for r in &self.replicas {
                    let rvr = self.replica_name(r);
                    let llv = r.backing.as_ref().map(|b| self.llv_name(r, b));
                    if let (Some(b), Some(llv)) = (&r.backing, &llv) {
                        out.push(objects::llv(llv, &self.name, &self.size, b));
                    }
                    let disk = llv.as_deref().map(|l| (self.size.as_str(), l));
                    out.push(objects::drbd_resource(
                        &rvr, &self.name, &r.node, r.node_id, disk,
                    ));
                    if let Some(uid) = owner_uid(&rvr) {
                        let n = out.len();
                        let from = if llv.is_some() { n - 2 } else { n - 1 };
                        for object in &mut out[from..] {
                            objects::owned_by(object, &rvr, &uid);
                        }
                    }
                }
                out
            }
            Phase::Volume => {
                let (ftt, gmdr) = resilience(self);
                let meta = VolumeMeta {
                    pool: &self.pool,
                    failures_to_tolerate: ftt,
                    guaranteed_minimum_data_redundancy: gmdr,
                    secret: self.secret.as_deref(),
                    has_pv: self.has_pv,
                };
                vec![objects::volume(&self.name, &self.size, &meta)]
            }
            Phase::Attachments => self
                .attached
                .iter()
                .map(|node| {
                    objects::attachment(&naming::attachment(&self.name, node), &self.name, node)
                })
                .collect(),
        }
    }

    /// The (kind, name) of every object, in creation order, without rendering them.
    pub fn names(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = self
            .replicas
            .iter()
            .map(|r| (RVR, self.replica_name(r)))
            .collect();
        for r in &self.replicas {
            if let Some(b) = &r.backing {
                out.push((LLV, self.llv_name(r, b)));
            }
            out.push((DRBDR, self.replica_name(r)));
        }
        out.push((RV, self.name.clone()));
        out.extend(
            self.attached
                .iter()
                .map(|n| (RVA, naming::attachment(&self.name, n))),
        );
        out
    }

    /// Names of the volume's DRBDResources.
    pub fn drbd_resources(&self) -> impl Iterator<Item = String> + '_ {
        self.replicas.iter().map(|r| self.replica_name(r))
    }

    /// (LLV or DRBDResource name, its RVR's name) for every object that needs an ownerRef.
    pub fn owned(&self) -> Vec<(&'static str, String, String)> {
        let mut out = Vec::new();
        for r in &self.replicas {
            let rvr = self.replica_name(r);
            if let Some(b) = &r.backing {
                out.push((LLV, self.llv_name(r, b), rvr.clone()));
            }
            out.push((DRBDR, rvr.clone(), rvr));
        }
        out
    }
}

/// The real migrator's mapping from the counts of Diskful (D) and TieBreaker (TB)
/// replicas, Access replicas not counted: D <= 1 without TB is (0,0), 2D is (1,0),
/// anything else (1,1), the most the controller's Manual mode expresses today.
pub fn ftt_gmdr(diskful: usize, tie_breakers: usize) -> (u8, u8) {
    match (diskful, tie_breakers) {
        (0 | 1, 0) => (0, 0),
        (2, 0) => (1, 0),
        _ => (1, 1),
    }
}

fn resilience(volume: &VolumePlan) -> (u8, u8) {
    let count = |kind| volume.replicas.iter().filter(|r| r.kind == kind).count();
    ftt_gmdr(count(ReplicaKind::Diskful), count(ReplicaKind::TieBreaker))
}

pub struct Context<'a> {
    pub pools: &'a Pools,
    pub inventory: &'a Inventory,
}

/// The volume's plan, or every problem that prevents mapping it.
pub fn plan(volume: &Volume, cx: &Context) -> Result<VolumePlan, Vec<Problem>> {
    let unmappable = |message: String| {
        Problem::new(
            ProblemKind::UnmappableVolume,
            format!("volume {}", volume.name),
            message,
        )
    };
    let size = size_of(volume, cx.inventory).map_err(|p| vec![unmappable(p)])?;
    let (pool, usable) = usable_pool(volume, cx).map_err(|p| vec![unmappable(p)])?;
    let mut problems = Vec::new();
    let mut replicas = Vec::with_capacity(volume.replicas.len());
    for replica in &volume.replicas {
        let backing = match replica.kind {
            ReplicaKind::Diskful => match backing(volume, replica, pool, usable) {
                Ok(b) => Some(b),
                Err(problem) => {
                    problems.push(unmappable(problem));
                    continue;
                }
            },
            ReplicaKind::Access | ReplicaKind::TieBreaker => None,
        };
        replicas.push(ReplicaPlan {
            node: replica.node.clone(),
            node_id: replica.node_id,
            kind: replica.kind,
            backing,
        });
    }
    if problems.is_empty() && !replicas.iter().any(|r| r.backing.is_some()) {
        problems.push(unmappable(format!(
            "volume {}: no diskful replica in LINSTOR, so no data to take over",
            volume.name
        )));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let has_pv = cx.inventory.pvs.contains_key(&volume.name);
    let attached = if has_pv {
        cx.inventory
            .attachments
            .get(&volume.name)
            .map(|nodes| nodes.iter().cloned().collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(VolumePlan {
        name: volume.name.clone(),
        size: format_bytes(size),
        pool: usable.name.clone(),
        secret: volume.secret.clone(),
        has_pv,
        replicas,
        attached,
    })
}

/// Bytes: the PV's capacity if set and non-zero, else LINSTOR's size; rounded up to
/// DRBD's 4 KiB unit.
fn size_of(volume: &Volume, inventory: &Inventory) -> Result<u64, String> {
    let from_pv = match inventory
        .pvs
        .get(&volume.name)
        .and_then(|pv| pv.capacity.as_ref())
    {
        Some(capacity) => value_bytes(capacity).map_err(|e| {
            format!(
                "PersistentVolume {}: spec.capacity.storage: {e}",
                volume.name
            )
        })?,
        None => 0,
    };
    let bytes = if from_pv > 0 {
        from_pv
    } else {
        volume
            .size_kib
            .and_then(|kib| kib.checked_mul(1024))
            .unwrap_or(0)
    };
    if bytes == 0 {
        return Err(format!(
            "volume {}: size unknown or 0 (no PersistentVolume capacity and no LINSTOR \
             VolumeDefinitions size)",
            volume.name
        ));
    }
    Ok(align_up(bytes))
}

/// The resource group's first pool, which the real migrator requires.
fn usable_pool<'p>(volume: &Volume, cx: &Context<'p>) -> Result<(&'p str, &'p Usable), String> {
    let Some(pool) = &volume.group_pool else {
        return Err(format!(
            "volume {}: its LINSTOR resource group names no pool (pool_name)",
            volume.name
        ));
    };
    match cx.pools.by_linstor_name.get_key_value(pool) {
        Some((pool, Ok(usable))) => Ok((pool.as_str(), usable)),
        Some((_, Err(why))) => Err(format!(
            "volume {}: its LINSTOR pool {pool} cannot be migrated: {why}",
            volume.name
        )),
        None => Err(format!(
            "volume {}: LINSTOR pool {pool} was not planned",
            volume.name
        )),
    }
}

/// The pool's entry on a diskful replica's node.
fn backing(
    volume: &Volume,
    replica: &Replica,
    pool: &str,
    usable: &Usable,
) -> Result<Backing, String> {
    let at = || {
        format!(
            "volume {} replica on node {} (node ID {})",
            volume.name, replica.node, replica.node_id
        )
    };
    if let Some(own) = replica.pool.as_deref().filter(|own| *own != pool) {
        return Err(format!(
            "{}: its data lives in LINSTOR pool {own}, but the volume's pool is {pool}",
            at()
        ));
    }
    let group = usable.groups.get(&replica.node).ok_or_else(|| {
        format!(
            "{}: LINSTOR pool {pool} has no entry (and so no LVMVolumeGroup) on this node",
            at()
        )
    })?;
    Ok(Backing {
        lvg: group.name.clone(),
        thin_pool: group.thin_pool.clone(),
    })
}

/// Per-kind counts of a set of plans (for reports).
pub fn counts<'a>(
    pools: usize,
    volumes: impl Iterator<Item = &'a VolumePlan>,
) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    counts.insert(crate::names::RSP, pools);
    for volume in volumes {
        for (kind, _) in volume.names() {
            *counts.entry(kind).or_default() += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ftt_gmdr_follows_the_real_migrators_table() {
        let table = [
            // D, TB -> (FTT, GMDR)
            ((0, 0), (0, 0)),
            ((0, 1), (1, 1)),
            ((0, 2), (1, 1)),
            ((1, 0), (0, 0)),
            ((1, 1), (1, 1)),
            ((1, 2), (1, 1)),
            ((2, 0), (1, 0)),
            ((2, 1), (1, 1)),
            ((2, 2), (1, 1)),
            ((3, 0), (1, 1)),
            ((3, 1), (1, 1)),
            ((4, 0), (1, 1)),
            ((5, 2), (1, 1)),
        ];
        for ((d, tb), expected) in table {
            assert_eq!(ftt_gmdr(d, tb), expected, "{d}D+{tb}TB");
        }
    }
}
