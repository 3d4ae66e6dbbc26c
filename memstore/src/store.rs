//! The store itself: one map of objects plus the cluster-wide resourceVersion counter.

use crate::{Key, Selector, StoreError, meta};
use serde_json::Value;
use std::cell::Cell;
use std::collections::BTreeMap;

/// Objects by key, with API-server write rules (409 on create, optimistic
/// concurrency on update and patch, immutable identity).
#[derive(Default, Clone, Debug)]
pub struct Store {
    objects: BTreeMap<Key, Value>,
    revision: u64,
    calls: Cell<u64>,
}

impl Store {
    pub fn new() -> Self {
        Self::default()
    }

    /// One object.
    pub fn get(&self, key: &Key) -> Result<Value, StoreError> {
        self.count();
        self.objects.get(key).cloned().ok_or_else(|| not_found(key))
    }

    /// Objects of one kind, all namespaces when `namespace` is `None`, sorted by
    /// (namespace, name); cluster-scoped objects come first.
    pub fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<Value>, StoreError> {
        self.count();
        let selector = Selector::parse(label_selector.unwrap_or_default())?;
        Ok(self
            .objects
            .iter()
            .filter(|(k, _)| k.api_version == api_version && k.kind == kind)
            .filter(|(k, _)| namespace.is_none() || k.namespace.as_deref() == namespace)
            .filter(|(_, object)| selector.matches(object))
            .map(|(_, object)| object.clone())
            .collect())
    }

    /// Stores a new object. Server-owned metadata the client sent (resourceVersion,
    /// uid, creationTimestamp, generation) is overwritten, so fixtures taken from a
    /// real cluster load as they are.
    pub fn create(&mut self, mut object: Value) -> Result<Value, StoreError> {
        self.count();
        let key = Key::of(&object)?;
        if self.objects.contains_key(&key) {
            return Err(StoreError::Conflict(format!("{key} already exists")));
        }
        let revision = self.bump();
        meta::stamp_created(&mut object, revision);
        self.objects.insert(key, object.clone());
        Ok(object)
    }

    /// Replaces an object. A resourceVersion in `object` is a precondition.
    pub fn update(&mut self, object: Value) -> Result<Value, StoreError> {
        self.count();
        let key = Key::of(&object)?;
        let old = self.objects.get(&key).ok_or_else(|| not_found(&key))?;
        check_precondition(&key, old, meta::resource_version(&object))?;
        Ok(self.replace(key, object))
    }

    /// Applies an RFC 7386 merge patch. A resourceVersion inside the patch is a precondition.
    pub fn merge_patch(&mut self, key: &Key, patch: &Value) -> Result<Value, StoreError> {
        self.count();
        let old = self.objects.get(key).ok_or_else(|| not_found(key))?;
        check_precondition(key, old, meta::resource_version(patch))?;
        let mut new = old.clone();
        json_patch::merge(&mut new, patch);
        check_identity(key, &new)?;
        Ok(self.replace(key.clone(), new))
    }

    /// Applies an RFC 6902 JSON patch; a failed `test` operation is a `Conflict`.
    pub fn json_patch(&mut self, key: &Key, patch: &Value) -> Result<Value, StoreError> {
        self.count();
        let operations: json_patch::Patch = serde_json::from_value(patch.clone()).map_err(|e| {
            StoreError::Invalid(format!(
                "JSON patch for {key} is malformed: {e}; expected an array of RFC 6902 operations"
            ))
        })?;
        let old = self.objects.get(key).ok_or_else(|| not_found(key))?;
        let mut new = old.clone();
        json_patch::patch(&mut new, &operations).map_err(|e| match e.kind {
            json_patch::PatchErrorKind::TestFailed => {
                StoreError::Conflict(format!("JSON patch for {key}: {e}"))
            }
            _ => StoreError::Invalid(format!("JSON patch for {key} does not apply: {e}")),
        })?;
        check_identity(key, &new)?;
        Ok(self.replace(key.clone(), new))
    }

    /// Removes an object and returns it as it was.
    pub fn delete(&mut self, key: &Key) -> Result<Value, StoreError> {
        self.count();
        let object = self.objects.remove(key).ok_or_else(|| not_found(key))?;
        self.bump();
        Ok(object)
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Every object, in key order (apiVersion, kind, namespace, name).
    pub fn objects(&self) -> impl Iterator<Item = &Value> {
        self.objects.values()
    }

    /// How many get/list/create/update/patch/delete calls were served, failed ones
    /// included, so crash tests can stop a client at a chosen call.
    pub fn calls(&self) -> u64 {
        self.calls.get()
    }

    /// The resourceVersion of the latest write, for list metadata.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    fn count(&self) {
        self.calls.set(self.calls.get() + 1);
    }

    fn bump(&mut self) -> u64 {
        self.revision += 1;
        self.revision
    }

    fn replace(&mut self, key: Key, mut new: Value) -> Value {
        let revision = self.bump();
        if let Some(old) = self.objects.get(&key) {
            meta::stamp_replaced(&mut new, old, revision);
        }
        self.objects.insert(key, new.clone());
        new
    }
}

fn not_found(key: &Key) -> StoreError {
    StoreError::NotFound(format!("{key} not found"))
}

fn check_precondition(key: &Key, stored: &Value, expected: Option<&str>) -> Result<(), StoreError> {
    match expected {
        Some(expected) if Some(expected) != meta::resource_version(stored) => {
            Err(StoreError::Conflict(format!(
                "operation cannot be fulfilled on {key}: the object has been modified \
             (resourceVersion {expected} is stale); read the latest version and try again"
            )))
        }
        _ => Ok(()),
    }
}

fn check_identity(key: &Key, patched: &Value) -> Result<(), StoreError> {
    match Key::of(patched) {
        Ok(after) if after == *key => Ok(()),
        Ok(after) => Err(StoreError::Invalid(format!(
            "patch would turn {key} into {after}; apiVersion, kind, metadata.name and metadata.namespace cannot change"
        ))),
        Err(e) => Err(StoreError::Invalid(format!(
            "patch leaves {key} without its identity: {e}"
        ))),
    }
}
