//! The rehearsal reads everything, sends every create as a dry run, reports objects
//! per kind and every problem by name, and changes nothing.

use deckhouse_hooks_sdk::{
    CreateMode, DeleteMode, Host, KubeError, ListPage, ListQuery, LogLevel, ObjectRef, PatchKind,
    PatchOptions, Report,
};
use guest_migrate::Settings;
use migration_data::Schemas;
use migration_data::snapshot::created;
use serde_json::{Value, json};
use std::cell::Cell;

use crate::support::cluster::{Lines, Served, StoreCluster};
use crate::support::data::{fixture, schemas, seeded};
use crate::support::deckhouse::{complete, job};

const THICK: &str = "pvc-923a7369-94e3-bf91-1a61-dbe22e44158b";

/// The API server in dry-run mode, as the host uses it for a rehearsal: reads are
/// served, creates are judged (CRD schema and CEL, an admission rule) but never
/// stored, and any other write is a test failure.
struct DryRun<'a> {
    inner: &'a Served<'a>,
    schemas: Schemas,
    /// Refuses objects whose name contains this, as an admission webhook would.
    deny: Option<&'static str>,
    creates: Cell<usize>,
}

impl DryRun<'_> {
    fn judge(&self, object: &Value, mode: CreateMode) -> Result<Value, KubeError> {
        self.creates.set(self.creates.get() + 1);
        let key = kube_memstore::Key::of(object)?;
        if let Ok(existing) = self.inner.cluster().store.get(&key) {
            return match mode {
                CreateMode::IfNotExists => Ok(existing),
                _ => Err(KubeError::Conflict(format!("{key} already exists"))),
            };
        }
        let name = object["metadata"]["name"].as_str().unwrap_or("");
        if let Some(denied) = self.deny.filter(|d| name.contains(d)) {
            return Err(KubeError::Invalid(format!(
                "admission webhook \"test.deckhouse.io\" denied the request: {denied} is reserved"
            )));
        }
        let problems = self.schemas.problems(object);
        if !problems.is_empty() {
            return Err(KubeError::Invalid(problems.join("; ")));
        }
        let mut stored = object.clone();
        stored["metadata"]["uid"] = json!(format!("dry-run-{name}"));
        Ok(stored)
    }
}

impl Host for DryRun<'_> {
    fn get(&self, o: &ObjectRef) -> Result<Value, KubeError> {
        self.inner.get(o)
    }
    fn list(&self, q: &ListQuery) -> Result<ListPage, KubeError> {
        self.inner.list(q)
    }
    fn create(&self, o: &Value, mode: CreateMode) -> Result<Value, KubeError> {
        self.judge(o, mode)
    }
    fn patch(
        &self,
        o: &ObjectRef,
        _: PatchKind,
        p: &Value,
        _: &PatchOptions,
    ) -> Result<Value, KubeError> {
        panic!("a rehearsal patched {o}: {p}");
    }
    fn delete(&self, o: &ObjectRef, _: DeleteMode) -> Result<(), KubeError> {
        panic!("a rehearsal deleted {o}");
    }
    fn log(&self, level: LogLevel, message: &str, fields: &[(&str, &str)]) {
        self.inner.log(level, message, fields);
    }
}

fn rehearse(cluster: &mut StoreCluster, deny: Option<&'static str>) -> (Report, usize) {
    let mut log = Lines::default();
    let served = Served::new(cluster, &mut log);
    let dry = DryRun {
        inner: &served,
        schemas: schemas(),
        deny,
        creates: Cell::new(0),
    };
    let report = job(Settings::default())
        .0
        .rehearse(&dry)
        .expect("the rehearsal runs");
    (report, dry.creates.get())
}

fn problems(report: &Report) -> Vec<(String, String, String)> {
    report.json["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let text = |k: &str| p[k].as_str().unwrap_or("").to_owned();
            (text("kind"), text("subject"), text("message"))
        })
        .collect()
}

#[test]
fn a_rehearsal_changes_nothing_and_counts_every_object() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let before: Vec<Value> = cluster.store.objects().cloned().collect();
    let revision = cluster.store.revision();
    let (report, creates) = rehearse(&mut cluster, None);
    let after: Vec<Value> = cluster.store.objects().cloned().collect();
    assert_eq!(before, after, "the store changed");
    assert_eq!(cluster.store.revision(), revision);
    assert!(report.ok, "{}", report.markdown);
    assert_eq!(creates, 41, "every create was sent");
    let kinds = &report.json["kinds"];
    for (kind, n) in [
        ("ReplicatedStoragePool", 2),
        ("ReplicatedVolumeReplica", 12),
        ("LVMLogicalVolume", 8),
        ("DRBDResource", 12),
        ("ReplicatedVolume", 4),
        ("ReplicatedVolumeAttachment", 3),
    ] {
        assert_eq!(kinds[kind]["planned"], n, "{kind}");
        assert_eq!(kinds[kind]["toCreate"], n, "{kind}");
        assert!(
            report
                .markdown
                .contains(&format!("| {kind} | {n} | 0 | {n} | 0 |")),
            "{kind} row in:\n{}",
            report.markdown
        );
    }
    assert_eq!(report.json["state"], "not_started");
    assert!(report.markdown.contains("No problems found."));
}

