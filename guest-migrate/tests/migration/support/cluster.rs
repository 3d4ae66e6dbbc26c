//! The SDK's `Host` over the in-memory store: [`StoreCluster`] serves calls as the API
//! server does (with real pagination: limit and continue tokens), [`Served`] is the
//! `Host` the migrator runs on (logging into [`Lines`]), and [`Killing`] is a `Host` that
//! fails every call after a budget, as a killed Job would; a batch counts one call per
//! object, so a Job can be killed in the middle of a `create-many`.

use deckhouse_hooks_sdk::{
    CreateMode, DeleteMode, Host, KubeError, ListPage, ListQuery, LogLevel, ObjectRef, PatchKind,
    PatchOptions,
};
use kube_memstore::{Key, Store, StoreError};
use serde_json::{Value, json};
use std::cell::{RefCell, RefMut};
use std::rc::Rc;

/// The store behind a `Host`, for one call of the Job; log lines go to `log`.
pub struct Served<'a> {
    cluster: RefCell<&'a mut StoreCluster>,
    log: RefCell<&'a mut Lines>,
}

impl<'a> Served<'a> {
    pub fn new(cluster: &'a mut StoreCluster, log: &'a mut Lines) -> Self {
        Self {
            cluster: RefCell::new(cluster),
            log: RefCell::new(log),
        }
    }

    /// The store, to change it between calls (a race staged by a test).
    pub fn cluster(&self) -> RefMut<'_, &'a mut StoreCluster> {
        self.cluster.borrow_mut()
    }
}

impl Host for Served<'_> {
    fn get(&self, target: &ObjectRef) -> Result<Value, KubeError> {
        self.cluster().get(target)
    }
    fn list(&self, query: &ListQuery) -> Result<ListPage, KubeError> {
        self.cluster().list(query)
    }
    fn create(&self, object: &Value, mode: CreateMode) -> Result<Value, KubeError> {
        self.cluster().create(object, mode)
    }
    fn patch(
        &self,
        target: &ObjectRef,
        kind: PatchKind,
        patch: &Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        self.cluster().patch(target, kind, patch, options)
    }
    fn delete(&self, target: &ObjectRef, _: DeleteMode) -> Result<(), KubeError> {
        self.cluster().delete(target)
    }
    /// Log lines are the host's memory, not the guest's.
    fn log(&self, level: LogLevel, message: &str, fields: &[(&str, &str)]) {
        super::meter::as_guest(false, || {
            self.log.borrow_mut().emit(level, message, fields);
        });
    }
}

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

pub fn key(object: &ObjectRef) -> Key {
    Key {
        api_version: object.api_version.clone(),
        kind: object.kind.clone(),
        namespace: object.namespace.clone(),
        name: object.name.clone(),
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

impl StoreCluster {
    pub fn get(&mut self, object: &ObjectRef) -> Result<Value, KubeError> {
        self.store.get(&key(object)).map_err(KubeError::from)
    }

    pub fn list(&mut self, q: &ListQuery) -> Result<ListPage, KubeError> {
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
        Ok(ListPage {
            items,
            continue_token,
        })
    }

    pub fn create(&mut self, object: &Value, mode: CreateMode) -> Result<Value, KubeError> {
        match (mode, self.store.create(object.clone())) {
            (CreateMode::IfNotExists, Err(StoreError::Conflict(_))) => {
                let existing = Key::of(object)?;
                self.store.get(&existing).map_err(KubeError::from)
            }
            (CreateMode::OrUpdate, Err(StoreError::Conflict(_))) => {
                self.store.update(object.clone()).map_err(KubeError::from)
            }
            (_, other) => other.map_err(KubeError::from),
        }
    }

    pub fn patch(
        &mut self,
        object: &ObjectRef,
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
            other => other.map_err(KubeError::from),
        }
    }

    pub fn delete(&mut self, object: &ObjectRef) -> Result<(), KubeError> {
        match self.store.delete(&key(object)) {
            Ok(_) | Err(StoreError::NotFound(_)) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }

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
            .map_err(KubeError::from)?;
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

impl Lines {
    fn emit(&mut self, level: LogLevel, message: &str, fields: &[(&str, &str)]) {
        let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        self.0
            .push(format!("{level:?} {message} {}", fields.join(" ")));
    }

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

/// A `Host` that forwards calls while the budget lasts and fails all later ones.
pub struct Killing<'a> {
    inner: &'a dyn Host,
    budget: RefCell<&'a mut Budget>,
}

fn killed() -> KubeError {
    KubeError::Unavailable("the Job was killed".into())
}

impl<'a> Killing<'a> {
    pub fn new(inner: &'a dyn Host, budget: &'a mut Budget) -> Self {
        Self {
            inner,
            budget: RefCell::new(budget),
        }
    }

    fn call<T>(
        &self,
        call: impl FnOnce(&dyn Host) -> Result<T, KubeError>,
    ) -> Result<T, KubeError> {
        let mut budget = self.budget.borrow_mut();
        if budget.left > 0 {
            budget.left -= 1;
            drop(budget);
            return call(self.inner);
        }
        if !budget.killed && budget.mode == Kill::AfterApply {
            let _lost = call(self.inner);
        }
        budget.killed = true;
        Err(killed())
    }
}

impl Host for Killing<'_> {
    fn get(&self, object: &ObjectRef) -> Result<Value, KubeError> {
        self.call(|h| h.get(object))
    }
    fn list(&self, query: &ListQuery) -> Result<ListPage, KubeError> {
        self.call(|h| h.list(query))
    }
    fn create(&self, object: &Value, mode: CreateMode) -> Result<Value, KubeError> {
        self.call(|h| h.create(object, mode))
    }
    /// Each object is one call: the Job can die with part of a batch applied (and,
    /// with `AfterApply`, one more applied whose answer is lost).
    fn create_many(&self, objects: &[Value], mode: CreateMode) -> Vec<Result<Value, KubeError>> {
        let results: Vec<Result<Value, KubeError>> = objects
            .iter()
            .map(|o| self.call(|h| h.create(o, mode)))
            .collect();
        if self.budget.borrow().killed {
            // A killed process never sees any answer of the batch.
            return objects.iter().map(|_| Err(killed())).collect();
        }
        results
    }
    fn patch(
        &self,
        object: &ObjectRef,
        kind: PatchKind,
        patch: &Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        self.call(|h| h.patch(object, kind, patch, options))
    }
    fn delete(&self, object: &ObjectRef, mode: DeleteMode) -> Result<(), KubeError> {
        self.call(|h| h.delete(object, mode))
    }
    fn log(&self, level: LogLevel, message: &str, fields: &[(&str, &str)]) {
        self.inner.log(level, message, fields);
    }
}
