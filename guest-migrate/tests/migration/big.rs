//! A 1,000-volume cluster (3 replicas each) migrates completely and validly.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use migration_data::generator::{self, cluster};
use migration_data::snapshot::{counts, created, without_status};

use crate::support::cluster::Lines;
use crate::support::data::{schemas, seeded};
use crate::support::deckhouse::complete;

pub const BIG: usize = 1000;

/// Every name an object refers to exists, with the kind it must have.
pub fn assert_references(objects: &[Value], volume_groups: &[&str]) {
    let names: HashMap<&str, BTreeSet<&str>> = objects.iter().fold(HashMap::new(), |mut m, o| {
        m.entry(o["kind"].as_str().unwrap_or(""))
            .or_default()
            .insert(o["metadata"]["name"].as_str().unwrap_or(""));
        m
    });
    let has = |kind: &str, name: &Value| {
        names
            .get(kind)
            .is_some_and(|s| s.contains(name.as_str().unwrap_or("?")))
    };
    let mut broken = Vec::new();
    for o in objects {
        let spec = &o["spec"];
        let refs: Vec<(&str, &Value)> = match o["kind"].as_str().unwrap_or("") {
            "ReplicatedVolume" => vec![(
                "ReplicatedStoragePool",
                &spec["manualConfiguration"]["replicatedStoragePoolName"],
            )],
            "ReplicatedVolumeReplica" | "ReplicatedVolumeAttachment" => {
                vec![("ReplicatedVolume", &spec["replicatedVolumeName"])]
            }
            "DRBDResource" if spec["type"] == "Diskful" => {
                vec![("LVMLogicalVolume", &spec["lvmLogicalVolumeName"])]
            }
            _ => vec![],
        };
        for (kind, name) in refs {
            if !has(kind, name) {
                broken.push(format!(
                    "{} {} -> missing {kind} {name}",
                    o["kind"], o["metadata"]["name"]
                ));
            }
        }
        for group in [&spec["lvmVolumeGroupName"]]
            .into_iter()
            .filter(|g| !g.is_null())
        {
            if !volume_groups.contains(&group.as_str().unwrap_or("?")) {
                broken.push(format!(
                    "{} {} -> unknown LVMVolumeGroup {group}",
                    o["kind"], o["metadata"]["name"]
                ));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "dangling references:\n{}",
        broken.join("\n")
    );
}

#[test]
fn a_thousand_volumes_migrate_completely_and_validly() {
    let mut store = seeded(cluster(BIG));
    let mut log = Lines::default();
    let summary = complete(&mut store, &mut log);
    assert!(summary.contains(&format!("{BIG} volumes")), "{summary}");
    let objects = without_status(&created(&store.store));
    let c = counts(&objects);
    // Layouts cycle D-D-TB, D-D-A, D-D-D, D-A-A: 2+2+3+1 diskful per 4 volumes.
    assert_eq!(c["LVMLogicalVolume"], BIG / 4 * 8);
    assert_eq!(c["DRBDResource"], BIG * 3);
    assert_eq!(c["ReplicatedVolumeReplica"], BIG * 3);
    assert_eq!(c["ReplicatedVolume"], BIG);
    assert_eq!(c["ReplicatedStoragePool"], 2);
    // Attachments become ReplicatedVolumeAttachments only for volumes with a PV.
    let attached = (0..BIG)
        .map(|i| {
            if i % 50 == 7 {
                0
            } else if i % 30 == 0 {
                2
            } else if i % 3 == 0 {
                1
            } else {
                0
            }
        })
        .sum::<usize>();
    assert_eq!(c["ReplicatedVolumeAttachment"], attached);
    schemas().assert_all_valid(&objects);
    let groups: Vec<String> = (0..6)
        .map(|n| format!("vg-{}", generator::node(n)))
        .collect();
    assert_references(
        &objects,
        &groups.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(
        objects
            .iter()
            .filter(|o| o["kind"] == "DRBDResource")
            .all(|o| o["spec"].get("maintenance").is_none())
    );
}

#[test]
fn generated_volumes_map_sizes_and_resilience() {
    let mut store = seeded(cluster(60));
    complete(&mut store, &mut Lines::default());
    let objects = created(&store.store);
    let rv = |i: usize| {
        let name = generator::volume_name(i);
        objects
            .iter()
            .find(|o| o["kind"] == "ReplicatedVolume" && o["metadata"]["name"] == name.as_str())
            .cloned()
            .expect("RV")
    };
    let ftt_gmdr = |i: usize| {
        let manual = &rv(i)["spec"]["manualConfiguration"];
        (
            manual["failuresToTolerate"].as_u64(),
            manual["guaranteedMinimumDataRedundancy"].as_u64(),
        )
    };
    // Volume 0: 1G (not 4 KiB aligned) -> rounded up; D-D-TB -> the real (1, 1).
    assert_eq!(rv(0)["spec"]["size"], "976564Ki");
    assert_eq!(ftt_gmdr(0), (Some(1), Some(1)));
    // D-D-A -> (1, 0); D-D-D -> (1, 1); D-A-A -> (0, 0): Access replicas do not count.
    assert_eq!(ftt_gmdr(1), (Some(1), Some(0)));
    assert_eq!(ftt_gmdr(2), (Some(1), Some(1)));
    assert_eq!(ftt_gmdr(3), (Some(0), Some(0)));
    // maxAttachments is always 2, attached or not.
    for i in 0..4 {
        assert_eq!(rv(i)["spec"]["maxAttachments"], 2);
    }
    // Volume 7 has no PV: size from LINSTOR's vlm_size (8 GiB).
    assert_eq!(rv(7)["spec"]["size"], "8Gi");
    assert_eq!(
        rv(1)["spec"]["manualConfiguration"]["replicatedStoragePoolName"],
        "linstor-auto-pool-thin"
    );
}
