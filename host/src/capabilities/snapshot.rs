//! Hook mode: reads come from this run's snapshots, writes become Deckhouse object
//! operations (applied by Deckhouse only if the run succeeds).
//!
//! Reads see this run's own earlier writes, so a guest that creates and then reads an
//! object gets a consistent answer.

use super::backend::KubeBackend;
use super::types::{
    CreateMode, DeleteMode, KubeError, ListPage, ListQuery, ObjectRef, PatchKind, PatchOptions,
    apply_patch,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The objects this run knows, plus the operations it queued.
#[derive(Debug, Default)]
pub struct SnapshotBackend {
    objects: BTreeMap<ObjectRef, Value>,
    /// (apiVersion, kind) pairs whose snapshot arrived: absence there means not found.
    observed: BTreeSet<(String, String)>,
    operations: Vec<Value>,
}

impl SnapshotBackend {
    /// A backend over `objects`; `observed` names the kinds whose snapshots this run got,
    /// so that a kind no binding delivered answers `unavailable` instead of `not-found`.
    pub fn new(
        objects: impl IntoIterator<Item = Value>,
        observed: BTreeSet<(String, String)>,
    ) -> Self {
        let objects = objects
            .into_iter()
            .filter_map(|o| ObjectRef::of(&o).ok().map(|id| (id, o)))
            .collect();
        Self {
            objects,
            observed,
            operations: Vec::new(),
        }
    }

    fn ensure_observed(&self, api_version: &str, kind: &str) -> Result<(), KubeError> {
        if self
            .observed
            .contains(&(api_version.to_owned(), kind.to_owned()))
        {
            return Ok(());
        }
        Err(KubeError::Unavailable(format!(
            "no snapshot of {kind} ({api_version}) in this run: a hook reads only what its kubernetes bindings deliver; add a binding for it"
        )))
    }

    fn reference_fields(operation: &str, target: &ObjectRef) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("operation".into(), operation.into());
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
        Err(KubeError::NotFound(format!(
            "{target} is not in this run's snapshots"
        )))
    }

    fn list(&mut self, query: &ListQuery) -> Result<ListPage, KubeError> {
        self.ensure_observed(&query.api_version, &query.kind)?;
        query.page(self.objects.values())
    }

    fn create(&mut self, object: Value, mode: CreateMode) -> Result<Value, KubeError> {
        let id = ObjectRef::of(&object)?;
        match (self.objects.get(&id), mode) {
            (Some(_), CreateMode::Create) => {
                return Err(KubeError::Conflict(format!("{id} already exists")));
            }
            (Some(existing), CreateMode::IfNotExists) => return Ok(existing.clone()),
            _ => {}
        }
        self.operations
            .push(json!({"operation": mode.operation(), "object": object}));
        self.objects.insert(id, object.clone());
        Ok(object)
    }

    fn patch(
        &mut self,
        target: &ObjectRef,
        kind: PatchKind,
        patch: Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        let patched = match self.objects.get(target) {
            Some(current) if options.subresource.is_none() => {
                Some(apply_patch(current, kind, &patch)?)
            }
            _ => None,
        };
        let (operation, field) = match kind {
            PatchKind::Merge => ("MergePatch", "mergePatch"),
            PatchKind::Json => ("JSONPatch", "jsonPatch"),
        };
        let mut op = Self::reference_fields(operation, target);
        op.insert(field.into(), patch.clone());
        if let Some(sub) = &options.subresource {
            op.insert("subresource".into(), sub.clone().into());
        }
        if options.ignore_missing_object {
            op.insert("ignoreMissingObject".into(), true.into());
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

    fn delete(&mut self, target: &ObjectRef, mode: DeleteMode) -> Result<(), KubeError> {
        self.operations.push(Value::Object(Self::reference_fields(
            mode.operation(),
            target,
        )));
        self.objects.remove(target);
        Ok(())
    }

    fn take_operations(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.operations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "ns", "name": name}})
    }

    fn backend(n: usize) -> SnapshotBackend {
        SnapshotBackend::new(
            (0..n).map(|i| cm(&format!("cm{i}"))),
            [("v1".to_owned(), "ConfigMap".to_owned())].into(),
        )
    }

    #[test]
    fn pages_cover_every_object_once() {
        let mut b = backend(5);
        let mut seen = Vec::new();
        let mut query = ListQuery {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            limit: Some(2),
            ..ListQuery::default()
        };
        loop {
            let page = b.list(&query).unwrap();
            assert!(page.items.len() <= 2);
            seen.extend(page.items);
            match page.continue_token {
                Some(t) => query.continue_token = Some(t),
                None => break,
            }
        }
        assert_eq!(seen.len(), 5);
    }

    #[test]
    fn every_write_becomes_the_operation_deckhouse_knows() {
        let mut b = backend(1);
        assert!(matches!(
            b.create(cm("cm0"), CreateMode::Create),
            Err(KubeError::Conflict(_))
        ));
        b.create(cm("cm0"), CreateMode::IfNotExists).unwrap();
        b.create(cm("cm0"), CreateMode::OrUpdate).unwrap();
        let target = ObjectRef::of(&cm("cm0")).unwrap();
        let options = PatchOptions {
            subresource: Some("status".into()),
            ignore_missing_object: true,
        };
        b.patch(&target, PatchKind::Merge, json!({"a": 1}), &options)
            .unwrap();
        b.delete(&target, DeleteMode::Orphan).unwrap();
        let ops = b.take_operations();
        let names: Vec<&str> = ops
            .iter()
            .map(|o| o["operation"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["CreateOrUpdate", "MergePatch", "DeleteNonCascading"]
        );
        assert_eq!(ops[1]["subresource"], "status");
        assert_eq!(ops[1]["ignoreMissingObject"], true);
        assert!(b.take_operations().is_empty());
    }
}
