//! The migrator's entry in grants.yaml allows every call a full run makes, and
//! nothing it never makes (a stale grant widens the sandbox for no reason).

use std::collections::BTreeSet;

use guest_migrate::{Cluster, KubeError, ListQuery, ObjRef, PatchKind};
use hooks_manifest::{Grants, Manifest, ObjectRef, Verb};
use serde_json::Value;

use crate::support::cluster::{Lines, StoreCluster};
use crate::support::data::{fixture, seeded};
use crate::support::deckhouse::play;

/// A call, as the host's grant matcher sees it: a verb on one object, or a list.
#[derive(Debug)]
enum Call {
    On(Verb, ObjectRef),
    List(hooks_manifest::ListQuery),
}

struct Audit<'a> {
    inner: &'a mut StoreCluster,
    calls: Vec<Call>,
}

impl Audit<'_> {
    fn note(&mut self, verb: Verb, r: &ObjRef) {
        let target = ObjectRef {
            api_version: r.api_version.clone(),
            kind: r.kind.clone(),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
        };
        self.calls.push(Call::On(verb, target));
    }
}

impl Cluster for Audit<'_> {
    fn get(&mut self, o: &ObjRef) -> Result<Value, KubeError> {
        self.note(Verb::Get, o);
        self.inner.get(o)
    }
    fn list(&mut self, q: &ListQuery) -> Result<Vec<Value>, KubeError> {
        let mut query = hooks_manifest::ListQuery::new(&q.api_version, &q.kind);
        query.namespace = q.namespace.clone();
        self.calls.push(Call::List(query));
        self.inner.list(q)
    }
    fn create(&mut self, o: &Value, if_absent: bool) -> Result<Value, KubeError> {
        let r = ObjRef {
            api_version: o["apiVersion"].as_str().unwrap_or("").into(),
            kind: o["kind"].as_str().unwrap_or("").into(),
            namespace: o["metadata"]["namespace"].as_str().map(String::from),
            name: o["metadata"]["name"].as_str().unwrap_or("").into(),
        };
        self.note(Verb::Create, &r);
        self.inner.create(o, if_absent)
    }
    fn patch(&mut self, o: &ObjRef, kind: PatchKind, patch: &Value) -> Result<Value, KubeError> {
        self.note(Verb::Patch, o);
        self.inner.patch(o, kind, patch)
    }
    fn delete(&mut self, o: &ObjRef) -> Result<(), KubeError> {
        self.note(Verb::Delete, o);
        self.inner.delete(o)
    }
}

/// The migrator's grants, read and matched by the host's own code.
fn migrator_grants() -> Grants {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let manifest = Manifest::load(&root).expect("grants.yaml");
    let me = manifest
        .guest("control-plane-migrator")
        .expect("control-plane-migrator entry");
    me.grants()
}

/// The indexes of the rules that allow `call`, and its verb.
fn allowing(grants: &Grants, call: &Call) -> (Verb, Vec<usize>) {
    match call {
        Call::On(verb, target) => (*verb, grants.rules_allowing(*verb, target).collect()),
        Call::List(query) => (Verb::List, grants.rules_allowing_list(query).collect()),
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
        .filter(|c| allowing(&grants, c).1.is_empty())
        .collect();
    assert!(
        denied.is_empty(),
        "calls grants.yaml does not allow: {denied:#?}"
    );
    let used: BTreeSet<(usize, Verb)> = audit
        .calls
        .iter()
        .flat_map(|c| {
            let (verb, rules) = allowing(&grants, c);
            rules.into_iter().map(move |i| (i, verb))
        })
        .collect();
    let mut unused = Vec::new();
    for (i, grant) in grants.rules().iter().enumerate() {
        for verb in &grant.verbs {
            if !used.contains(&(i, *verb)) {
                unused.push(format!(
                    "{} {} {}",
                    verb.as_str(),
                    grant.api_version,
                    grant.kind
                ));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "grants never used by a full run: {unused:#?}"
    );
}
