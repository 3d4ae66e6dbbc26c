//! The shapes of a Kubernetes call, as plain data: the host's backends, the guest SDK and
//! the test stores all speak these, and each side converts to and from its WIT bindings.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Names one object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// `v1`, `apps/v1`, `storage.deckhouse.io/v1alpha1`, ...
    pub api_version: String,
    /// The kind.
    pub kind: String,
    /// None for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
}

impl ObjectRef {
    /// A namespaced object.
    pub fn namespaced(api_version: &str, kind: &str, namespace: &str, name: &str) -> Self {
        Self {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            namespace: Some(namespace.to_owned()),
            name: name.to_owned(),
        }
    }

    /// A cluster-scoped object.
    pub fn cluster(api_version: &str, kind: &str, name: &str) -> Self {
        Self {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            namespace: None,
            name: name.to_owned(),
        }
    }

    /// Reads apiVersion, kind, metadata.namespace and metadata.name out of an object.
    /// An empty namespace counts as none, as the API server treats it.
    pub fn of(object: &Value) -> Result<Self, KubeError> {
        let field = |pointer: &str, what: &str| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| {
                    KubeError::Invalid(format!(
                        "object has no {what} (a non-empty string is required)"
                    ))
                })
        };
        let got = match object {
            Value::Object(_) => None,
            Value::Null => Some("null"),
            Value::Bool(_) => Some("a boolean"),
            Value::Number(_) => Some("a number"),
            Value::String(_) => Some("a string"),
            Value::Array(_) => Some("an array"),
        };
        if let Some(got) = got {
            return Err(KubeError::Invalid(format!(
                "a Kubernetes object must be a JSON object, got {got}"
            )));
        }
        Ok(Self {
            api_version: field("/apiVersion", "apiVersion")?,
            kind: field("/kind", "kind")?,
            namespace: object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            name: field("/metadata/name", "metadata.name")?,
        })
    }

    /// The same as [`ObjectRef::of`] read straight from JSON text, without building the
    /// whole object: the fast path for objects that only pass through (a create's body).
    /// None when the text is not JSON or its head is not well-formed; [`ObjectRef::of`]
    /// on the parsed value then gives the exact error.
    pub fn of_json(text: &str) -> Option<Self> {
        #[derive(Deserialize)]
        struct Head {
            #[serde(rename = "apiVersion")]
            api_version: Option<String>,
            kind: Option<String>,
            metadata: Option<Meta>,
        }
        #[derive(Deserialize)]
        struct Meta {
            name: Option<String>,
            namespace: Option<String>,
        }
        let head: Head = serde_json::from_str(text).ok()?;
        let meta = head.metadata?;
        let present = |s: Option<String>| s.filter(|s| !s.is_empty());
        Some(Self {
            api_version: present(head.api_version)?,
            kind: present(head.kind)?,
            namespace: present(meta.namespace),
            name: present(meta.name)?,
        })
    }

    /// Whether `object` is the object this names.
    pub fn matches(&self, object: &Value) -> bool {
        Self::of(object).is_ok_and(|id| id == *self)
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{} ({})", self.kind, self.name, self.api_version),
            None => write!(f, "{} {} ({})", self.kind, self.name, self.api_version),
        }
    }
}

/// Selects a set of objects of one kind, one page at a time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// The kind's apiVersion.
    pub api_version: String,
    /// The kind.
    pub kind: String,
    /// None lists all namespaces (or a cluster-scoped kind).
    #[serde(default)]
    pub namespace: Option<String>,
    /// A label selector in text form (`app=agent,tier notin (db)`); None selects everything.
    #[serde(default)]
    pub label_selector: Option<String>,
    /// A field selector in text form (`metadata.name=x,status.phase!=Done`).
    #[serde(default)]
    pub field_selector: Option<String>,
    /// The largest page wanted; None lets the server choose.
    #[serde(default)]
    pub limit: Option<u32>,
    /// The previous page's continue token; None starts at the beginning.
    #[serde(default)]
    pub continue_token: Option<String>,
}

impl ListQuery {
    /// Every object of a kind, in every namespace.
    pub fn new(api_version: &str, kind: &str) -> Self {
        Self {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            ..Self::default()
        }
    }

    /// Only this namespace.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// Only objects matching this label selector.
    pub fn labels(mut self, selector: &str) -> Self {
        self.label_selector = Some(selector.to_owned());
        self
    }

