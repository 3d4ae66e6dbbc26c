//! The `spec` fields the migration needs from each LINSTOR kind (snake_case, names
//! UPPERCASE). Unknown fields are ignored; a missing needed field is an error.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct ResourceDefinition {
    pub resource_name: String,
    #[serde(default)]
    pub resource_group_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ResourceGroup {
    pub resource_group_name: String,
    /// A JSON list in a string (`'["pool-thick"]'`); the first entry is the pool.
    #[serde(default)]
    pub pool_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct VolumeDefinition {
    pub resource_name: String,
    pub vlm_nr: i64,
    /// KiB.
    pub vlm_size: u64,
}

#[derive(Debug, Deserialize)]
pub struct Resource {
    pub resource_name: String,
    pub node_name: String,
    pub resource_flags: u64,
    #[serde(default)]
    pub snapshot_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LayerResourceId {
    pub layer_resource_id: i64,
    pub layer_resource_kind: String,
    pub node_name: String,
    pub resource_name: String,
    #[serde(default)]
    pub snapshot_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LayerDrbdResource {
    pub layer_resource_id: i64,
    pub node_id: i64,
}

#[derive(Debug, Deserialize)]
pub struct LayerDrbdResourceDefinition {
    pub resource_name: String,
    /// The DRBD shared secret of the resource.
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub snapshot_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LayerStorageVolume {
    pub layer_resource_id: i64,
    #[serde(default)]
    pub vlm_nr: i64,
    pub stor_pool_name: String,
}

#[derive(Debug, Deserialize)]
pub struct NodeStorPool {
    pub node_name: String,
    pub pool_name: String,
    pub driver_name: String,
}

#[derive(Debug, Deserialize)]
pub struct PropsContainer {
    pub props_instance: String,
    pub prop_key: String,
    pub prop_value: String,
}

/// Every kind read, as listed: only the fields above, never the raw objects.
#[derive(Debug, Default)]
pub struct Tables {
    pub resource_definitions: Vec<ResourceDefinition>,
    pub resource_groups: Vec<ResourceGroup>,
    pub volume_definitions: Vec<VolumeDefinition>,
    pub resources: Vec<Resource>,
    pub layer_resource_ids: Vec<LayerResourceId>,
    pub layer_drbd_resources: Vec<LayerDrbdResource>,
    pub layer_drbd_resource_definitions: Vec<LayerDrbdResourceDefinition>,
    pub layer_storage_volumes: Vec<LayerStorageVolume>,
    pub node_stor_pools: Vec<NodeStorPool>,
    pub props: Vec<PropsContainer>,
}

/// True for rows that describe a snapshot rather than the live resource.
pub fn is_snapshot(snapshot_name: &Option<String>) -> bool {
    snapshot_name.as_deref().is_some_and(|s| !s.is_empty())
}
