//! What Kubernetes itself knows about the volumes: the replicated PVs (capacity and
//! the orphan label), which nodes have them attached (VolumeAttachments of the CSI
//! driver), and the LVMVolumeGroups. Read page by page; only these fields are kept.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::error::{During, Error};
use crate::names::name_of;
use crate::names::{CSI_DRIVER, LVG, NO_LINSTOR_RESOURCE, STORAGE_V1ALPHA1};
use deckhouse_hooks_sdk::{Kube, ListQuery};

/// One LVMVolumeGroup: object name, node, VG name on the node and its thin pools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeGroup {
    pub name: String,
    pub node: String,
    pub vg: String,
    pub thin_pools: Vec<String>,
}

/// One PersistentVolume of the replicated CSI driver.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicatedPv {
    /// `spec.capacity.storage` as written, if any.
    pub capacity: Option<Value>,
    /// Whether it carries the `no-linstor-resource` label.
    pub orphan_label: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// Lowercase PV name -> the PV, for PVs of the replicated driver only.
    pub pvs: BTreeMap<String, ReplicatedPv>,
    /// Lowercase PV name -> lowercase nodes it is attached to.
    pub attachments: BTreeMap<String, BTreeSet<String>>,
    pub volume_groups: Vec<VolumeGroup>,
}

impl Inventory {
    /// Lists PersistentVolumes, VolumeAttachments and LVMVolumeGroups.
    pub fn read(kube: Kube<'_>, page_size: u32) -> Result<Self, Error> {
        let mut inventory = Self::default();
        each(kube, "v1", "PersistentVolume", page_size, |pv| {
            inventory.add_pv(pv);
        })?;
        each(
            kube,
            "storage.k8s.io/v1",
            "VolumeAttachment",
            page_size,
            |va| inventory.add_attachment(va),
        )?;
        each(kube, STORAGE_V1ALPHA1, LVG, page_size, |lvg| {
            inventory.volume_groups.extend(volume_group(lvg));
        })?;
        Ok(inventory)
    }

    fn add_pv(&mut self, pv: &Value) {
        if str_at(pv, "/spec/csi/driver") != Some(CSI_DRIVER) {
            return;
        }
        let labels = &pv["metadata"]["labels"];
        self.pvs.insert(
            name_of(pv).to_lowercase(),
            ReplicatedPv {
                capacity: pv.pointer("/spec/capacity/storage").cloned(),
                orphan_label: labels.get(NO_LINSTOR_RESOURCE).is_some(),
            },
        );
    }

    /// Every attachment of our driver, also one being torn down: until the attacher
    /// confirms the detach the device is still in use on that node (as the real
    /// migrator does, which checks neither deletionTimestamp nor status.attached).
    fn add_attachment(&mut self, va: &Value) {
        if str_at(va, "/spec/attacher") != Some(CSI_DRIVER) {
            return;
        }
        let (Some(pv), Some(node)) = (
            str_at(va, "/spec/source/persistentVolumeName"),
            str_at(va, "/spec/nodeName"),
        ) else {
            return;
        };
        self.attachments
            .entry(pv.to_lowercase())
            .or_default()
            .insert(node.to_lowercase());
    }

    /// The LVMVolumeGroup object on `node` whose VG on the node is `vg` (both
    /// compared case-insensitively, as the real migrator does).
    pub fn volume_group(&self, node: &str, vg: &str) -> Option<&VolumeGroup> {
        self.volume_groups
            .iter()
            .find(|g| g.node.eq_ignore_ascii_case(node) && g.vg.eq_ignore_ascii_case(vg))
    }
}

/// Calls `f` on every object of a kind, one page at a time.
fn each(
    kube: Kube<'_>,
    api_version: &str,
    kind: &str,
    page_size: u32,
    mut f: impl FnMut(&Value),
) -> Result<(), Error> {
    for page in kube.pages(&ListQuery::new(api_version, kind).limit(page_size)) {
        page.during(|| format!("listing {kind}"))?
            .iter()
            .for_each(&mut f);
    }
    Ok(())
}

fn volume_group(lvg: &Value) -> Option<VolumeGroup> {
    let thin_pools = lvg["spec"]["thinPools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect();
    Some(VolumeGroup {
        name: name_of(lvg).to_owned(),
        node: str_at(lvg, "/spec/local/nodeName")?.to_owned(),
        vg: str_at(lvg, "/spec/actualVGNameOnTheNode")?.to_owned(),
        thin_pools,
    })
}

fn str_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value.pointer(pointer).and_then(Value::as_str)
}