    /// Only objects matching this field selector.
    pub fn fields(mut self, selector: &str) -> Self {
        self.field_selector = Some(selector.to_owned());
        self
    }

    /// Pages of at most `limit` objects.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Whether `object` is of the queried kind and namespace and matches both selectors;
    /// a selector that does not parse is an `invalid` error, as from the API server.
    pub fn selects(&self, object: &Value) -> Result<bool, KubeError> {
        Ok(self.selection()?.selects(object))
    }

    /// The query with its selectors parsed once, to test many objects; a selector that
    /// does not parse is an `invalid` error, as from the API server.
    pub fn selection(&self) -> Result<Selection<'_>, KubeError> {
        Ok(Selection {
            query: self,
            labels: self
                .label_selector
                .as_deref()
                .map(crate::LabelSelector::parse)
                .transpose()
                .map_err(|e| KubeError::Invalid(e.to_string()))?,
            fields: self
                .field_selector
                .as_deref()
                .map(crate::FieldSelector::parse)
                .transpose()
                .map_err(|e| KubeError::Invalid(e.to_string()))?,
        })
    }

    /// Serves one page of this query out of `objects` (every object a backend holds, in
    /// an order that does not change between pages): the selected ones from the
    /// continue token on, at most `limit` (0: no limit). Tokens are offsets into the selection, issued
    /// here; one this function did not issue is `invalid`.
    pub fn page<'a>(
        &self,
        objects: impl IntoIterator<Item = &'a Value>,
    ) -> Result<ListPage, KubeError> {
        let selection = self.selection()?;
        let start: usize = match &self.continue_token {
            Some(token) => token.parse().map_err(|_| {
                KubeError::Invalid(format!(
                    "continue token {token:?} was not issued by this backend"
                ))
            })?,
            None => 0,
        };
        // A limit of 0 is none, as for the API server.
        let limit = match self.limit {
            Some(limit) if limit > 0 => limit as usize,
            _ => usize::MAX,
        };
        let mut items: Vec<Value> = objects
            .into_iter()
            .filter(|o| selection.selects(o))
            .skip(start)
            .take(limit.saturating_add(1))
            .cloned()
            .collect();
        let continue_token = (items.len() > limit).then(|| {
            items.truncate(limit);
            (start + limit).to_string()
        });
        Ok(ListPage {
            items,
            continue_token,
        })
    }
}

/// A [`ListQuery`] with its selectors parsed: what decides which objects a list returns.
#[derive(Clone, Debug)]
pub struct Selection<'q> {
    query: &'q ListQuery,
    labels: Option<crate::LabelSelector>,
    fields: Option<crate::FieldSelector>,
}

impl Selection<'_> {
    /// Whether `object` is of the queried kind and namespace and matches both selectors.
    pub fn selects(&self, object: &Value) -> bool {
        let Ok(id) = ObjectRef::of(object) else {
            return false;
        };
        let query = self.query;
        id.api_version == query.api_version
            && id.kind == query.kind
            && (query.namespace.is_none() || id.namespace == query.namespace)
            && self.labels.as_ref().is_none_or(|s| s.matches(object))
            && self.fields.as_ref().is_none_or(|s| s.matches(object))
    }
}

/// One page of a list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListPage {
    /// The objects.
    pub items: Vec<Value>,
    /// Set when more pages follow: pass it back as [`ListQuery::continue_token`].
    pub continue_token: Option<String>,
}

/// How a patch document is to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PatchKind {
    /// RFC 7386 JSON merge patch (`application/merge-patch+json`).
    Merge,
    /// RFC 6902 JSON patch (`application/json-patch+json`).
    Json,
}

/// How a create treats an object that exists already (Deckhouse's three create operations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CreateMode {
    /// `Create`: an existing object is a conflict.
    Create,
    /// `CreateIfNotExists`: an existing object is left alone and returned.
    IfNotExists,
    /// `CreateOrUpdate`: an existing object is replaced.
    OrUpdate,
}

impl CreateMode {
    /// The Deckhouse object operation of this mode.
    pub fn operation(self) -> &'static str {
        match self {
            CreateMode::Create => "Create",
            CreateMode::IfNotExists => "CreateIfNotExists",
            CreateMode::OrUpdate => "CreateOrUpdate",
        }
    }
}

