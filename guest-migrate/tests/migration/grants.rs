//! The migrator's entry in grants.yaml allows every call a full run makes, and
//! nothing it never makes (a stale grant widens the sandbox for no reason).

use std::collections::BTreeSet;

use guest_migrate::{Cluster, KubeError, ListQuery, ObjRef, PatchKind};
use serde_json::Value;

use crate::support::cluster::{Lines, StoreCluster};
use crate::support::data::{fixture, seeded};
use crate::support::deckhouse::play;

/// verb, apiVersion, kind, namespace, name (None for lists).
type Call = (String, String, String, Option<String>, Option<String>);

struct Audit<'a> {
    inner: &'a mut StoreCluster,
    calls: Vec<Call>,
}

impl Audit<'_> {
    fn note(&mut self, verb: &str, r: &ObjRef) {
        self.calls.push((
            verb.into(),
            r.api_version.clone(),
            r.kind.clone(),
            r.namespace.clone(),
            Some(r.name.clone()),
        ));
    }
}

impl Cluster for Audit<'_> {
    fn get(&mut self, o: &ObjRef) -> Result<Value, KubeError> {
        self.note("get", o);
        self.inner.get(o)
    }
    fn list(&mut self, q: &ListQuery) -> Result<Vec<Value>, KubeError> {
        self.calls.push((
            "list".into(),
            q.api_version.clone(),
            q.kind.clone(),
            q.namespace.clone(),
            None,
        ));
        self.inner.list(q)
    }
    fn create(&mut self, o: &Value, if_absent: bool) -> Result<Value, KubeError> {
        let r = ObjRef::cluster(
            o["apiVersion"].as_str().unwrap_or(""),
            o["kind"].as_str().unwrap_or(""),
            o["metadata"]["name"].as_str().unwrap_or(""),
        );
        self.note("create", &r);
        self.inner.create(o, if_absent)
    }
    fn patch(&mut self, o: &ObjRef, kind: PatchKind, patch: &Value) -> Result<Value, KubeError> {
        self.note("patch", o);
        self.inner.patch(o, kind, patch)
    }
    fn delete(&mut self, o: &ObjRef) -> Result<(), KubeError> {
        self.note("delete", o);
        self.inner.delete(o)
    }
}

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

fn allows(grant: &Value, (verb, api, kind, ns, name): &Call) -> bool {
    let names = grant["names"].as_array();
    grant["verbs"]
        .as_array()
        .is_some_and(|v| v.iter().any(|x| x == verb.as_str()))
        && api_version_matches(grant["apiVersion"].as_str().unwrap_or(""), api)
        && grant["kind"] == kind.as_str()
        && grant["namespace"].as_str() == ns.as_deref()
        && names.is_none_or(|names| {
            name.as_ref()
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

#[test]
fn grants_cover_every_call_and_nothing_more() {
    let mut cluster = seeded(fixture("small-cluster.yaml"));
    let mut audit = Audit {
        inner: &mut cluster,
        calls: Vec::new(),
    };
    for _ in 0..10 {
        play(&mut audit.inner.store);
        if matches!(
            guest_migrate::step(&mut audit, &mut Lines::default()),
            Ok(guest_migrate::Step::Done(_))
        ) {
            break;
        }
    }
    let grants = migrator_grants();
    let denied: Vec<&Call> = audit
        .calls
        .iter()
        .filter(|c| !grants.iter().any(|g| allows(g, c)))
        .collect();
    assert!(
        denied.is_empty(),
        "calls grants.yaml does not allow: {denied:#?}"
    );
    let used: BTreeSet<(usize, String)> = audit
        .calls
        .iter()
        .flat_map(|c| {
            grants
                .iter()
                .enumerate()
                .filter(|(_, g)| allows(g, c))
                .map(|(i, _)| (i, c.0.clone()))
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
