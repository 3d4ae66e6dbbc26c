//! LINSTOR storage pools per node: driver and the VG (and thin pool) behind them,
//! from NodeStorPool rows joined with their `StorDriver/StorPoolName` props.

use std::collections::{BTreeMap, HashMap};

use super::model::Tables;

const STORPOOL_PREFIX: &str = "/STORPOOLCONF/";
const STORPOOL_KEY: &str = "StorDriver/StorPoolName";

/// The LINSTOR storage driver of a pool on one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Driver {
    /// `LVM`: thick logical volumes.
    Thick,
    /// `LVM_THIN`.
    Thin,
    /// Anything else (ZFS, ...), which the new control plane cannot take over.
    Other(String),
}

/// One node's part of a LINSTOR storage pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolNode {
    pub node: String,
    pub driver: Driver,
    /// The VG name on the node (`StorDriver/StorPoolName` before any `/`).
    pub vg: Option<String>,
    /// The thin pool (after the `/`), for LVM_THIN.
    pub thin_pool: Option<String>,
}

/// Diskful pools: NodeStorPool rows joined with their `StorDriver/StorPoolName` props.
pub fn pools(tables: &Tables) -> BTreeMap<String, Vec<PoolNode>> {
    let props: HashMap<&str, &str> = tables
        .props
        .iter()
        .filter(|p| p.prop_key == STORPOOL_KEY)
        .filter_map(|p| {
            Some((
                p.props_instance.strip_prefix(STORPOOL_PREFIX)?,
                p.prop_value.as_str(),
            ))
        })
        .collect();
    let mut pools: BTreeMap<String, Vec<PoolNode>> = BTreeMap::new();
    for row in tables
        .node_stor_pools
        .iter()
        .filter(|r| r.driver_name != "DISKLESS")
    {
        let driver = match row.driver_name.as_str() {
            "LVM" => Driver::Thick,
            "LVM_THIN" => Driver::Thin,
            other => Driver::Other(other.to_owned()),
        };
        let instance = format!("{}/{}", row.node_name, row.pool_name);
        let value = props.get(instance.as_str()).copied();
        let (vg, thin_pool) = match value.map(|v| {
            v.split_once('/')
                .map_or((v, None), |(vg, tp)| (vg, Some(tp)))
        }) {
            Some((vg, thin)) => (Some(vg.to_owned()), thin.map(str::to_owned)),
            None => (None, None),
        };
        let node = PoolNode {
            node: row.node_name.to_lowercase(),
            driver,
            vg,
            thin_pool,
        };
        pools
            .entry(row.pool_name.to_lowercase())
            .or_default()
            .push(node);
    }
    for nodes in pools.values_mut() {
        nodes.sort_by(|a, b| a.node.cmp(&b.node));
    }
    pools
}
