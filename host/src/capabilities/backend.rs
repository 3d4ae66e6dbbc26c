//! The one trait every source of Kubernetes data implements: this run's snapshots
//! (hook mode), the live API server (job mode), or an in-memory store (tests).

use super::types::{KubeError, ListQuery, ObjectRef, PatchKind};
use serde_json::Value;

/// Kubernetes calls as the guest makes them, after the grants check.
///
/// Calls are synchronous: the guest is synchronous, and a live backend blocks on its
/// own runtime. Errors are data, so the guest decides what a `not-found` means.
pub trait KubeBackend: Send {
    /// One object.
    fn get(&mut self, target: &ObjectRef) -> Result<Value, KubeError>;
    /// Every object matching the query.
    fn list(&mut self, query: &ListQuery) -> Result<Vec<Value>, KubeError>;
    /// Creates `object`; with `if_absent`, an existing object is returned instead of `Conflict`.
    fn create(&mut self, object: Value, if_absent: bool) -> Result<Value, KubeError>;
    /// Patches one object and returns the result.
    fn patch(&mut self, target: &ObjectRef, kind: PatchKind, patch: Value) -> Result<Value, KubeError>;
    /// Deletes one object.
    fn delete(&mut self, target: &ObjectRef) -> Result<(), KubeError>;
}

/// A backend the host keeps a handle to while the guest's store owns it, so a hook run
/// can collect the operations its snapshot backend queued.
pub struct Shared<B>(pub std::sync::Arc<std::sync::Mutex<B>>);

impl<B: KubeBackend> Shared<B> {
    fn with<R>(&self, f: impl FnOnce(&mut B) -> Result<R, KubeError>) -> Result<R, KubeError> {
        let mut guard = self.0.lock().map_err(|_| KubeError::Unavailable("backend poisoned by an earlier panic".into()))?;
        f(&mut guard)
    }
}

impl<B: KubeBackend> KubeBackend for Shared<B> {
    fn get(&mut self, target: &ObjectRef) -> Result<Value, KubeError> {
        self.with(|b| b.get(target))
    }
    fn list(&mut self, query: &ListQuery) -> Result<Vec<Value>, KubeError> {
        self.with(|b| b.list(query))
    }
    fn create(&mut self, object: Value, if_absent: bool) -> Result<Value, KubeError> {
        self.with(|b| b.create(object, if_absent))
    }
    fn patch(&mut self, target: &ObjectRef, kind: PatchKind, patch: Value) -> Result<Value, KubeError> {
        self.with(|b| b.patch(target, kind, patch))
    }
    fn delete(&mut self, target: &ObjectRef) -> Result<(), KubeError> {
        self.with(|b| b.delete(target))
    }
}
