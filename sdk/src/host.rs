//! What a guest needs from its host: Kubernetes calls and a log. In a Wasm guest the WIT
//! imports implement [`Host`]; natively, tests implement it over objects in memory
//! (the `testing` feature's `testkit::Cluster`), so hooks and jobs unit-test without Wasm.

use hooks_manifest::{
    CreateMode, DeleteMode, KubeError, ListPage, ListQuery, ObjectRef, PatchKind, PatchOptions,
};
use serde_json::Value;

/// Log severity; mirrors the WIT `log-level` enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Details for debugging (shown with `LOG_LEVEL=debug`).
    Debug,
    /// What happened.
    Info,
    /// Something a person should look at.
    Warn,
    /// A failure.
    Error,
}

impl LogLevel {
    /// The lowercase name Deckhouse reads from a JSON log line's `level`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// The `kubernetes` and `log` imports of the `hook-guest` and `job-guest` worlds.
///
/// Methods take `&self`: the imports are free functions, and in-memory implementations
/// keep their state in a `RefCell`, so a hook can hold the client and the logger at once.
pub trait Host {
    /// One object as JSON.
    fn get(&self, target: &ObjectRef) -> Result<Value, KubeError>;
    /// One page of the matching objects.
    fn list(&self, query: &ListQuery) -> Result<ListPage, KubeError>;
    /// Creates an object; returns it as stored (for `IfNotExists` on an existing object:
    /// the existing one).
    fn create(&self, object: &Value, mode: CreateMode) -> Result<Value, KubeError>;
    /// Creates many objects, one result per object in order (the host sends them
    /// concurrently).
    fn create_many(&self, objects: &[Value], mode: CreateMode) -> Vec<Result<Value, KubeError>> {
        objects.iter().map(|o| self.create(o, mode)).collect()
    }
    /// Patches an object; returns the patched object (in a hook run: the patch as queued).
    fn patch(
        &self,
        target: &ObjectRef,
        kind: PatchKind,
        patch: &Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError>;
    /// Deletes an object; one that is already gone is not an error.
    fn delete(&self, target: &ObjectRef, mode: DeleteMode) -> Result<(), KubeError>;
    /// One log line with extra fields.
    fn log(&self, level: LogLevel, message: &str, fields: &[(&str, &str)]);
}
