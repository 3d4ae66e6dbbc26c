//! The one trait every source of Kubernetes data implements: this run's snapshots
//! (hook mode), the live API server (job mode), or an in-memory store (simulation, tests).

use super::types::{
    CreateMode, DeleteMode, KubeError, ListPage, ListQuery, ObjectRef, PatchKind, PatchOptions,
};
use serde_json::Value;

/// Kubernetes calls as the guest makes them, after the grants check.
///
/// Calls are synchronous: the guest is synchronous, and a live backend blocks on its
/// own runtime. Errors are data, so the guest decides what a `not-found` means.
pub trait KubeBackend: Send {
    /// One object.
    fn get(&mut self, target: &ObjectRef) -> Result<Value, KubeError>;
    /// One page of the objects matching the query.
    fn list(&mut self, query: &ListQuery) -> Result<ListPage, KubeError>;
    /// Creates `object` as `mode` says.
    fn create(&mut self, object: Value, mode: CreateMode) -> Result<Value, KubeError>;
    /// Creates many objects; one result per object, in order. Backends that can send
    /// concurrently override this; the default sends one after the other.
    fn create_many(
        &mut self,
        objects: Vec<Value>,
        mode: CreateMode,
    ) -> Vec<Result<Value, KubeError>> {
        objects.into_iter().map(|o| self.create(o, mode)).collect()
    }
    /// Patches one object (or its subresource) and returns the result.
    fn patch(
        &mut self,
        target: &ObjectRef,
        kind: PatchKind,
        patch: Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError>;
    /// Deletes one object; an object already gone is not an error.
    fn delete(&mut self, target: &ObjectRef, mode: DeleteMode) -> Result<(), KubeError>;
    /// Hands over the Deckhouse object operations this backend queued (hook mode), and
    /// forgets them. Backends that write directly queue nothing.
    fn take_operations(&mut self) -> Vec<Value> {
        Vec::new()
    }
}
