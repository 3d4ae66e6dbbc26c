//! The migrator's entry in grants.yaml allows every call a full run makes, and
//! nothing it never makes (a stale grant widens the sandbox for no reason).

use std::collections::BTreeSet;

use deckhouse_hooks_sdk::Step;
use guest_migrate::Settings;
use hooks_manifest::{Grants, ListQuery, Manifest, ObjectRef, Verb};

use crate::support::cluster::{Lines, Served};
use crate::support::data::{fixture, seeded};
use crate::support::deckhouse::{job, play};
use crate::support::recording::{Call, Recording};

/// The migrator's grants, read by the one manifest reader the host uses.
fn migrator_grants() -> Grants {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("grants.yaml")).expect("grants.yaml");
    let manifest = Manifest::parse(&text).expect("grants.yaml is a valid manifest");
    let me = manifest
        .guest("control-plane-migrator")
        .expect("control-plane-migrator entry");
    Grants::new(me.grants.clone())
}

/// The rules that allow `call`, decided by the host's own matcher (hooks-manifest).
fn rules_allowing(grants: &Grants, call: &Call) -> Vec<usize> {
    let verb = match call.verb {
        "get" => Verb::Get,
        "list" => Verb::List,
        "create" => Verb::Create,
        "patch" => Verb::Patch,
        "delete" => Verb::Delete,
        other => panic!("unknown verb {other}"),
    };
    match (&call.name, verb) {
        (None, Verb::List) => {
            let mut query = ListQuery::new(&call.api_version, &call.kind);
            query.namespace = call.namespace.clone();
            grants.rules_allowing_list(&query).collect()
        }
        (Some(name), _) => {
            let target = ObjectRef {
                api_version: call.api_version.clone(),
                kind: call.kind.clone(),
                namespace: call.namespace.clone(),
                name: name.clone(),
            };
            grants.rules_allowing(verb, &target).collect()
        }
        (None, _) => Vec::new(),
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
    let mut log = Lines::default();
    let served = Served::new(&mut cluster, &mut log);
    let audit = Recording::new(&served);
    migrator.rehearse(&audit).expect("rehearsal");
    calls.append(&mut audit.calls.take());
    drop(audit);
    for _ in 0..10 {
        play(&mut cluster.store);
        let mut log = Lines::default();
        let served = Served::new(&mut cluster, &mut log);
        let audit = Recording::new(&served);
        let result = migrator.step(&audit);
        migrator.status(&audit).expect("status");
        calls.append(&mut audit.calls.take());
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
    let mut used = BTreeSet::new();
    let mut denied = Vec::new();
    for call in &calls {
        let rules = rules_allowing(&grants, call);
        if rules.is_empty() {
            denied.push(format!("{call:?}"));
        }
        used.extend(rules.into_iter().map(|i| (i, call.verb.to_owned())));
    }
    assert!(
        denied.is_empty(),
        "calls grants.yaml does not allow: {denied:#?}"
    );
    let mut unused = Vec::new();
    for (i, grant) in grants.rules().iter().enumerate() {
        for verb in grant.verbs.iter().map(|v| v.as_str()) {
            if !used.contains(&(i, verb.to_owned())) {
                unused.push(format!("{verb} {} {}", grant.api_version, grant.kind));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "grants never used by a full run: {unused:#?}"
    );
}
