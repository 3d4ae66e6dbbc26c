//! The store itself: one map of objects plus the cluster-wide resourceVersion counter.

use crate::{Key, Selector, StoreError, key_of, meta};
use serde_json::Value;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

/// What [`Store::list_page`] lists.
#[derive(Clone, Copy, Debug, Default)]
pub struct PageQuery<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    /// None: all namespaces (or a cluster-scoped kind).
    pub namespace: Option<&'a str>,
    pub label_selector: Option<&'a str>,
    /// The last (namespace, name) of the previous page; "" namespace for cluster-scoped.
    pub after: Option<(&'a str, &'a str)>,
    /// At most this many objects; None: all.
    pub limit: Option<usize>,
}

/// Objects by key, with API-server write rules (409 on create, optimistic
/// concurrency on update and patch, immutable identity).
///
/// Each object is shared (`Arc`) and replaced whole on a write, so cloning a store copies
/// no object: `verify` clones the whole cluster for every state it explores.
#[derive(Default, Clone, Debug)]
pub struct Store {
    objects: BTreeMap<Key, Arc<Value>>,
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
        self.objects
            .get(key)
            .map(|object| Value::clone(object))
            .ok_or_else(|| not_found(key))
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
            .map(|(_, object)| Value::clone(object))
            .collect())
    }

    /// One page of [`Store::list`]: the objects after `after` (a (namespace, name), ""
    /// for cluster-scoped) that `keep` accepts too, at most `limit` of them, and whether
    /// more follow. It walks the kind's range of keys from `after` and clones only what it
    /// returns, so paging through a kind costs what the kind holds, not pages x kind.
    pub fn list_page(
        &self,
        query: PageQuery<'_>,
        keep: impl Fn(&Value) -> bool,
    ) -> Result<(Vec<Value>, bool), StoreError> {
        self.count();
        let selector = Selector::parse(query.label_selector.unwrap_or_default())?;
        let key = |namespace: &str, name: &str| Key {
            api_version: query.api_version.to_owned(),
            kind: query.kind.to_owned(),
            namespace: (!namespace.is_empty()).then(|| namespace.to_owned()),
            name: name.to_owned(),
        };
        let start = match query.after {
            Some((namespace, name)) => Bound::Excluded(key(namespace, name)),
            None => Bound::Included(key("", "")),
        };
        let mut page = Vec::new();
        let matching = self
            .objects
            .range((start, Bound::Unbounded))
            .take_while(|(k, _)| k.api_version == query.api_version && k.kind == query.kind)
            .filter(|(k, _)| query.namespace.is_none() || k.namespace.as_deref() == query.namespace)
            .filter(|(_, object)| selector.matches(object) && keep(object));
        for (_, object) in matching {
            if query.limit.is_some_and(|limit| page.len() == limit) {
                return Ok((page, true));
            }
            page.push(Value::clone(object));
        }
        Ok((page, false))
    }

    /// Stores a new object. Server-owned metadata the client sent (resourceVersion,
    /// uid, creationTimestamp, generation) is overwritten, so fixtures taken from a
    /// real cluster load as they are.
    pub fn create(&mut self, mut object: Value) -> Result<Value, StoreError> {
        self.count();
        let key = key_of(&object)?;
        if self.objects.contains_key(&key) {
            return Err(StoreError::Conflict(format!("{key} already exists")));
        }
        let revision = self.bump();
        meta::stamp_created(&mut object, revision);
        self.objects.insert(key, Arc::new(object.clone()));
        Ok(object)
    }

    /// Replaces an object. A resourceVersion in `object` is a precondition.
    pub fn update(&mut self, object: Value) -> Result<Value, StoreError> {
        self.count();
        let key = key_of(&object)?;
        let old = self.objects.get(&key).ok_or_else(|| not_found(&key))?;
        check_precondition(&key, old, meta::resource_version(&object))?;
        Ok(self.replace(key, object))
    }

    /// Applies an RFC 7386 merge patch. A resourceVersion inside the patch is a precondition.
    pub fn merge_patch(&mut self, key: &Key, patch: &Value) -> Result<Value, StoreError> {
        self.count();
        let old = self.objects.get(key).ok_or_else(|| not_found(key))?;
        check_precondition(key, old, meta::resource_version(patch))?;
        let mut new = Value::clone(old);
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
        let mut new = Value::clone(old);
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
        Ok(Arc::unwrap_or_clone(object))
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Every object, in key order (apiVersion, kind, namespace, name).
    pub fn objects(&self) -> impl Iterator<Item = &Value> {
        self.objects.values().map(|object| &**object)
    }

    /// Every object as the store holds it, in key order: the same `Arc` for as long as the
    /// object is unchanged, in this store and its clones (a write replaces it).
    pub fn shared_objects(&self) -> impl Iterator<Item = &Arc<Value>> {
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
        self.objects.insert(key, Arc::new(new.clone()));
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
    match key_of(patched) {
        Ok(after) if after == *key => Ok(()),
        Ok(after) => Err(StoreError::Invalid(format!(
            "patch would turn {key} into {after}; apiVersion, kind, metadata.name and metadata.namespace cannot change"
        ))),
        Err(e) => Err(StoreError::Invalid(format!(
            "patch leaves {key} without its identity: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_walk_one_kind_in_list_order_and_end() {
        let mut store = Store::new();
        for (kind, namespace, name) in [
            ("ConfigMap", "b", "x"),
            ("ConfigMap", "a", "y"),
            ("ConfigMap", "a", "x"),
            ("Secret", "a", "s"),
            ("ConfigMap", "c", "z"),
        ] {
            let object = json!({"apiVersion": "v1", "kind": kind, "metadata": {"namespace": namespace, "name": name, "labels": {"n": name}}});
            store.create(object).unwrap();
        }
        let all = store.list("v1", "ConfigMap", None, None).unwrap();
        let mut paged = Vec::new();
        let mut after: Option<(String, String)> = None;
        loop {
            let query = PageQuery {
                api_version: "v1",
                kind: "ConfigMap",
                after: after.as_ref().map(|(n, m)| (n.as_str(), m.as_str())),
                limit: Some(2),
                ..PageQuery::default()
            };
            let (page, more) = store.list_page(query, |_| true).unwrap();
            assert!(page.len() <= 2);
            let last = page.last().cloned();
            paged.extend(page);
            if !more {
                break;
            }
            let last = last.expect("a page with more to come is not empty");
            let text = |p: &str| last.pointer(p).and_then(Value::as_str).unwrap().to_owned();
            after = Some((text("/metadata/namespace"), text("/metadata/name")));
        }
        assert_eq!(paged, all);
        // Selectors and the extra filter narrow a page; the namespace too.
        let query = PageQuery {
            api_version: "v1",
            kind: "ConfigMap",
            namespace: Some("a"),
            label_selector: Some("n=x"),
            ..PageQuery::default()
        };
        let (page, more) = store.list_page(query, |_| true).unwrap();
        assert_eq!(page.len(), 1);
        assert!(!more);
        let (none, _) = store.list_page(query, |_| false).unwrap();
        assert!(none.is_empty());
    }
}
