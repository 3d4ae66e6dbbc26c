//! The guest's view of Kubernetes: the WIT `kubernetes` import (0.2.0) as a trait, so
//! the migration logic runs unchanged on the host imports (wasm) and on an in-memory
//! store (native tests). [`Pages`] walks a list one page at a time, so no caller ever
//! holds a whole kind as raw JSON.

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

/// Selects one page of objects of one kind (mirrors WIT `list-query`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    /// The largest page wanted; the server may return fewer.
    pub limit: Option<u32>,
    /// The previous page's token; None starts at the beginning.
    pub continue_token: Option<String>,
}

/// One page of a list (mirrors WIT `list-page`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    pub items: Vec<Value>,
    /// Set when more pages follow.
    pub continue_token: Option<String>,
}

/// How a patch document is read (mirrors WIT `patch-kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    /// RFC 7386 JSON merge patch.
    Merge,
    /// RFC 6902 JSON patch.
    Json,
}

/// How a create treats an existing object (mirrors WIT `create-mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateMode {
    /// An existing object is a conflict.
    Create,
    /// An existing object is left alone and returned.
    IfNotExists,
    /// An existing object is replaced.
    OrUpdate,
}

/// How a delete treats dependents (mirrors WIT `delete-mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteMode {
    Foreground,
    Background,
    Orphan,
}

/// Options of a patch (mirrors WIT `patch-options`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchOptions {
    /// `status`, `scale`, ...; None patches the object itself.
    pub subresource: Option<String>,
    /// A missing object is not an error.
    pub ignore_missing_object: bool,
}

/// Why a call failed (mirrors WIT `kube-error`); each case carries the message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KubeError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A budget of this run is spent; retrying cannot help.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
}

/// Kubernetes calls the migration needs; objects are JSON values.
pub trait Cluster {
    fn get(&mut self, object: &ObjRef) -> Result<Value, KubeError>;
    /// One page of the matching objects.
    fn list(&mut self, query: &ListQuery) -> Result<Page, KubeError>;
    fn create(&mut self, object: &Value, mode: CreateMode) -> Result<Value, KubeError>;
    /// One result per object, in order; the host sends them concurrently.
    fn create_many(&mut self, objects: &[Value], mode: CreateMode)
    -> Vec<Result<Value, KubeError>>;
    fn patch(
        &mut self,
        object: &ObjRef,
        kind: PatchKind,
        patch: &Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError>;
    fn delete(&mut self, object: &ObjRef, mode: DeleteMode) -> Result<(), KubeError>;
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
    /// Every object of a cluster-scoped kind (or of all namespaces), `limit` per page.
    pub fn all(api_version: &str, kind: &str, limit: u32) -> Self {
        Self {
            api_version: api_version.into(),
            kind: kind.into(),
            limit: Some(limit),
            ..Self::default()
        }
    }

    /// The same query restricted to a label selector.
    pub fn labelled(mut self, selector: &str) -> Self {
        self.label_selector = Some(selector.into());
        self
    }
}

/// Walks a list page by page: each `next` is one API call, and a page is dropped
/// before the next is fetched, so memory stays at one page whatever the kind's size.
pub struct Pages<'c> {
    cluster: &'c mut dyn Cluster,
    query: ListQuery,
    done: bool,
}

impl<'c> Pages<'c> {
    pub fn new(cluster: &'c mut dyn Cluster, query: ListQuery) -> Self {
        Self {
            cluster,
            query,
            done: false,
        }
    }
}

impl Iterator for Pages<'_> {
    type Item = Result<Vec<Value>, KubeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.cluster.list(&self.query) {
            Ok(page) => {
                self.query.continue_token = page.continue_token.filter(|t| !t.is_empty());
                self.done = self.query.continue_token.is_none();
                Some(Ok(page.items))
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
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

/// A merge patch of the object itself (no subresource, a missing object is an error).
pub fn merge_patch(
    cluster: &mut dyn Cluster,
    object: &ObjRef,
    patch: &Value,
) -> Result<Value, KubeError> {
    cluster.patch(object, PatchKind::Merge, patch, &PatchOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Serves `total` numbered objects, `limit` per page, recording each query.
    struct Numbers {
        total: usize,
        queries: Vec<ListQuery>,
    }

    impl Cluster for Numbers {
        fn get(&mut self, _: &ObjRef) -> Result<Value, KubeError> {
            unreachable!("lists only")
        }
        fn list(&mut self, query: &ListQuery) -> Result<Page, KubeError> {
            self.queries.push(query.clone());
            let from: usize = query
                .continue_token
                .as_deref()
                .map_or(0, |t| t.parse().unwrap_or(0));
            let limit = query.limit.map_or(self.total, |l| l as usize);
            let to = (from + limit).min(self.total);
            Ok(Page {
                items: (from..to).map(|i| json!(i)).collect(),
                continue_token: (to < self.total).then(|| to.to_string()),
            })
        }
        fn create(&mut self, _: &Value, _: CreateMode) -> Result<Value, KubeError> {
            unreachable!("lists only")
        }
        fn create_many(&mut self, _: &[Value], _: CreateMode) -> Vec<Result<Value, KubeError>> {
            unreachable!("lists only")
        }
        fn patch(
            &mut self,
            _: &ObjRef,
            _: PatchKind,
            _: &Value,
            _: &PatchOptions,
        ) -> Result<Value, KubeError> {
            unreachable!("lists only")
        }
        fn delete(&mut self, _: &ObjRef, _: DeleteMode) -> Result<(), KubeError> {
            unreachable!("lists only")
        }
    }

    #[test]
    fn pages_follow_continue_tokens_to_the_end() {
        let mut numbers = Numbers {
            total: 7,
            queries: Vec::new(),
        };
        let pages: Vec<Vec<Value>> = Pages::new(&mut numbers, ListQuery::all("v1", "X", 3))
            .collect::<Result<_, _>>()
            .expect("pages");
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
        let tokens: Vec<Option<String>> = numbers
            .queries
            .iter()
            .map(|q| q.continue_token.clone())
            .collect();
        assert_eq!(tokens, [None, Some("3".into()), Some("6".into())]);
    }
}
