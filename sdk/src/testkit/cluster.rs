//! An in-memory cluster that implements [`Host`]: objects by identity, every write
//! recorded as a Deckhouse object operation, every log line kept.

use crate::config::HookConfig;
use crate::host::{Host, LogLevel};
use hooks_manifest::binding_context::Folded;
use hooks_manifest::kube::apply_patch;
use hooks_manifest::output::ObjectOperation;
use hooks_manifest::{
    CreateMode, DeleteMode, KubeError, ListPage, ListQuery, ObjectRef, PatchKind, PatchOptions,
};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// One log line a guest wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: LogLevel,
    /// Its message.
    pub message: String,
    /// Its fields.
    pub fields: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct State {
    objects: BTreeMap<ObjectRef, Value>,
    /// Some: a hook run's view, where only these (apiVersion, kind) were delivered.
    delivered: Option<BTreeSet<(String, String)>>,
    operations: Vec<ObjectOperation>,
    logs: Vec<LogLine>,
}

/// Objects in memory, with the writes and log lines of the calls made on it.
#[derive(Debug, Default)]
pub struct Cluster {
    state: RefCell<State>,
}

impl Cluster {
    /// An empty cluster.
    pub fn new() -> Self {
        Self::default()
    }

    /// A cluster holding `objects`; each needs apiVersion, kind and metadata.name.
    pub fn with_objects(objects: impl IntoIterator<Item = Value>) -> Result<Self, String> {
        let cluster = Self::new();
        for object in objects {
            let id = ObjectRef::of(&object).map_err(|e| format!("cluster object {object}: {e}"))?;
            cluster.state.borrow_mut().objects.insert(id, object);
        }
        Ok(cluster)
    }

    /// A cluster from YAML: documents separated by `---`, each an object or a `kind: List`.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        Self::with_objects(objects_from_yaml(text)?)
    }

    /// What a hook run sees: the objects its contexts delivered; a kind none of the
    /// delivered bindings watches is `unavailable`, as the host answers it.
    pub fn from_snapshots(folded: &Folded, config: &HookConfig) -> Self {
        let delivered = config
            .kubernetes
            .iter()
            .filter(|b| folded.delivered(&b.name))
            .map(|b| (b.api_version.clone(), b.kind.clone()))
            .collect();
        let cluster = Self::new();
        {
            let mut state = cluster.state.borrow_mut();
            state.objects = folded.objects();
            state.delivered = Some(delivered);
        }
        cluster
    }

    /// One object as it is now.
    pub fn object(&self, target: &ObjectRef) -> Option<Value> {
        self.state.borrow().objects.get(target).cloned()
    }

    /// Every object, in identity order.
    pub fn objects(&self) -> Vec<Value> {
        self.state.borrow().objects.values().cloned().collect()
    }

    /// The writes made, in call order.
    pub fn operations(&self) -> Vec<ObjectOperation> {
        self.state.borrow().operations.clone()
    }

    /// The log lines, in order.
    pub fn logs(&self) -> Vec<LogLine> {
        self.state.borrow().logs.clone()
    }

    /// Whether a line at `level` has `text` in its message or a field value.
    pub fn logged(&self, level: LogLevel, text: &str) -> bool {
        self.state.borrow().logs.iter().any(|l| {
            l.level == level
                && (l.message.contains(text) || l.fields.iter().any(|(_, v)| v.contains(text)))
        })
    }

    /// Applies operations recorded elsewhere (a hook run's) to this cluster.
    pub fn apply(&self, operations: &[ObjectOperation]) -> Result<(), KubeError> {
        for op in operations {
            match op {
                ObjectOperation::Create { object, mode } => {
                    self.create(object, *mode)?;
                }
                ObjectOperation::Patch {
                    target,
                    kind,
                    patch,
                    options,
                } => {
                    self.patch(target, *kind, patch, options)?;
                }
                ObjectOperation::Delete { target, mode } => self.delete(target, *mode)?,
            }
        }
        Ok(())
    }

    fn check_delivered(&self, api_version: &str, kind: &str) -> Result<(), KubeError> {
        let state = self.state.borrow();
        match &state.delivered {
            Some(kinds) if !kinds.contains(&(api_version.to_owned(), kind.to_owned())) => {
                Err(KubeError::Unavailable(format!(
                    "no snapshot of {kind} ({api_version}) in this run: a hook reads only what its kubernetes bindings deliver; add a binding for it"
                )))
            }
            _ => Ok(()),
        }
    }

    fn record(&self, op: ObjectOperation) {
        self.state.borrow_mut().operations.push(op);
    }
}