#[test]
fn a_rehearsal_after_the_migration_has_nothing_to_create() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    complete(&mut cluster, &mut Lines::default());
    let before = cluster.store.revision();
    let (report, creates) = rehearse(&mut cluster, None);
    assert_eq!(cluster.store.revision(), before);
    assert_eq!(creates, 0);
    assert!(report.ok, "{}", report.markdown);
    assert_eq!(report.json["kinds"]["DRBDResource"]["existing"], 12);
}

#[test]
fn every_problem_is_reported_by_name() {
    let objects: Vec<Value> = fixture("small-cluster.yaml")
        .into_iter()
        // worker-2 loses its LVMVolumeGroup: both pools lack a node.
        .filter(|o| o["metadata"]["name"] != "vg-worker-2-e26cca")
        .map(|mut o| {
            // An unknown flag on THICK's tie-breaker: unmappable.
            if o["kind"] == "Resources"
                && o["spec"]["resource_flags"] == 388
                && o["spec"]["node_name"] == "WORKER-1"
            {
                o["spec"]["resource_flags"] = json!(389);
            }
            o
        })
        .collect();
    let mut cluster = seeded(objects);
    let before = cluster.store.revision();
    let (report, _) = rehearse(&mut cluster, None);
    assert_eq!(cluster.store.revision(), before);
    assert!(!report.ok);
    let found = problems(&report);
    let has = |kind: &str, subject: &str, message: &str| {
        found
            .iter()
            .any(|(k, s, m)| k == kind && s == subject && m.contains(message))
    };
    assert!(
        has(
            "unmappable-volume",
            "LINSTOR database",
            &format!("LINSTOR resource {THICK} on node worker-1: resource_flags 389")
        ),
        "{found:#?}"
    );
    let mut cluster = seeded(
        fixture("small-cluster.yaml")
            .into_iter()
            .filter(|o| o["metadata"]["name"] != "vg-worker-2-e26cca")
            .collect(),
    );
    let (report, _) = rehearse(&mut cluster, None);
    let found = problems(&report);
    let has = |kind: &str, subject: &str, message: &str| {
        found
            .iter()
            .any(|(k, s, m)| k == kind && s == subject && m.contains(message))
    };
    assert!(
        has(
            "missing-volume-group",
            "node worker-2",
            "LINSTOR pool pool-thick on node worker-2"
        ),
        "{found:#?}"
    );
    assert!(
        has(
            "unmappable-volume",
            &format!("volume {THICK}"),
            "its LINSTOR pool pool-thick cannot be migrated"
        ),
        "{found:#?}"
    );
    assert!(
        report.markdown.contains("## Problems ("),
        "{}",
        report.markdown
    );
    assert!(
        report
            .markdown
            .contains("**missing-volume-group** node worker-2"),
        "{}",
        report.markdown
    );
}

#[test]
fn collisions_and_rejections_are_named_with_the_servers_message() {
    let mut objects = fixture("small-cluster.yaml");
    // Someone created THICK's volume already, with another size.
    objects.push(json!({"apiVersion": "storage.deckhouse.io/v1alpha1", "kind": "ReplicatedVolume",
        "metadata": {"name": THICK},
        "spec": {"size": "1Gi", "configurationMode": "Manual", "maxAttachments": 2,
                 "manualConfiguration": {"replicatedStoragePoolName": "linstor-auto-pool-thick", "topology": "Ignored",
                                         "failuresToTolerate": 1, "guaranteedMinimumDataRedundancy": 1,
                                         "volumeAccess": "PreferablyLocal"}}}));
    let mut cluster = seeded(objects);
    let before: Vec<Value> = cluster.store.objects().cloned().collect();
    let (report, _) = rehearse(&mut cluster, Some("pvc-7e62aa0a"));
    assert_eq!(before, cluster.store.objects().cloned().collect::<Vec<_>>());
    let found = problems(&report);
    assert!(
        found.iter().any(|(k, s, m)| k == "collision"
            && s == &format!("ReplicatedVolume {THICK}")
            && m.contains("spec.size is \"1Gi\", expected \"5Gi\"")),
        "{found:#?}"
    );
    let rejected: Vec<&(String, String, String)> =
        found.iter().filter(|(k, _, _)| k == "rejected").collect();
    assert!(!rejected.is_empty());
    assert!(
        rejected.iter().all(|(_, s, m)| s.contains("pvc-7e62aa0a")
            && m.contains("admission webhook \"test.deckhouse.io\" denied the request")),
        "{rejected:#?}"
    );
    assert_eq!(report.json["kinds"]["ReplicatedVolume"]["existing"], 1);
    assert!(!report.ok);
    assert!(created(&cluster.store).len() == 1);
}
