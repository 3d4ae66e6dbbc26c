//! The Kubernetes client of a hook or job: reads (get, paged list, an iterator over all
//! pages) and every object operation Deckhouse offers (module-sdk's `PatchCollector`):
//! `Create`, `CreateIfNotExists`, `CreateOrUpdate`, `Delete`, `DeleteInBackground`,
//! `DeleteNonCascading`, `MergePatch` and `JSONPatch`, with a subresource and
//! `ignoreMissingObject`.
//!
//! In a hook run, reads are served from the run's snapshots and writes are queued as
//! object operations Deckhouse applies after the run; in a job they reach the API server.
//! Unlike module-sdk's collector each call answers at once, so a hook can react to a
//! conflict or a missing grant.

use crate::host::Host;
use hooks_manifest::{
    CreateMode, DeleteMode, KubeError, ListPage, ListQuery, ObjectRef, PatchKind, PatchOptions,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The client over a [`Host`].
#[derive(Clone, Copy)]
pub struct Kube<'h> {
    host: &'h dyn Host,
}

impl<'h> Kube<'h> {
    /// A client over `host`.
    pub fn new(host: &'h dyn Host) -> Self {
        Self { host }
    }

    /// One object, decoded.
    pub fn get<T: DeserializeOwned>(&self, target: &ObjectRef) -> Result<T, KubeError> {
        decode(self.host.get(target)?, "get")
    }

    /// One object, None when it does not exist.
    pub fn get_opt<T: DeserializeOwned>(&self, target: &ObjectRef) -> Result<Option<T>, KubeError> {
        match self.get(target) {
            Ok(object) => Ok(Some(object)),
            Err(KubeError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One page of a list.
    pub fn list(&self, query: &ListQuery) -> Result<ListPage, KubeError> {
        self.host.list(query)
    }

    /// Every matching object, page after page, as an iterator; an error ends it.
    pub fn list_all(&self, query: &ListQuery) -> ListAll<'h> {
        ListAll {
            host: self.host,
            query: query.clone(),
            page: Vec::new().into_iter(),
            done: false,
        }
    }

    /// Every matching object, decoded.
    pub fn list_all_as<T: DeserializeOwned>(&self, query: &ListQuery) -> Result<Vec<T>, KubeError> {
        self.list_all(query)
            .map(|item| item.and_then(|o| decode(o, "list")))
            .collect()
    }

    /// `Create`: an existing object is a conflict.
    pub fn create(&self, object: &impl Serialize) -> Result<Value, KubeError> {
        self.host.create(&encode(object)?, CreateMode::Create)
    }

    /// `CreateIfNotExists`: an existing object is left alone and returned.
    pub fn create_if_not_exists(&self, object: &impl Serialize) -> Result<Value, KubeError> {
        self.host.create(&encode(object)?, CreateMode::IfNotExists)
    }

    /// `CreateOrUpdate`: an existing object is replaced.
    pub fn create_or_update(&self, object: &impl Serialize) -> Result<Value, KubeError> {
        self.host.create(&encode(object)?, CreateMode::OrUpdate)
    }

    /// Many creates of one mode, sent concurrently by the host; one result per object.
    pub fn create_many<T: Serialize>(
        &self,
        objects: &[T],
        mode: CreateMode,
    ) -> Result<Vec<Result<Value, KubeError>>, KubeError> {
        let objects = objects.iter().map(encode).collect::<Result<Vec<_>, _>>()?;
        Ok(self.host.create_many(&objects, mode))
    }

    /// `Delete`: foreground, dependents first.
    pub fn delete(&self, target: &ObjectRef) -> Result<(), KubeError> {
        self.host.delete(target, DeleteMode::Foreground)
    }

    /// `DeleteInBackground`: the garbage collector removes dependents afterwards.
    pub fn delete_in_background(&self, target: &ObjectRef) -> Result<(), KubeError> {
        self.host.delete(target, DeleteMode::Background)
    }

    /// `DeleteNonCascading`: dependents are orphaned.
    pub fn delete_non_cascading(&self, target: &ObjectRef) -> Result<(), KubeError> {
        self.host.delete(target, DeleteMode::Orphan)
    }

    /// `MergePatch` (RFC 7386).
    pub fn merge_patch(
        &self,
        target: &ObjectRef,
        patch: &impl Serialize,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        self.host
            .patch(target, PatchKind::Merge, &encode(patch)?, options)
    }

    /// `JSONPatch` (RFC 6902): `operations` is the array of operations.
    pub fn json_patch(
        &self,
        target: &ObjectRef,
        operations: &impl Serialize,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        let operations = encode(operations)?;
        if !operations.is_array() {
            return Err(KubeError::Invalid(format!(
                "a JSON patch of {target} must be an array of operations"
            )));
        }
        self.host
            .patch(target, PatchKind::Json, &operations, options)
    }
}

/// Every object of a list, fetching the next page when one runs out.
pub struct ListAll<'h> {
    host: &'h dyn Host,
    query: ListQuery,
    page: std::vec::IntoIter<Value>,
    done: bool,
}

impl Iterator for ListAll<'_> {
    type Item = Result<Value, KubeError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.page.next() {
                return Some(Ok(item));
            }
            if self.done {
                return None;
            }
            match self.host.list(&self.query) {
                Ok(page) => {
                    self.done = page.continue_token.is_none();
                    self.query.continue_token = page.continue_token;
                    self.page = page.items.into_iter();
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

fn encode(value: &impl Serialize) -> Result<Value, KubeError> {
    serde_json::to_value(value)
        .map_err(|e| KubeError::Invalid(format!("the object does not serialize to JSON: {e}")))
}

fn decode<T: DeserializeOwned>(value: Value, call: &str) -> Result<T, KubeError> {
    serde_json::from_value(value)
        .map_err(|e| KubeError::Invalid(format!("the {call} answer does not decode: {e}")))
}
