//! `Cluster` over the in-memory store (with real pagination: limit and continue
//! tokens), a collecting `Log`, and `Killing`: a Cluster that fails every call after a
//! budget, as a killed Job would; a batch counts one call per object, so a Job can be
//! killed in the middle of a `create-many`.

use guest_migrate::{
    Cluster, CreateMode, DeleteMode, KubeError, Level, ListQuery, Log, ObjRef, Page, PatchKind,
    PatchOptions,
};
use kube_memstore::{Key, Store, StoreError};
use serde_json::{Value, json};
use std::rc::Rc;

/// The guest's Cluster trait served by the memstore.
#[derive(Default, Clone)]
pub struct StoreCluster {
    pub store: Store,
    /// The largest page served whatever the guest asks (0: no cap), to test paging.
    pub max_page: usize,
    /// List calls served.
    pub lists: usize,
    /// The matching objects of the list being paged through, while the store is
    /// unchanged: each page is then a slice, not a scan of the whole store.
    cache: Option<Listing>,
}

#[derive(Clone)]
struct Listing {
    query: String,
    revision: u64,
    objects: Rc<Vec<Value>>,
}

pub fn key(object: &ObjRef) -> Key {
    Key {
        api_version: object.api_version.clone(),
        kind: object.kind.clone(),
        namespace: object.namespace.clone(),
        name: object.name.clone(),
    }
}

pub fn kube(error: StoreError) -> KubeError {
    match error {
        StoreError::NotFound(m) => KubeError::NotFound(m),
        StoreError::Conflict(m) => KubeError::Conflict(m),
        StoreError::Invalid(m) => KubeError::Invalid(m),
    }
}

/// Where a page ends: the (namespace, name) of its last object, as JSON.
fn position(object: &Value) -> (Option<String>, String) {
    let text = |p: &str| object.pointer(p).and_then(Value::as_str).map(str::to_owned);
    (
        text("/metadata/namespace"),
        text("/metadata/name").unwrap_or_default(),
    )
}

impl Cluster for StoreCluster {
    fn get(&mut self, object: &ObjRef) -> Result<Value, KubeError> {
        self.store.get(&key(object)).map_err(kube)
    }

    fn list(&mut self, q: &ListQuery) -> Result<Page, KubeError> {
        self.lists += 1;
        let after: Option<(Option<String>, String)> = match &q.continue_token {
            Some(token) => Some(serde_json::from_str(token).map_err(|e| {
                KubeError::Invalid(format!("continue token {token:?} is not ours: {e}"))
            })?),
            None => None,
        };
        let mut limit = q.limit.map_or(usize::MAX, |l| l as usize);
        if self.max_page > 0 {
            limit = limit.min(self.max_page);
        }
        let matching = self.matching(q)?;
        let start = after.map_or(0, |a| matching.partition_point(|o| position(o) <= a));
        let end = start.saturating_add(limit).min(matching.len());
        let items = matching[start..end].to_vec();
        let continue_token = match items.last() {
            Some(last) if end < matching.len() => Some(json!(position(last)).to_string()),
            _ => None,
        };
        Ok(Page {
            items,
            continue_token,
        })
    }

    fn create(&mut self, object: &Value, mode: CreateMode) -> Result<Value, KubeError> {
        match (mode, self.store.create(object.clone())) {
            (CreateMode::IfNotExists, Err(StoreError::Conflict(_))) => {
                let existing = Key::of(object).map_err(kube)?;
                self.store.get(&existing).map_err(kube)
            }
            (CreateMode::OrUpdate, Err(StoreError::Conflict(_))) => {
                self.store.update(object.clone()).map_err(kube)
            }
            (_, other) => other.map_err(kube),
        }
    }

    fn create_many(
        &mut self,
        objects: &[Value],
        mode: CreateMode,
    ) -> Vec<Result<Value, KubeError>> {
        objects.iter().map(|o| self.create(o, mode)).collect()
    }

    fn patch(
        &mut self,
        object: &ObjRef,
        kind: PatchKind,
        patch: &Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        let result = match kind {
            PatchKind::Merge => self.store.merge_patch(&key(object), patch),
            PatchKind::Json => self.store.json_patch(&key(object), patch),
        };
        match result {
            Err(StoreError::NotFound(_)) if options.ignore_missing_object => Ok(json!({})),
            other => other.map_err(kube),
        }
    }

    fn delete(&mut self, object: &ObjRef, _: DeleteMode) -> Result<(), KubeError> {
        match self.store.delete(&key(object)) {
            Ok(_) | Err(StoreError::NotFound(_)) => Ok(()),
            Err(other) => Err(kube(other)),
        }
    }
}

impl StoreCluster {
    /// Every object the query selects, in (namespace, name) order.
    fn matching(&mut self, q: &ListQuery) -> Result<Rc<Vec<Value>>, KubeError> {
        let id = format!(
            "{} {} {:?} {:?}",
            q.api_version, q.kind, q.namespace, q.label_selector
        );
        let revision = self.store.revision();
        if let Some(cached) = &self.cache
            && cached.query == id
            && cached.revision == revision
        {
            return Ok(Rc::clone(&cached.objects));
        }
        let objects = self
            .store
            .list(
                &q.api_version,
                &q.kind,
                q.namespace.as_deref(),
                q.label_selector.as_deref(),
            )
            .map_err(kube)?;
        let objects = Rc::new(objects);
        self.cache = Some(Listing {
            query: id,
            revision,
            objects: Rc::clone(&objects),
        });
        Ok(objects)
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

impl Budget {
    pub fn new(left: usize, mode: Kill) -> Self {
        Self {
            left,
            mode,
            killed: false,
        }
    }
}

/// A Cluster that forwards calls while the budget lasts and fails all later ones.
pub struct Killing<'a> {
    pub inner: &'a mut StoreCluster,
    pub budget: &'a mut Budget,
}

fn killed() -> KubeError {
    KubeError::Unavailable("the Job was killed".into())
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
        Err(killed())
    }
}

impl Cluster for Killing<'_> {
    fn get(&mut self, object: &ObjRef) -> Result<Value, KubeError> {
        self.call(|c| c.get(object))
    }
    fn list(&mut self, query: &ListQuery) -> Result<Page, KubeError> {
        self.call(|c| c.list(query))
    }
    fn create(&mut self, object: &Value, mode: CreateMode) -> Result<Value, KubeError> {
        self.call(|c| c.create(object, mode))
    }
    /// Each object is one call: the Job can die with part of a batch applied (and,
    /// with `AfterApply`, one more applied whose answer is lost).
    fn create_many(
        &mut self,
        objects: &[Value],
        mode: CreateMode,
    ) -> Vec<Result<Value, KubeError>> {
        let results: Vec<Result<Value, KubeError>> = objects
            .iter()
            .map(|o| self.call(|c| c.create(o, mode)))
            .collect();
        if self.budget.killed {
            // A killed process never sees any answer of the batch.
            return objects.iter().map(|_| Err(killed())).collect();
        }
        results
    }
    fn patch(
        &mut self,
        object: &ObjRef,
        kind: PatchKind,
        patch: &Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        self.call(|c| c.patch(object, kind, patch, options))
    }
    fn delete(&mut self, object: &ObjRef, mode: DeleteMode) -> Result<(), KubeError> {
        self.call(|c| c.delete(object, mode))
    }
}
