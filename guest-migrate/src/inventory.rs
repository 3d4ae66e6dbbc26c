//! What Kubernetes itself knows about the volumes: PV capacities, which nodes have
//! them attached (VolumeAttachments of the CSI driver), and the LVMVolumeGroups.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::error::{During, Error};
use crate::kube::{Cluster, ListQuery, name_of};
use crate::names::{CSI_DRIVER, LVG, STORAGE_V1ALPHA1};

/// One LVMVolumeGroup: object name, node and VG name on the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeGroup {
    pub name: String,
    pub node: String,
    pub vg: String,
}

#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// PV name -> capacity text (as written in the PV).
    pub capacities: BTreeMap<String, Value>,
    /// PVs of the replicated CSI driver, which should all have LINSTOR data.
    pub csi_volumes: BTreeSet<String>,
    /// PV name -> nodes it is attached to.
    pub attachments: BTreeMap<String, BTreeSet<String>>,
    pub volume_groups: Vec<VolumeGroup>,
}

impl Inventory {
    /// Lists PersistentVolumes, VolumeAttachments and LVMVolumeGroups.
    pub fn read(cluster: &mut dyn Cluster) -> Result<Self, Error> {
        let pvs = list(cluster, "v1", "PersistentVolume")?;
        let vas = list(cluster, "storage.k8s.io/v1", "VolumeAttachment")?;
        let lvgs = list(cluster, STORAGE_V1ALPHA1, LVG)?;
        Ok(Self::from_objects(&pvs, &vas, &lvgs))
    }

    pub fn from_objects(pvs: &[Value], vas: &[Value], lvgs: &[Value]) -> Self {
        let capacities = pvs
            .iter()
            .filter_map(|pv| {
                Some((
                    name_of(pv).to_owned(),
                    pv.pointer("/spec/capacity/storage")?.clone(),
                ))
            })
            .collect();
        let csi_volumes = pvs
            .iter()
            .filter(|pv| str_at(pv, "/spec/csi/driver") == Some(CSI_DRIVER))
            .map(|pv| name_of(pv).to_owned())
            .collect();
        let mut attachments: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for va in vas.iter().filter(|va| is_live_attachment(va)) {
            let (Some(pv), Some(node)) = (
                str_at(va, "/spec/source/persistentVolumeName"),
                str_at(va, "/spec/nodeName"),
            ) else {
                continue;
            };
            attachments
                .entry(pv.to_owned())
                .or_default()
                .insert(node.to_owned());
        }
        let volume_groups = lvgs.iter().filter_map(volume_group).collect();
        Self {
            capacities,
            csi_volumes,
            attachments,
            volume_groups,
        }
    }

    /// The LVMVolumeGroup object on `node` whose VG on the node is `vg`.
    pub fn volume_group(&self, node: &str, vg: &str) -> Option<&VolumeGroup> {
        self.volume_groups
            .iter()
            .find(|g| g.node == node && g.vg == vg)
    }
}

fn list(cluster: &mut dyn Cluster, api_version: &str, kind: &str) -> Result<Vec<Value>, Error> {
    cluster
        .list(&ListQuery::all(api_version, kind))
        .during(|| format!("listing {kind}"))
}

/// An attachment of our CSI driver that is not being torn down.
fn is_live_attachment(va: &Value) -> bool {
    str_at(va, "/spec/attacher") == Some(CSI_DRIVER)
        && va.pointer("/metadata/deletionTimestamp").is_none()
}

fn volume_group(lvg: &Value) -> Option<VolumeGroup> {
    Some(VolumeGroup {
        name: name_of(lvg).to_owned(),
        node: str_at(lvg, "/spec/local/nodeName")?.to_owned(),
        vg: str_at(lvg, "/spec/actualVGNameOnTheNode")?.to_owned(),
    })
}

fn str_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value.pointer(pointer).and_then(Value::as_str)
}
