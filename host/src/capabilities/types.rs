//! Host-side Kubernetes call shapes, independent of wasmtime so that every backend
//! (snapshots, live API, in-memory) can be written and tested without a guest.

use serde_json::Value;

/// Names one object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

/// Selects objects of one kind, one page at a time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    /// The largest page wanted; None lets the backend choose.
    pub limit: Option<u32>,
    /// Where the previous page ended.
    pub continue_token: Option<String>,
}

/// One page of a list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListPage {
    pub items: Vec<Value>,
    /// Set when more pages follow.
    pub continue_token: Option<String>,
}

/// How a create treats an existing object: Deckhouse's `Create`, `CreateIfNotExists`,
/// `CreateOrUpdate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateMode {
    Create,
    IfNotExists,
    OrUpdate,
}

/// How a delete treats dependents: Deckhouse's `Delete`, `DeleteInBackground`,
/// `DeleteNonCascading`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteMode {
    Foreground,
    Background,
    Orphan,
}

/// Options of a patch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchOptions {
    /// `status`, `scale`, ...: patch the subresource instead of the object.
    pub subresource: Option<String>,
    /// A missing object is not an error.
    pub ignore_missing_object: bool,
}

impl CreateMode {
    /// The operation name Deckhouse's object patcher knows.
    pub fn operation(self) -> &'static str {
        match self {
            CreateMode::Create => "Create",
            CreateMode::IfNotExists => "CreateIfNotExists",
            CreateMode::OrUpdate => "CreateOrUpdate",
        }
    }
}

impl DeleteMode {
    /// The operation name Deckhouse's object patcher knows.
    pub fn operation(self) -> &'static str {
        match self {
            DeleteMode::Foreground => "Delete",
            DeleteMode::Background => "DeleteInBackground",
            DeleteMode::Orphan => "DeleteNonCascading",
        }
    }

    /// The API server's `propagationPolicy` for this mode.
    pub fn propagation_policy(self) -> &'static str {
        match self {
            DeleteMode::Foreground => "Foreground",
            DeleteMode::Background => "Background",
            DeleteMode::Orphan => "Orphan",
        }
    }
}

/// How a patch document is to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    /// RFC 7386, `application/merge-patch+json`.
    Merge,
    /// RFC 6902, `application/json-patch+json`.
    Json,
}

/// Why a call failed; mirrors the WIT `kube-error` variant.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KubeError {
    /// The object or its kind does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The grants manifest (or the API server's RBAC) forbids the call.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Already exists, or a stale resourceVersion.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Malformed request or object.
    #[error("invalid: {0}")]
    Invalid(String),
    /// Not reachable now: timeout, 5xx, or not in this run's snapshots.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A budget of this run is spent; retrying cannot help.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
}

impl ObjectRef {
    /// Reads apiVersion, kind, metadata.namespace and metadata.name out of an object.
    pub fn of(object: &Value) -> Result<Self, KubeError> {
        let field = |v: Option<&Value>, what: &str| {
            v.and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| KubeError::Invalid(format!("object has no {what}")))
        };
        Ok(Self {
            api_version: field(object.get("apiVersion"), "apiVersion")?,
            kind: field(object.get("kind"), "kind")?,
            namespace: object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            name: field(object.pointer("/metadata/name"), "metadata.name")?,
        })
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(
                f,
                "{} {}/{} ({})",
                self.kind, ns, self.name, self.api_version
            ),
            None => write!(f, "{} {} ({})", self.kind, self.name, self.api_version),
        }
    }
}
