//! Hook mode: reads come from this run's binding contexts, writes become Deckhouse
//! object operations (applied by Deckhouse only if the run succeeds).
//!
//! Reads see this run's own earlier writes, so a guest that creates and then reads an
//! object gets a consistent answer.

use super::backend::KubeBackend;
use super::selector::Selector;
use super::types::{KubeError, ListQuery, ObjectRef, PatchKind};
use crate::protocol::binding_context::BindingContexts;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// A binding as the host knows it from the guest's config: which kind it watches.
#[derive(Clone, Debug)]
pub struct WatchedKind {
    pub binding: String,
    pub api_version: String,
    pub kind: String,
}

/// The objects this run knows, plus the operations it queued.
#[derive(Debug, Default)]
pub struct SnapshotBackend {
    objects: BTreeMap<ObjectRef, Value>,
    /// (apiVersion, kind) pairs whose snapshot arrived: absence there means not found.
    observed: BTreeSet<(String, String)>,
    watched: Vec<WatchedKind>,
    operations: Vec<Value>,
}

impl SnapshotBackend {
    /// Folds the binding contexts, in order, into the current set of objects.
    pub fn new(contexts: &BindingContexts, watched: Vec<WatchedKind>) -> Self {
        let mut backend = Self { watched, ..Self::default() };
        let mut per_binding: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for ctx in contexts.iter() {
            if let Some(snapshots) = &ctx.snapshots {
                per_binding.clear();
                for w in &backend.watched {
                    backend.observed.insert((w.api_version.clone(), w.kind.clone()));
                }
                for (binding, items) in snapshots {
                    per_binding.insert(binding.clone(), items.iter().filter_map(|i| i.object.clone()).collect());
                }
            } else if let Some(objects) = &ctx.objects {
                backend.observe_binding(&ctx.binding);
                per_binding.insert(ctx.binding.clone(), objects.iter().filter_map(|i| i.object.clone()).collect());
            } else if let (Some(event), Some(object)) = (&ctx.watch_event, &ctx.object) {
                backend.observe_binding(&ctx.binding);
                let set = per_binding.entry(ctx.binding.clone()).or_default();
                let id = ObjectRef::of(object).ok();
                set.retain(|o| ObjectRef::of(o).ok() != id);
                if event != "Deleted" {
                    set.push(object.clone());
                }
            }
        }
        for object in per_binding.into_values().flatten() {
            if let Ok(id) = ObjectRef::of(&object) {
                backend.objects.insert(id, object);
            }
        }
        backend
    }

    fn observe_binding(&mut self, binding: &str) {
        if let Some(w) = self.watched.iter().find(|w| w.binding == binding) {
            self.observed.insert((w.api_version.clone(), w.kind.clone()));
        }
    }

    /// The queued object operations, in call order.
    pub fn into_operations(self) -> Vec<Value> {
        self.operations
    }

    fn ensure_observed(&self, api_version: &str, kind: &str) -> Result<(), KubeError> {
        if self.observed.contains(&(api_version.to_owned(), kind.to_owned())) {
            return Ok(());
        }
        Err(KubeError::Unavailable(format!(
            "no snapshot of {kind} ({api_version}) in this run: a hook reads only what its kubernetes bindings deliver; add a binding for it"
        )))
    }

    fn reference_fields(target: &ObjectRef) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("apiVersion".into(), target.api_version.clone().into());
        m.insert("kind".into(), target.kind.clone().into());
        if let Some(ns) = &target.namespace {
            m.insert("namespace".into(), ns.clone().into());
        }
        m.insert("name".into(), target.name.clone().into());
        m
    }
}

impl KubeBackend for SnapshotBackend {
    fn get(&mut self, target: &ObjectRef) -> Result<Value, KubeError> {
        if let Some(o) = self.objects.get(target) {
            return Ok(o.clone());
        }
        self.ensure_observed(&target.api_version, &target.kind)?;
        Err(KubeError::NotFound(format!("{target} is not in this run's snapshots")))
    }

    fn list(&mut self, query: &ListQuery) -> Result<Vec<Value>, KubeError> {
        self.ensure_observed(&query.api_version, &query.kind)?;
        let selector = match &query.label_selector {
            Some(s) => Some(Selector::parse(s).map_err(KubeError::Invalid)?),
            None => None,
        };
        Ok(self
            .objects
            .iter()
            .filter(|(id, _)| id.api_version == query.api_version && id.kind == query.kind)
            .filter(|(id, _)| query.namespace.is_none() || id.namespace == query.namespace)
            .filter(|(_, o)| selector.as_ref().is_none_or(|s| s.matches(o)))
            .map(|(_, o)| o.clone())
            .collect())
    }

    fn create(&mut self, object: Value, if_absent: bool) -> Result<Value, KubeError> {
        let id = ObjectRef::of(&object)?;
        if let Some(existing) = self.objects.get(&id) {
            return if if_absent { Ok(existing.clone()) } else { Err(KubeError::Conflict(format!("{id} already exists"))) };
        }
        let operation = if if_absent { "CreateIfNotExists" } else { "Create" };
        self.operations.push(json!({"operation": operation, "object": object}));
        self.objects.insert(id, object.clone());
        Ok(object)
    }

    fn patch(&mut self, target: &ObjectRef, kind: PatchKind, patch: Value) -> Result<Value, KubeError> {
        let mut op = Self::reference_fields(target);
        let patched = match self.objects.get(target) {
            Some(current) => Some(apply_patch(current, kind, &patch)?),
            None => None,
        };
        match kind {
            PatchKind::Merge => {
                op.insert("operation".into(), "MergePatch".into());
                op.insert("mergePatch".into(), patch.clone());
            }
            PatchKind::Json => {
                op.insert("operation".into(), "JSONPatch".into());
                op.insert("jsonPatch".into(), patch.clone());
            }
        }
        self.operations.push(Value::Object(op));
        match patched {
            Some(object) => {
                self.objects.insert(target.clone(), object.clone());
                Ok(object)
            }
            None => Ok(patch),
        }
    }

    fn delete(&mut self, target: &ObjectRef) -> Result<(), KubeError> {
        let mut op = Self::reference_fields(target);
        op.insert("operation".into(), "Delete".into());
        self.operations.push(Value::Object(op));
        self.objects.remove(target);
        Ok(())
    }
}

/// Applies a merge or JSON patch to a copy of `current`.
pub fn apply_patch(current: &Value, kind: PatchKind, patch: &Value) -> Result<Value, KubeError> {
    let mut doc = current.clone();
    match kind {
        PatchKind::Merge => json_patch::merge(&mut doc, patch),
        PatchKind::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| KubeError::Invalid(format!("not a JSON patch (RFC 6902): {e}")))?;
            json_patch::patch(&mut doc, &ops).map_err(|e| KubeError::Invalid(format!("JSON patch does not apply: {e}")))?;
        }
    }
    Ok(doc)
}
