//! A synthetic cluster in the shape of tests/fixtures/linstor/small-cluster.yaml, at any
//! size: LINSTOR database CRs, PVs, VolumeAttachments and LVMVolumeGroups. Volumes
//! cycle through thick/thin pools, replica layouts (diskful, diskless, tie-breaker),
//! node placements and ID orders, attached/detached, with and without a PV.
//! guest-migrate's big-cluster tests and `cargo xtask bench-migrate` both run on it.

use serde_json::{Value, json};

use crate::volume_group;

const LINSTOR: &str = "internal.linstor.linbit.com/v1-19-1";
const NODES: usize = 6;

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Diskful,
    Access,
    TieBreaker,
}

/// Per `i % 4`: the three replicas' roles.
const LAYOUTS: [[Role; 3]; 4] = [
    [Role::Diskful, Role::Diskful, Role::TieBreaker],
    [Role::Diskful, Role::Diskful, Role::Access],
    [Role::Diskful, Role::Diskful, Role::Diskful],
    [Role::Diskful, Role::Access, Role::Access],
];

fn linstor(kind: &str, name: String, spec: Value) -> Value {
    json!({"apiVersion": LINSTOR, "kind": kind, "metadata": {"name": name}, "spec": spec})
}

pub fn node(n: usize) -> String {
    format!("worker-{n}")
}

pub fn volume_name(i: usize) -> String {
    format!("pvc-{i:08x}-0000-4000-8000-{:012x}", i * 7919)
}

/// The DRBD shared secret LINSTOR keeps for volume `i` (20 characters, as LINSTOR's).
pub fn secret(i: usize) -> String {
    format!("Secret{i:014}")
}

/// `volumes` volumes of three replicas each over six nodes.
pub fn cluster(volumes: usize) -> Vec<Value> {
    let mut out = nodes_and_pools();
    let mut layer_id = 0;
    for i in 0..volumes {
        out.extend(volume(i, &mut layer_id));
    }
    out
}

fn nodes_and_pools() -> Vec<Value> {
    let mut out = vec![
        linstor(
            "ResourceGroups",
            "rg-thick".into(),
            json!({"resource_group_name": "SC-THICK-R2", "pool_name": "[\"pool-thick\"]", "replica_count": 2}),
        ),
        linstor(
            "ResourceGroups",
            "rg-thin".into(),
            json!({"resource_group_name": "SC-THIN-R2", "pool_name": "[\"pool-thin\"]", "replica_count": 2}),
        ),
    ];
    for n in 0..NODES {
        let (name, upper) = (node(n), node(n).to_uppercase());
        out.push(linstor(
            "Nodes",
            format!("node-{n}"),
            json!({"node_name": upper, "node_dsp_name": name, "node_type": 2}),
        ));
        out.push(volume_group(&format!("vg-{name}"), &name, "vg0"));
        let pools = [
            ("POOL-THICK", "LVM", Some("vg0")),
            ("POOL-THIN", "LVM_THIN", Some("vg0/thinpool")),
            ("DFLTDISKLESSSTORPOOL", "DISKLESS", None),
        ];
        for (p, (pool, driver, prop)) in pools.into_iter().enumerate() {
            out.push(linstor(
                "NodeStorPool",
                format!("nsp-{n}-{p}"),
                json!({"node_name": upper, "pool_name": pool, "driver_name": driver}),
            ));
            if let Some(value) = prop {
                let instance = format!("/STORPOOLCONF/{upper}/{pool}");
                out.push(linstor(
                    "PropsContainers",
                    format!("prop-{n}-{p}"),
                    json!({"props_instance": instance, "prop_key": "StorDriver/StorPoolName", "prop_value": value}),
                ));
            }
        }
    }
    out
}

