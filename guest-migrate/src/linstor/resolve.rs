//! Joins LINSTOR's tables into volumes with replicas, and pools with their per-node
//! volume groups. All names come out lowercase, as Kubernetes names them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::model::{Tables, is_snapshot};
use super::pools::{PoolNode, pools};
use crate::error::{Error, all_problems};
use crate::names::MAX_SHARED_SECRET;

/// `resource_flags` of a diskful replica.
const FLAGS_DISKFUL: u64 = 0;
/// DISKLESS | DRBD_DISKLESS: a diskless replica a node attaches through.
const FLAGS_DISKLESS: u64 = 260;
/// DISKLESS | DRBD_DISKLESS | TIE_BREAKER.
const FLAGS_TIE_BREAKER: u64 = 388;

/// What a replica holds, read from its `resource_flags`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaKind {
    Diskful,
    Access,
    TieBreaker,
}

/// One LINSTOR resource on one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replica {
    pub node: String,
    pub node_id: u32,
    pub kind: ReplicaKind,
    /// The storage pool its data lives in, when LINSTOR recorded one.
    pub pool: Option<String>,
}

/// One LINSTOR resource definition (one PV).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Volume {
    pub name: String,
    /// The first pool of its resource group.
    pub group_pool: Option<String>,
    pub size_kib: Option<u64>,
    /// LINSTOR's DRBD shared secret (LayerDrbdResourceDefinitions); None when empty.
    pub secret: Option<String>,
    /// Sorted by node ID.
    pub replicas: Vec<Replica>,
}

/// The resolved database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Linstor {
    /// Diskful storage pools by lowercase name; nodes sorted by name.
    pub pools: BTreeMap<String, Vec<PoolNode>>,
    /// Sorted by name.
    pub volumes: Vec<Volume>,
    /// Resource definitions left out, with why (for the log).
    pub skipped: Vec<String>,
    /// Lowercase names that have any Resources row (snapshots included, as the real
    /// migrator counts them): which PVs LINSTOR still has data for.
    pub with_resources: BTreeSet<String>,
}

/// Resolves the tables; every inconsistency is collected and reported together.
pub fn resolve(tables: &Tables) -> Result<Linstor, Error> {
    let mut problems = Vec::new();
    let pools = pools(tables);
    let index = Index::new(tables);
    let mut volumes = Vec::new();
    let mut skipped = Vec::new();
    for definition in &tables.resource_definitions {
        let name = &definition.resource_name;
        let group_pool = definition
            .resource_group_name
            .as_deref()
            .and_then(|g| index.group_pools.get(g))
            .cloned();
        let group_pool = match group_pool {
            Some(Err(problem)) => {
                problems.push(problem);
                continue;
            }
            Some(Ok(pool)) => pool,
            None => None,
        };
        match volume(&index, name, group_pool, &mut problems) {
            Some(volume) if volume.replicas.is_empty() => {
                skipped.push(format!("{}: no replicas in LINSTOR", volume.name));
            }
            Some(volume) => volumes.push(volume),
            None => {}
        }
    }
    if !problems.is_empty() {
        return Err(all_problems(
            "the LINSTOR database cannot be migrated as it is",
            &problems,
            "Fix these in LINSTOR (or its custom resources), reset the migration state to not_started and rerun the Job.",
        ));
    }
    volumes.sort_by(|a, b| a.name.cmp(&b.name));
    let with_resources = tables
        .resources
        .iter()
        .map(|r| r.resource_name.to_lowercase())
        .collect();
    Ok(Linstor {
        pools,
        volumes,
        skipped,
        with_resources,
    })
}

/// Lookups over the tables, keyed by LINSTOR's UPPERCASE names.
struct Index<'t> {
    group_pools: HashMap<&'t str, Result<Option<String>, String>>,
    sizes: HashMap<&'t str, Vec<(i64, u64)>>,
    resources: HashMap<&'t str, Vec<(&'t str, u64)>>,
    drbd_ids: HashMap<(&'t str, &'t str), i64>,
    storage_ids: HashMap<(&'t str, &'t str), i64>,
    node_ids: HashMap<i64, i64>,
    storage_pools: HashMap<i64, &'t str>,
    secrets: HashMap<&'t str, Option<&'t str>>,
}

impl<'t> Index<'t> {
    fn new(tables: &'t Tables) -> Self {
        let mut index = Index {
            group_pools: tables
                .resource_groups
                .iter()
                .map(|g| {
                    (
                        g.resource_group_name.as_str(),
                        first_pool(&g.resource_group_name, g.pool_name.as_deref()),
                    )
                })
                .collect(),
            sizes: HashMap::new(),
            secrets: tables
                .layer_drbd_resource_definitions
                .iter()
                .filter(|d| !is_snapshot(&d.snapshot_name))
                .map(|d| (d.resource_name.as_str(), d.secret.as_deref()))
                .collect(),
            resources: HashMap::new(),
            drbd_ids: HashMap::new(),
            storage_ids: HashMap::new(),
            node_ids: tables
                .layer_drbd_resources
                .iter()
                .map(|d| (d.layer_resource_id, d.node_id))
                .collect(),
            storage_pools: tables
                .layer_storage_volumes
                .iter()
                .filter(|v| v.vlm_nr == 0)
                .map(|v| (v.layer_resource_id, v.stor_pool_name.as_str()))
                .collect(),
        };
        for v in &tables.volume_definitions {
            index
                .sizes
                .entry(v.resource_name.as_str())
                .or_default()
                .push((v.vlm_nr, v.vlm_size));
        }
        for r in tables
            .resources
            .iter()
            .filter(|r| !is_snapshot(&r.snapshot_name))
        {
            index
                .resources
                .entry(r.resource_name.as_str())
                .or_default()
                .push((r.node_name.as_str(), r.resource_flags));
        }
        for id in tables
            .layer_resource_ids
            .iter()
            .filter(|l| !is_snapshot(&l.snapshot_name))
        {
            let key = (id.resource_name.as_str(), id.node_name.as_str());
            match id.layer_resource_kind.as_str() {
                "DRBD" => index.drbd_ids.insert(key, id.layer_resource_id),
                "STORAGE" => index.storage_ids.insert(key, id.layer_resource_id),
                _ => None,
            };
        }
        index
    }
}