impl Host for Cluster {
    fn get(&self, target: &ObjectRef) -> Result<Value, KubeError> {
        if let Some(object) = self.object(target) {
            return Ok(object);
        }
        self.check_delivered(&target.api_version, &target.kind)?;
        Err(KubeError::NotFound(format!("{target} does not exist")))
    }

    fn list(&self, query: &ListQuery) -> Result<ListPage, KubeError> {
        self.check_delivered(&query.api_version, &query.kind)?;
        query.page(self.state.borrow().objects.values())
    }

    fn create(&self, object: &Value, mode: CreateMode) -> Result<Value, KubeError> {
        let id = ObjectRef::of(object)?;
        if let Some(existing) = self.object(&id) {
            match mode {
                CreateMode::Create => {
                    return Err(KubeError::Conflict(format!("{id} already exists")));
                }
                CreateMode::IfNotExists => return Ok(existing),
                CreateMode::OrUpdate => {}
            }
        }
        self.record(ObjectOperation::Create {
            object: object.clone(),
            mode,
        });
        self.state.borrow_mut().objects.insert(id, object.clone());
        Ok(object.clone())
    }

    fn patch(
        &self,
        target: &ObjectRef,
        kind: PatchKind,
        patch: &Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        let patched = match self.object(target) {
            Some(current) => Some(apply_patch(&current, kind, patch)?),
            None => None,
        };
        self.record(ObjectOperation::Patch {
            target: target.clone(),
            kind,
            patch: patch.clone(),
            options: options.clone(),
        });
        match patched {
            Some(object) => {
                self.state
                    .borrow_mut()
                    .objects
                    .insert(target.clone(), object.clone());
                Ok(object)
            }
            None => Ok(patch.clone()),
        }
    }

    fn delete(&self, target: &ObjectRef, mode: DeleteMode) -> Result<(), KubeError> {
        self.record(ObjectOperation::Delete {
            target: target.clone(),
            mode,
        });
        self.state.borrow_mut().objects.remove(target);
        Ok(())
    }

    fn log(&self, level: LogLevel, message: &str, fields: &[(&str, &str)]) {
        self.state.borrow_mut().logs.push(LogLine {
            level,
            message: message.to_owned(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        });
    }
}

/// Objects from multi-document YAML; `kind: List` documents contribute their items.
pub(crate) fn objects_from_yaml(text: &str) -> Result<Vec<Value>, String> {
    let mut objects = Vec::new();
    for (i, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = <serde_yaml::Value as serde::Deserialize>::deserialize(document)
            .map_err(|e| format!("YAML document {i}: {e}"))?;
        let value: Value = serde_json::to_value(value)
            .map_err(|e| format!("YAML document {i} is not JSON-compatible: {e}"))?;
        match value {
            Value::Null => {}
            Value::Object(ref m) if m.get("kind").and_then(Value::as_str) == Some("List") => {
                objects.extend(
                    m.get("items")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            Value::Object(_) => objects.push(value),
            Value::Array(items) => objects.extend(items),
            other => return Err(format!("YAML document {i} is not an object: {other}")),
        }
    }
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::KubeBinding;
    use hooks_manifest::binding_context::{BindingContext, Folded};
    use serde_json::json;

    fn cm(name: &str, app: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "ns", "name": name, "labels": {"app": app}}})
    }

