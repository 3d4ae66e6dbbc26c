//! The guest's view of Kubernetes: the WIT `kubernetes` import as a trait, so the
//! migration logic runs unchanged on the host imports (wasm) and on an in-memory
//! store (native tests).

use serde_json::Value;

/// Names one object (mirrors WIT `object-ref`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjRef {
    pub api_version: String,
    pub kind: String,
    /// None for cluster-scoped objects.
    pub namespace: Option<String>,
    pub name: String,
}

/// Selects objects of one kind (mirrors WIT `list-query`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
}

/// How a patch document is read (mirrors WIT `patch-kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    /// RFC 7386 JSON merge patch.
    Merge,
    /// RFC 6902 JSON patch.
    Json,
}

/// Why a call failed (mirrors WIT `kube-error`); each case carries the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KubeError {
    NotFound(String),
    Forbidden(String),
    Conflict(String),
    Invalid(String),
    Unavailable(String),
}

impl std::fmt::Display for KubeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, msg) = match self {
            Self::NotFound(m) => ("not found", m),
            Self::Forbidden(m) => ("forbidden", m),
            Self::Conflict(m) => ("conflict", m),
            Self::Invalid(m) => ("invalid", m),
            Self::Unavailable(m) => ("unavailable", m),
        };
        write!(f, "{what}: {msg}")
    }
}

/// Kubernetes calls the migration needs; objects are JSON values.
pub trait Cluster {
    fn get(&mut self, object: &ObjRef) -> Result<Value, KubeError>;
    fn list(&mut self, query: &ListQuery) -> Result<Vec<Value>, KubeError>;
    /// With `if_absent`, an existing object is returned instead of a conflict.
    fn create(&mut self, object: &Value, if_absent: bool) -> Result<Value, KubeError>;
    fn patch(
        &mut self,
        object: &ObjRef,
        kind: PatchKind,
        patch: &Value,
    ) -> Result<Value, KubeError>;
    fn delete(&mut self, object: &ObjRef) -> Result<(), KubeError>;
}

impl ObjRef {
    /// A namespaced object.
    pub fn namespaced(api_version: &str, kind: &str, namespace: &str, name: &str) -> Self {
        Self {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: Some(namespace.into()),
            name: name.into(),
        }
    }

    /// A cluster-scoped object.
    pub fn cluster(api_version: &str, kind: &str, name: &str) -> Self {
        Self {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: None,
            name: name.into(),
        }
    }
}

impl std::fmt::Display for ObjRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

impl ListQuery {
    /// Every object of a cluster-scoped kind (or of all namespaces).
    pub fn all(api_version: &str, kind: &str) -> Self {
        Self {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: None,
            label_selector: None,
        }
    }
}

/// `metadata.name` of an object, or "" when it has none.
pub fn name_of(object: &Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Gets an object; a missing one is `None` rather than an error.
pub fn get_optional(
    cluster: &mut dyn Cluster,
    object: &ObjRef,
) -> Result<Option<Value>, KubeError> {
    match cluster.get(object) {
        Ok(value) => Ok(Some(value)),
        Err(KubeError::NotFound(_)) => Ok(None),
        Err(other) => Err(other),
    }
}