/// The first entry of a resource group's `pool_name` (a JSON list in a string).
fn first_pool(group: &str, pool_name: Option<&str>) -> Result<Option<String>, String> {
    let Some(text) = pool_name.filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    let pools: Vec<String> = serde_json::from_str(text).map_err(|e| {
        format!(
            "LINSTOR ResourceGroups {group}: pool_name {text:?} is not a JSON list of names ({e})"
        )
    })?;
    Ok(pools.first().map(|p| p.to_lowercase()))
}

fn volume(
    index: &Index,
    name: &str,
    group_pool: Option<String>,
    problems: &mut Vec<String>,
) -> Option<Volume> {
    let lower = name.to_lowercase();
    let sizes = index.sizes.get(name).map(Vec::as_slice).unwrap_or_default();
    if sizes.iter().any(|(nr, _)| *nr != 0) {
        problems.push(format!(
            "LINSTOR resource {lower}: has more than one volume; only volume 0 (as CSI creates) is supported"
        ));
        return None;
    }
    let mut replicas = Vec::new();
    for (node, flags) in index
        .resources
        .get(name)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        match replica(index, name, node, *flags) {
            Ok(r) => replicas.push(r),
            Err(problem) => problems.push(problem),
        }
    }
    replicas.sort_by_key(|r| r.node_id);
    let duplicate = replicas.windows(2).find(|w| w[0].node_id == w[1].node_id);
    if let Some(pair) = duplicate {
        problems.push(format!(
            "LINSTOR resource {lower}: nodes {} and {} share DRBD node ID {}",
            pair[0].node, pair[1].node, pair[0].node_id
        ));
        return None;
    }
    if replicas.is_empty() {
        // Skipped by the caller; it has nothing to adopt, so no secret is needed.
        return Some(Volume {
            name: lower,
            group_pool,
            size_kib: None,
            secret: None,
            replicas,
        });
    }
    let secret = match index.secrets.get(name) {
        None => {
            problems.push(format!(
                "LINSTOR resource {lower}: no LayerDrbdResourceDefinitions row, so its DRBD shared \
                 secret is unknown (the new controller would generate another one)"
            ));
            return None;
        }
        Some(secret) => secret.filter(|s| !s.is_empty()),
    };
    if let Some(secret) = secret.filter(|s| s.len() > MAX_SHARED_SECRET) {
        problems.push(format!(
            "LINSTOR resource {lower}: DRBD shared secret is {} characters; the new controller \
             accepts at most {MAX_SHARED_SECRET}",
            secret.len()
        ));
        return None;
    }
    Some(Volume {
        name: lower,
        group_pool,
        size_kib: sizes.first().map(|(_, size)| *size),
        secret: secret.map(str::to_owned),
        replicas,
    })
}

fn replica(index: &Index, resource: &str, node: &str, flags: u64) -> Result<Replica, String> {
    let at = || {
        format!(
            "LINSTOR resource {} on node {}",
            resource.to_lowercase(),
            node.to_lowercase()
        )
    };
    let kind = match flags {
        FLAGS_DISKFUL => ReplicaKind::Diskful,
        FLAGS_DISKLESS => ReplicaKind::Access,
        FLAGS_TIE_BREAKER => ReplicaKind::TieBreaker,
        other => {
            return Err(format!(
                "{}: resource_flags {other} (expected 0 diskful, 260 diskless or 388 tie-breaker); \
                 finish or undo the pending LINSTOR operation first",
                at()
            ));
        }
    };
    let node_id = index
        .drbd_ids
        .get(&(resource, node))
        .and_then(|id| index.node_ids.get(id))
        .ok_or_else(|| {
            format!(
                "{}: no DRBD node ID (LayerResourceIds kind DRBD -> LayerDrbdResources)",
                at()
            )
        })?;
    let node_id = u32::try_from(*node_id)
        .ok()
        .filter(|id| *id <= 31)
        .ok_or_else(|| format!("{}: DRBD node ID {node_id} is outside 0..31", at()))?;
    let pool = index
        .storage_ids
        .get(&(resource, node))
        .and_then(|id| index.storage_pools.get(id))
        .map(|p| p.to_lowercase());
    Ok(Replica {
        node: node.to_lowercase(),
        node_id,
        kind,
        pool,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_pool_reads_the_json_list_and_names_a_bad_one() {
        assert_eq!(
            first_pool("G", Some(r#"["Pool-A", "b"]"#)),
            Ok(Some("pool-a".into()))
        );
        assert_eq!(first_pool("G", Some("")), Ok(None));
        assert_eq!(first_pool("G", None), Ok(None));
        let error = first_pool("SC-X", Some("pool-a")).expect_err("not JSON");
        assert!(error.contains("ResourceGroups SC-X"), "{error}");
    }
}