    #[test]
    fn yaml_documents_and_lists_load() {
        let c = Cluster::from_yaml(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: ns}\n---\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: ns}}\n---\n",
        )
        .unwrap();
        assert_eq!(c.objects().len(), 2);
        assert!(
            Cluster::from_yaml("- 1")
                .unwrap_err()
                .contains("JSON object")
        );
        assert!(
            Cluster::from_yaml("just text")
                .unwrap_err()
                .contains("not an object")
        );
    }

    #[test]
    fn creates_follow_their_mode_and_are_recorded() {
        let c = Cluster::with_objects([cm("a", "x")]).unwrap();
        assert!(matches!(
            c.create(&cm("a", "y"), CreateMode::Create),
            Err(KubeError::Conflict(_))
        ));
        assert_eq!(
            c.create(&cm("a", "y"), CreateMode::IfNotExists).unwrap(),
            cm("a", "x")
        );
        assert!(
            c.operations().is_empty(),
            "an existing object is left alone"
        );
        c.create(&cm("a", "y"), CreateMode::OrUpdate).unwrap();
        c.create(&cm("b", "y"), CreateMode::Create).unwrap();
        let target = ObjectRef::namespaced("v1", "ConfigMap", "ns", "a");
        assert_eq!(c.get(&target).unwrap(), cm("a", "y"));
        assert_eq!(c.operations().len(), 2);
    }

    #[test]
    fn patches_and_deletes_apply_and_are_recorded() {
        let c = Cluster::with_objects([cm("a", "x")]).unwrap();
        let a = ObjectRef::namespaced("v1", "ConfigMap", "ns", "a");
        let merged = c
            .patch(
                &a,
                PatchKind::Merge,
                &json!({"data": {"k": "v"}}),
                &PatchOptions::default(),
            )
            .unwrap();
        assert_eq!(merged["data"]["k"], "v");
        let ops = json!([{"op": "replace", "path": "/data/k", "value": "w"}]);
        c.patch(&a, PatchKind::Json, &ops, &PatchOptions::default())
            .unwrap();
        assert_eq!(c.object(&a).unwrap()["data"]["k"], "w");
        let bad = json!([{"op": "replace", "path": "/nope/x", "value": 1}]);
        assert!(matches!(
            c.patch(&a, PatchKind::Json, &bad, &PatchOptions::default()),
            Err(KubeError::Invalid(_))
        ));
        c.delete(&a, DeleteMode::Background).unwrap();
        c.delete(&a, DeleteMode::Orphan).unwrap();
        assert!(c.object(&a).is_none());
        assert_eq!(c.operations().len(), 4);
    }

    #[test]
    fn lists_select_and_page() {
        let c = Cluster::with_objects(
            (0..5).map(|i| cm(&format!("c{i}"), if i % 2 == 0 { "even" } else { "odd" })),
        )
        .unwrap();
        let q = ListQuery::new("v1", "ConfigMap")
            .labels("app=even")
            .limit(2);
        let first = c.list(&q).unwrap();
        assert_eq!(first.items.len(), 2);
        let mut next = q.clone();
        next.continue_token = first.continue_token.clone();
        let second = c.list(&next).unwrap();
        assert_eq!((second.items.len(), second.continue_token), (1, None));
        let all: Vec<Value> = crate::Kube::new(&c)
            .list_all(&q)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(all.len(), 3);
        let mut forged = q;
        forged.continue_token = Some("x".into());
        assert!(matches!(c.list(&forged), Err(KubeError::Invalid(_))));
    }

    #[test]
    fn a_hook_run_view_answers_unavailable_for_undelivered_kinds() {
        let config = HookConfig::new()
            .kubernetes(KubeBinding::new("cm", "v1", "ConfigMap"))
            .kubernetes(KubeBinding::new("ns", "v1", "Namespace"));
        let contexts = vec![BindingContext {
            binding: "cm".into(),
            kind: Some("Synchronization".into()),
            objects: Some(vec![]),
            ..BindingContext::default()
        }];
        let c = Cluster::from_snapshots(&Folded::new(&contexts), &config);
        let cm = ObjectRef::namespaced("v1", "ConfigMap", "ns", "a");
        assert!(matches!(c.get(&cm), Err(KubeError::NotFound(_))));
        let ns = ObjectRef::cluster("v1", "Namespace", "ns");
        assert!(matches!(c.get(&ns), Err(KubeError::Unavailable(m)) if m.contains("binding")));
        c.log(LogLevel::Warn, "hello", &[("k", "needle")]);
        assert!(c.logged(LogLevel::Warn, "needle") && !c.logged(LogLevel::Info, "hello"));
    }
}
