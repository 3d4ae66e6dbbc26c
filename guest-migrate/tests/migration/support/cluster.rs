//! `Cluster` over the in-memory store, a collecting `Log`, and `Killing`: a
//! Cluster that fails every call after a budget, as a killed Job would.

use guest_migrate::{Cluster, KubeError, Level, ListQuery, Log, ObjRef, PatchKind};
use kube_memstore::{Key, Store, StoreError};
use serde_json::Value;

/// The guest's Cluster trait served by the memstore.
#[derive(Default, Clone)]
pub struct StoreCluster {
    pub store: Store,
}

fn key(object: &ObjRef) -> Key {
    Key {
        api_version: object.api_version.clone(),
        kind: object.kind.clone(),
        namespace: object.namespace.clone(),
        name: object.name.clone(),
    }
}

fn kube(error: StoreError) -> KubeError {
    match error {
        StoreError::NotFound(m) => KubeError::NotFound(m),
        StoreError::Conflict(m) => KubeError::Conflict(m),
        StoreError::Invalid(m) => KubeError::Invalid(m),
    }
}

impl Cluster for StoreCluster {
    fn get(&mut self, object: &ObjRef) -> Result<Value, KubeError> {
        self.store.get(&key(object)).map_err(kube)
    }

    fn list(&mut self, q: &ListQuery) -> Result<Vec<Value>, KubeError> {
        let selector = q.label_selector.as_deref();
        self.store
            .list(&q.api_version, &q.kind, q.namespace.as_deref(), selector)
            .map_err(kube)
    }

    fn create(&mut self, object: &Value, if_absent: bool) -> Result<Value, KubeError> {
        match self.store.create(object.clone()) {
            Err(StoreError::Conflict(_)) if if_absent => {
                let existing = Key::of(object).map_err(kube)?;
                self.store.get(&existing).map_err(kube)
            }
            other => other.map_err(kube),
        }
    }

    fn patch(
        &mut self,
        object: &ObjRef,
        kind: PatchKind,
        patch: &Value,
    ) -> Result<Value, KubeError> {
        match kind {
            PatchKind::Merge => self.store.merge_patch(&key(object), patch),
            PatchKind::Json => self.store.json_patch(&key(object), patch),
        }
        .map_err(kube)
    }

    fn delete(&mut self, object: &ObjRef) -> Result<(), KubeError> {
        self.store.delete(&key(object)).map(drop).map_err(kube)
    }
}

/// Collects log lines as `LEVEL message k=v ...`.
#[derive(Default)]
pub struct Lines(pub Vec<String>);

impl Log for Lines {
    fn emit(&mut self, level: Level, message: &str, fields: &[(&str, String)]) {
        let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        self.0
            .push(format!("{level:?} {message} {}", fields.join(" ")));
    }
}

impl Lines {
    pub fn contains(&self, needle: &str) -> bool {
        self.0.iter().any(|line| line.contains(needle))
    }
}

/// How the call after the budget dies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kill {
    /// The request never reaches the API.
    Before,
    /// The API applies it, but the answer is lost.
    AfterApply,
}

/// A call budget shared across the steps of one doomed Job.
pub struct Budget {
    pub left: usize,
    pub mode: Kill,
    pub killed: bool,
}

/// A Cluster that forwards calls while the budget lasts and fails all later ones.
pub struct Killing<'a> {
    pub inner: &'a mut StoreCluster,
    pub budget: &'a mut Budget,
}

impl Killing<'_> {
    fn call<T>(
        &mut self,
        call: impl FnOnce(&mut StoreCluster) -> Result<T, KubeError>,
    ) -> Result<T, KubeError> {
        if self.budget.left > 0 {
            self.budget.left -= 1;
            return call(self.inner);
        }
        if !self.budget.killed && self.budget.mode == Kill::AfterApply {
            let _lost = call(self.inner);
        }
        self.budget.killed = true;
        Err(KubeError::Unavailable("the Job was killed".into()))
    }
}

impl Cluster for Killing<'_> {
    fn get(&mut self, object: &ObjRef) -> Result<Value, KubeError> {
        self.call(|c| c.get(object))
    }
    fn list(&mut self, query: &ListQuery) -> Result<Vec<Value>, KubeError> {
        self.call(|c| c.list(query))
    }
    fn create(&mut self, object: &Value, if_absent: bool) -> Result<Value, KubeError> {
        self.call(|c| c.create(object, if_absent))
    }
    fn patch(
        &mut self,
        object: &ObjRef,
        kind: PatchKind,
        patch: &Value,
    ) -> Result<Value, KubeError> {
        self.call(|c| c.patch(object, kind, patch))
    }
    fn delete(&mut self, object: &ObjRef) -> Result<(), KubeError> {
        self.call(|c| c.delete(object))
    }
}
