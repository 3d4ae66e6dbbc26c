//! The migrator's entry in grants.yaml allows every call a full run makes, and
//! nothing it never makes (a stale grant widens the sandbox for no reason).

use std::collections::BTreeSet;

use guest_migrate::{Settings, Step};
use serde_json::Value;

use crate::support::cluster::Lines;
use crate::support::data::{fixture, seeded};
use crate::support::deckhouse::{job, play};
use crate::support::recording::{Call, Recording};

fn migrator_grants() -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../grants.yaml");
    let text = std::fs::read_to_string(&path).expect("grants.yaml");
    let manifest: Value = serde_yaml::from_str(&text).expect("grants.yaml is YAML");
    let guests = manifest["guests"].as_array().expect("guests");
    let me = guests
        .iter()
        .find(|g| g["name"] == "control-plane-migrator")
        .expect("control-plane-migrator entry");
    me["grants"].as_array().expect("grants").clone()
}

fn allows(grant: &Value, call: &Call) -> bool {
    let names = grant["names"].as_array();
    grant["verbs"]
        .as_array()
        .is_some_and(|v| v.iter().any(|x| x == call.verb))
        && api_version_matches(
            grant["apiVersion"].as_str().unwrap_or(""),
            &call.api_version,
        )
        && grant["kind"] == call.kind.as_str()
        && grant["namespace"].as_str() == call.namespace.as_deref()
        && names.is_none_or(|names| {
            call.name
                .as_ref()
                .is_some_and(|n| names.iter().any(|x| x == n.as_str()))
        })
}

/// As the host matches it: `group/*` allows every version of the group.
fn api_version_matches(granted: &str, asked: &str) -> bool {
    match granted.strip_suffix("/*") {
        Some(group) => asked.rsplit_once('/').is_some_and(|(g, _)| g == group),
        None => granted == asked,
    }
}

/// Every call of a full run, a rehearsal and a status report.
fn all_calls() -> Vec<Call> {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    // An orphan PV gets labelled; that patch must be granted too.
    cluster
        .store
        .create(serde_json::json!({"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": "pvc-orphan"},
            "spec": {"capacity": {"storage": "1Gi"},
                     "csi": {"driver": "replicated.csi.storage.deckhouse.io", "volumeHandle": "pvc-orphan"}}}))
        .expect("orphan PV");
    // An LLV and a DRBDResource left without their ownerRef (by an older migrator):
    // the Job gets and patches them.
    let mut done = cluster.clone();
    crate::support::deckhouse::complete(&mut done, &mut Lines::default());
    for kind in ["LVMLogicalVolume", "DRBDResource"] {
        let mut object = migration_data::snapshot::created(&done.store)
            .into_iter()
            .find(|o| o["kind"] == kind)
            .expect("one was created");
        object["metadata"] = serde_json::json!({"name": object["metadata"]["name"]});
        if kind == "DRBDResource" {
            object["spec"]["maintenance"] = serde_json::json!("NoResourceReconciliation");
        }
        cluster.store.create(object).expect("left over");
    }
    // No ConfigMap yet: the Job creates it.
    let configmap = kube_memstore::Key::of(&migration_data::configmap("x")).expect("key");
    cluster.store.delete(&configmap).expect("ConfigMap removed");
    let (mut migrator, _) = job(Settings::default());
    let mut calls = Vec::new();
    let mut audit = Recording::new(&mut cluster);
    migrator
        .rehearse(&mut audit, &mut Lines::default())
        .expect("rehearsal");
    calls.append(&mut audit.calls);
    drop(audit);
    for _ in 0..10 {
        play(&mut cluster.store);
        let mut audit = Recording::new(&mut cluster);
        let result = migrator.step(&mut audit, &mut Lines::default());
        migrator
            .status(&mut audit, &mut Lines::default())
            .expect("status");
        calls.append(&mut audit.calls);
        if matches!(result, Ok(Step::Done(_))) {
            break;
        }
    }
    calls
}

#[test]
fn grants_cover_every_call_and_nothing_more() {
    let calls = all_calls();
    let grants = migrator_grants();
    let denied: Vec<String> = calls
        .iter()
        .filter(|c| !grants.iter().any(|g| allows(g, c)))
        .map(|c| format!("{c:?}"))
        .collect();
    assert!(
        denied.is_empty(),
        "calls grants.yaml does not allow: {denied:#?}"
    );
    let used: BTreeSet<(usize, String)> = calls
        .iter()
        .flat_map(|c| {
            grants
                .iter()
                .enumerate()
                .filter(|(_, g)| allows(g, c))
                .map(|(i, _)| (i, c.verb.to_owned()))
        })
        .collect();
    let mut unused = Vec::new();
    for (i, grant) in grants.iter().enumerate() {
        for verb in grant["verbs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !used.contains(&(i, verb.to_owned())) {
                unused.push(format!("{verb} {} {}", grant["apiVersion"], grant["kind"]));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "grants never used by a full run: {unused:#?}"
    );
}