fn volume(i: usize, layer_id: &mut i64) -> Vec<Value> {
    let name = volume_name(i);
    let upper = name.to_uppercase();
    let thin = i % 2 == 1;
    let gib = 1 + (i % 10) as u64;
    // Every 13th volume asks for a decimal size (1G) that is not 4 KiB aligned.
    let (capacity, kib) = if i.is_multiple_of(13) {
        ("1G".to_owned(), 976_563)
    } else {
        (format!("{gib}Gi"), gib << 20)
    };
    let group = if thin { "SC-THIN-R2" } else { "SC-THICK-R2" };
    let mut out = vec![
        linstor(
            "ResourceDefinitions",
            format!("rd-{i}"),
            json!({"resource_name": upper, "resource_dsp_name": name, "resource_group_name": group, "resource_flags": 0}),
        ),
        linstor(
            "VolumeDefinitions",
            format!("vd-{i}"),
            json!({"resource_name": upper, "vlm_nr": 0, "vlm_size": kib, "vlm_flags": 0}),
        ),
        linstor(
            "LayerDrbdResourceDefinitions",
            format!("ldrd-{i}"),
            json!({"resource_name": upper, "resource_name_suffix": "", "secret": secret(i),
                   "tcp_port": 7000 + i, "transport_type": "IP", "peer_slots": 7, "snapshot_name": ""}),
        ),
    ];
    for (j, role) in LAYOUTS[i % 4].iter().enumerate() {
        let node_upper = node((i + j) % NODES).to_uppercase();
        let node_id = (i + j) % 3;
        let (flags, pool) = match role {
            Role::Diskful => (0, if thin { "POOL-THIN" } else { "POOL-THICK" }),
            Role::Access => (260, "DFLTDISKLESSSTORPOOL"),
            Role::TieBreaker => (388, "DFLTDISKLESSSTORPOOL"),
        };
        let (drbd, storage) = (*layer_id + 1, *layer_id + 2);
        *layer_id += 2;
        let at = format!("{i}-{j}");
        out.push(linstor(
            "Resources",
            format!("r-{at}"),
            json!({"resource_name": upper, "node_name": node_upper, "resource_flags": flags, "snapshot_name": ""}),
        ));
        out.push(linstor("LayerResourceIds", format!("lri-{at}-d"), json!({"layer_resource_id": drbd, "layer_resource_kind": "DRBD", "layer_resource_parent_id": null, "node_name": node_upper, "resource_name": upper, "snapshot_name": ""})));
        out.push(linstor("LayerResourceIds", format!("lri-{at}-s"), json!({"layer_resource_id": storage, "layer_resource_kind": "STORAGE", "layer_resource_parent_id": drbd, "node_name": node_upper, "resource_name": upper, "snapshot_name": ""})));
        out.push(linstor(
            "LayerDrbdResources",
            format!("ldr-{at}"),
            json!({"layer_resource_id": drbd, "node_id": node_id, "flags": 0}),
        ));
        out.push(linstor(
            "LayerStorageVolumes",
            format!("lsv-{at}"),
            json!({"layer_resource_id": storage, "node_name": node_upper, "vlm_nr": 0, "stor_pool_name": pool}),
        ));
    }
    // Every 50th volume lost its PV (size then comes from LINSTOR).
    if i % 50 != 7 {
        out.push(json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
            "spec": {"capacity": {"storage": capacity}, "csi": {"driver": "replicated.csi.storage.deckhouse.io", "volumeHandle": name}}}));
    }
    let attached: &[usize] = match (i % 3, i % 30) {
        (_, 0) => &[0, 1],
        (0, _) => &[0],
        _ => &[],
    };
    for j in attached {
        let on = node((i + j) % NODES);
        out.push(json!({"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment", "metadata": {"name": format!("csi-{i}-{on}")},
            "spec": {"attacher": "replicated.csi.storage.deckhouse.io", "nodeName": on, "source": {"persistentVolumeName": name}}}));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_memstore::Store;

    fn count(objects: &[Value], kind: &str) -> usize {
        objects.iter().filter(|o| o["kind"] == kind).count()
    }

    #[test]
    fn every_volume_has_three_replicas_and_names_are_unique() {
        let objects = cluster(100);
        assert_eq!(count(&objects, "ResourceDefinitions"), 100);
        assert_eq!(count(&objects, "Resources"), 300);
        assert_eq!(count(&objects, "LVMVolumeGroup"), NODES);
        // Volumes 7 and 57 lost their PV.
        assert_eq!(count(&objects, "PersistentVolume"), 98);
        let mut store = Store::new();
        for object in objects {
            store
                .create(object)
                .unwrap_or_else(|e| panic!("generated twice: {e}"));
        }
    }

    #[test]
    fn names_follow_the_nodes_and_volume_patterns() {
        assert_eq!(node(5), "worker-5");
        assert_eq!(volume_name(1), "pvc-00000001-0000-4000-8000-000000001eef");
        let objects = cluster(1);
        assert!(
            objects
                .iter()
                .any(|o| o["kind"] == "PersistentVolume" && o["metadata"]["name"] == volume_name(0))
        );
    }
}