/// How a delete treats the object's dependents (Deckhouse's three delete operations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeleteMode {
    /// `Delete`: foreground; dependents go first.
    Foreground,
    /// `DeleteInBackground`: the garbage collector removes dependents afterwards.
    Background,
    /// `DeleteNonCascading`: dependents are orphaned.
    Orphan,
}

impl DeleteMode {
    /// The Deckhouse object operation of this mode.
    pub fn operation(self) -> &'static str {
        match self {
            DeleteMode::Foreground => "Delete",
            DeleteMode::Background => "DeleteInBackground",
            DeleteMode::Orphan => "DeleteNonCascading",
        }
    }

    /// The API server's `propagationPolicy`.
    pub fn propagation_policy(self) -> &'static str {
        match self {
            DeleteMode::Foreground => "Foreground",
            DeleteMode::Background => "Background",
            DeleteMode::Orphan => "Orphan",
        }
    }
}

/// Options of a patch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchOptions {
    /// Patch a subresource (`status`, `scale`) instead of the object.
    #[serde(default)]
    pub subresource: Option<String>,
    /// A missing object is not an error (Deckhouse's `ignoreMissingObject`).
    #[serde(default)]
    pub ignore_missing_object: bool,
}

impl PatchOptions {
    /// Patch this subresource (`status`); a leading `/` as module-sdk writes it is dropped.
    pub fn subresource(mut self, name: &str) -> Self {
        self.subresource = Some(name.trim_start_matches('/').to_owned());
        self
    }

    /// Whether a missing object is fine.
    pub fn ignore_missing_object(mut self, ignore: bool) -> Self {
        self.ignore_missing_object = ignore;
        self
    }
}

/// Why a Kubernetes call failed; mirrors the WIT `kube-error` variant.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KubeError {
    /// The object (or its kind) does not exist.
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

impl KubeError {
    /// The message without its kind.
    pub fn message(&self) -> &str {
        match self {
            KubeError::NotFound(m)
            | KubeError::Forbidden(m)
            | KubeError::Conflict(m)
            | KubeError::Invalid(m)
            | KubeError::Unavailable(m)
            | KubeError::LimitExceeded(m) => m,
        }
    }
}

