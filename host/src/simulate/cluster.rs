//! The embedded cluster: [`kube_memstore::Store`] behind the [`KubeBackend`] the Job's
//! guest calls, with the faults the simulator injects at a chosen call.

use crate::capabilities::backend::KubeBackend;
use crate::capabilities::types::apply_patch;
use crate::capabilities::types::{
    CreateMode, DeleteMode, KubeError, ListPage, ListQuery, ObjectRef, PatchKind, PatchOptions,
};
use kube_memstore::{Key, Store, StoreError, key_of};
use serde_json::Value;
use std::sync::{Arc, Mutex, MutexGuard};

/// What goes wrong at call number `at` (0-based) of one Job step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CallFault {
    /// The call fails as a transient API error (5xx or timeout after the retries).
    Unavailable,
    /// The call fails for good (400/422): the Job's step fails.
    Invalid,
    /// The Job's pod is killed before the call: nothing from it on is sent.
    Kill,
}

/// A [`KubeBackend`] over a shared store, counting calls and failing one as told.
pub struct StoreBackend {
    store: Arc<Mutex<Store>>,
    calls: u32,
    fault: Option<(u32, CallFault)>,
    /// Set once a `Kill` fault fired: the step's result is void.
    pub killed: bool,
}

impl StoreBackend {
    pub fn new(store: Arc<Mutex<Store>>, fault: Option<(u32, CallFault)>) -> Self {
        Self {
            store,
            calls: 0,
            fault,
            killed: false,
        }
    }

    /// Counts the call and returns the fault planned for it, if any.
    fn enter(&mut self) -> Result<MutexGuard<'_, Store>, KubeError> {
        let n = self.calls;
        self.calls += 1;
        if self.killed {
            return Err(KubeError::Unavailable("the Job's pod was killed".into()));
        }
        match self.fault {
            Some((at, CallFault::Unavailable)) if at == n => Err(KubeError::Unavailable(format!(
                "injected: call {n} of this step failed (API unavailable)"
            ))),
            Some((at, CallFault::Invalid)) if at == n => Err(KubeError::Invalid(format!(
                "injected: call {n} of this step was rejected by the API server"
            ))),
            Some((at, CallFault::Kill)) if at <= n => {
                self.killed = true;
                Err(KubeError::Unavailable("the Job's pod was killed".into()))
            }
            _ => Ok(self.store.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }

    /// How many calls the step made (the injected one included).
    pub fn calls(&self) -> u32 {
        self.calls
    }
}

fn key(target: &ObjectRef) -> Key {
    Key {
        api_version: target.api_version.clone(),
        kind: target.kind.clone(),
        namespace: target.namespace.clone(),
        name: target.name.clone(),
    }
}

impl KubeBackend for StoreBackend {
    fn get(&mut self, target: &ObjectRef) -> Result<Value, KubeError> {
        self.enter()?.get(&key(target)).map_err(KubeError::from)
    }

    fn list(&mut self, query: &ListQuery) -> Result<ListPage, KubeError> {
        // The store's list counts the call (the verifier places faults by call number);
        // selectors and pages are the manifest's, as for every other backend.
        let of_kind = self
            .enter()?
            .list(
                &query.api_version,
                &query.kind,
                query.namespace.as_deref(),
                None,
            )
            .map_err(KubeError::from)?;
        query.page(&of_kind)
    }

    fn create(&mut self, object: Value, mode: CreateMode) -> Result<Value, KubeError> {
        let mut store = self.enter()?;
        let id = Key::of(&object)?;
        match (store.get(&id), mode) {
            (Ok(existing), CreateMode::IfNotExists) => Ok(existing),
            (Ok(_), CreateMode::OrUpdate) => store.update(object).map_err(KubeError::from),
            _ => store.create(object).map_err(KubeError::from),
        }
    }

    fn patch(
        &mut self,
        target: &ObjectRef,
        kind: PatchKind,
        patch: Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        let ignore_missing = options.ignore_missing_object;
        let mut store = self.enter()?;
        let id = key(target);
        let result = match kind {
            PatchKind::Merge => store.merge_patch(&id, &patch),
            PatchKind::Json => store.json_patch(&id, &patch),
        };
        match result {
            Err(StoreError::NotFound(_)) if ignore_missing => Ok(patch),
            other => other.map_err(KubeError::from),
        }
    }

    fn delete(&mut self, target: &ObjectRef, _mode: DeleteMode) -> Result<(), KubeError> {
        match self.enter()?.delete(&key(target)) {
            Ok(_) | Err(StoreError::NotFound(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Applies one Deckhouse object operation (what a hook run hands back) to the store, as
/// Deckhouse's object patcher does.
pub fn apply_operation(store: &mut Store, op: &Value) -> Result<(), String> {
    let name = op["operation"].as_str().unwrap_or_default();
    let target = || -> Result<Key, String> {
        Ok(Key {
            api_version: text(op, "apiVersion")?,
            kind: text(op, "kind")?,
            namespace: op["namespace"].as_str().map(str::to_owned),
            name: text(op, "name")?,
        })
    };
    let fail = |e: StoreError| format!("{name}: {e}");
    match name {
        "Create" => store.create(op["object"].clone()).map(drop).map_err(fail),
        "CreateIfNotExists" => match store.create(op["object"].clone()) {
            Ok(_) | Err(StoreError::Conflict(_)) => Ok(()),
            Err(e) => Err(fail(e)),
        },
        "CreateOrUpdate" => {
            let object = op["object"].clone();
            let id = key_of(&object).map_err(fail)?;
            match store.get(&id) {
                Ok(_) => store.update(object).map(drop).map_err(fail),
                Err(_) => store.create(object).map(drop).map_err(fail),
            }
        }
        "MergePatch" | "JSONPatch" => {
            let id = target()?;
            let ignore = op["ignoreMissingObject"].as_bool().unwrap_or(false);
            let result = if name == "MergePatch" {
                store.merge_patch(&id, &op["mergePatch"])
            } else {
                store.json_patch(&id, &op["jsonPatch"])
            };
            match result {
                Err(StoreError::NotFound(_)) if ignore => Ok(()),
                other => other.map(drop).map_err(fail),
            }
        }
        "Delete" | "DeleteInBackground" | "DeleteNonCascading" => match store.delete(&target()?) {
            Ok(_) | Err(StoreError::NotFound(_)) => Ok(()),
            Err(e) => Err(fail(e)),
        },
        other => Err(format!("unknown object operation {other:?}")),
    }
}

fn text(op: &Value, field: &str) -> Result<String, String> {
    op[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("object operation without {field}: {op}"))
}

/// The object with a patch applied, for the simulator's own controllers.
pub fn merged(object: &Value, patch: &Value) -> Value {
    apply_patch(object, PatchKind::Merge, patch).unwrap_or_else(|_| object.clone())
}
