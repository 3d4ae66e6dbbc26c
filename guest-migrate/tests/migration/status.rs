//! The status report: state, per-kind counts done/planned, volumes waiting for
//! adoption; it only reads.

use std::collections::BTreeSet;

use deckhouse_hooks_sdk::Report;
use guest_migrate::Settings;
use migration_data::controller::Behaviour;

use crate::support::cluster::{Lines, Served, StoreCluster};
use crate::support::data::{fixture, seeded, without_linstor};
use crate::support::deckhouse::{Ending, Run, drive_with, job};

const THICK: &str = "pvc-923a7369-94e3-bf91-1a61-dbe22e44158b";

fn status(cluster: &mut StoreCluster) -> Report {
    let revision = cluster.store.revision();
    let report = job(Settings::default())
        .0
        .status(&Served::new(cluster, &mut Lines::default()))
        .expect("status");
    assert_eq!(cluster.store.revision(), revision, "status wrote something");
    report
}

#[test]
fn before_the_migration_nothing_is_done() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let report = status(&mut cluster);
    assert_eq!(report.json["state"], "not_started");
    assert_eq!(report.json["kinds"]["DRBDResource"]["done"], 0);
    assert_eq!(report.json["kinds"]["DRBDResource"]["planned"], 12);
    assert!(
        report.markdown.contains("| DRBDResource | 0 | 12 |"),
        "{}",
        report.markdown
    );
}

#[test]
fn a_stuck_migration_shows_its_counts_and_the_volume_waiting() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let run = Run {
        settings: Settings {
            adoption_timeout_seconds: 10,
            ..Settings::default()
        },
        behaviour: Behaviour {
            stuck: BTreeSet::from([THICK.to_owned()]),
            ..Behaviour::default()
        },
        budget: None,
    };
    let ending = drive_with(&mut cluster, &mut Lines::default(), run);
    assert!(matches!(ending, Ending::Failed(_)), "{ending:?}");
    let report = status(&mut cluster);
    assert_eq!(report.json["state"], "stage2_started");
    for kind in [
        "ReplicatedVolumeReplica",
        "DRBDResource",
        "ReplicatedVolume",
    ] {
        assert_eq!(
            report.json["kinds"][kind]["done"], report.json["kinds"][kind]["planned"],
            "{kind}"
        );
    }
    assert_eq!(report.json["adopted"], 3);
    let waiting = report.json["waitingForAdoption"].as_array().expect("list");
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["volume"], THICK);
    assert!(
        waiting[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("[Completed, Active, Pending]")),
        "{waiting:?}"
    );
    assert!(
        report.markdown.contains(&format!("- `{THICK}`:")),
        "{}",
        report.markdown
    );
}

#[test]
fn without_linstor_there_is_nothing_to_migrate() {
    let mut cluster = without_linstor();
    let report = status(&mut cluster);
    assert!(report.ok);
    assert!(
        report.markdown.contains("No LINSTOR database"),
        "{}",
        report.markdown
    );
}