/// Applies a merge or JSON patch to a copy of `current`, as the API server would; a patch
/// that does not apply is `invalid`.
#[cfg(feature = "patch")]
pub fn apply_patch(current: &Value, kind: PatchKind, patch: &Value) -> Result<Value, KubeError> {
    let mut doc = current.clone();
    match kind {
        PatchKind::Merge => json_patch::merge(&mut doc, patch),
        PatchKind::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| KubeError::Invalid(format!("not a JSON patch (RFC 6902): {e}")))?;
            json_patch::patch(&mut doc, &ops)
                .map_err(|e| KubeError::Invalid(format!("JSON patch does not apply: {e}")))?;
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refs_read_identity_and_display_it() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "ns", "name": "cm"}});
        let id = ObjectRef::of(&cm).unwrap();
        assert_eq!(id, ObjectRef::namespaced("v1", "ConfigMap", "ns", "cm"));
        assert_eq!(id.to_string(), "ConfigMap ns/cm (v1)");
        assert!(id.matches(&cm));
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns", "namespace": ""}});
        assert_eq!(
            ObjectRef::of(&ns).unwrap(),
            ObjectRef::cluster("v1", "Namespace", "ns")
        );
        assert_eq!(
            ObjectRef::cluster("v1", "Namespace", "ns").to_string(),
            "Namespace ns (v1)"
        );
    }

    #[test]
    fn refs_need_every_name() {
        for bad in [
            json!([]),
            json!({"kind": "ConfigMap", "metadata": {"name": "x"}}),
            json!({"apiVersion": "v1", "metadata": {"name": "x"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": ""}}),
        ] {
            assert!(
                matches!(ObjectRef::of(&bad), Err(KubeError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_text_fast_path_agrees_with_the_full_reading() {
        let good = [
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "ns", "name": "cm", "labels": {"a": "b"}}, "data": {"k": "v"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns", "namespace": ""}}),
        ];
        for object in good {
            let text = object.to_string();
            assert_eq!(
                ObjectRef::of_json(&text),
                Some(ObjectRef::of(&object).unwrap())
            );
        }
        // Whatever the fast path cannot read, it leaves to the full reading (and its error).
        for bad in [
            "[]",
            "not json",
            r#"{"kind": "ConfigMap", "metadata": {"name": "x"}}"#,
            r#"{"apiVersion": 1, "kind": "ConfigMap", "metadata": {"name": "x"}}"#,
            r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": "x"}"#,
            r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": ""}}"#,
            r#"{"apiVersion": "v1", "kind": "ConfigMap", "kind": "Secret", "metadata": {"name": "x"}}"#,
            r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}} trailing"#,
        ] {
            assert_eq!(ObjectRef::of_json(bad), None, "{bad}");
        }
    }

    #[test]
    fn queries_select_by_kind_namespace_labels_and_fields() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "a", "name": "p", "labels": {"app": "x"}}, "status": {"phase": "Running"}});
        let q = ListQuery::new("v1", "Pod");
        assert!(q.selects(&pod).unwrap());
        assert!(!q.clone().namespace("b").selects(&pod).unwrap());
        assert!(q.clone().labels("app in (x,y)").selects(&pod).unwrap());
        assert!(!q.clone().labels("app!=x").selects(&pod).unwrap());
        assert!(
            q.clone()
                .fields("status.phase=Running")
                .selects(&pod)
                .unwrap()
        );
        assert!(!q.clone().fields("metadata.name!=p").selects(&pod).unwrap());
        assert!(!ListQuery::new("v1", "Secret").selects(&pod).unwrap());
        assert!(matches!(
            q.labels("app in x").selects(&pod),
            Err(KubeError::Invalid(_))
        ));
    }

    #[test]
    fn pages_cover_the_selection_once_and_refuse_foreign_tokens() {
        let objects: Vec<Value> = (0..5)
            .map(|i| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "n", "name": format!("c{i}"), "labels": {"odd": (i % 2 == 1).to_string()}}}))
            .chain([json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})])
            .collect();
        let mut query = ListQuery::new("v1", "ConfigMap").limit(2);
        let mut names = Vec::new();
        loop {
            let page = query.page(&objects).unwrap();
            assert!(page.items.len() <= 2);
            names.extend(page.items.iter().map(|o| o["metadata"]["name"].clone()));
            match page.continue_token {
                Some(token) => query.continue_token = Some(token),
                None => break,
            }
        }
        assert_eq!(names, ["c0", "c1", "c2", "c3", "c4"]);
        let odd = ListQuery::new("v1", "ConfigMap").labels("odd=true");
        assert_eq!(odd.page(&objects).unwrap().items.len(), 2);
        let mut foreign = ListQuery::new("v1", "ConfigMap");
        foreign.continue_token = Some("eyJ2Ijo".into());
        assert!(matches!(foreign.page(&objects), Err(KubeError::Invalid(_))));
        assert!(matches!(
            ListQuery::new("v1", "ConfigMap").fields("a").page(&objects),
            Err(KubeError::Invalid(_))
        ));
    }

    #[cfg(feature = "patch")]
    #[test]
    fn patches_apply_or_are_invalid() {
        let cm = json!({"data": {"a": "1"}});
        let merged = apply_patch(&cm, PatchKind::Merge, &json!({"data": {"b": "2"}})).unwrap();
        assert_eq!(merged, json!({"data": {"a": "1", "b": "2"}}));
        let ops = json!([{"op": "remove", "path": "/data/a"}]);
        assert_eq!(
            apply_patch(&cm, PatchKind::Json, &ops).unwrap(),
            json!({"data": {}})
        );
        let missing = json!([{"op": "remove", "path": "/nope"}]);
        assert!(matches!(
            apply_patch(&cm, PatchKind::Json, &missing),
            Err(KubeError::Invalid(_))
        ));
        assert!(matches!(
            apply_patch(&cm, PatchKind::Json, &json!({})),
            Err(KubeError::Invalid(_))
        ));
    }

    #[test]
    fn modes_name_deckhouse_operations() {
        assert_eq!(CreateMode::IfNotExists.operation(), "CreateIfNotExists");
        assert_eq!(CreateMode::OrUpdate.operation(), "CreateOrUpdate");
        assert_eq!(DeleteMode::Background.operation(), "DeleteInBackground");
        assert_eq!(DeleteMode::Orphan.propagation_policy(), "Orphan");
        assert_eq!(
            PatchOptions::default().subresource("/status").subresource,
            Some("status".into())
        );
        assert_eq!(KubeError::Conflict("x".into()).to_string(), "conflict: x");
        assert_eq!(KubeError::LimitExceeded("y".into()).message(), "y");
    }
}
