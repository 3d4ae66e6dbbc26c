//! Binding contexts as shell-operator writes them (onStartup, beforeHelm with snapshots,
//! Synchronization, Event, Group, Schedule, several combined in one run), and the objects
//! they show once folded in order.
//!
//! Folding follows Deckhouse's meaning: a context with `snapshots` replaces everything
//! known (the last such context carries the current snapshots), a Synchronization replaces
//! its binding's objects, and an Event adds, replaces or removes one object.

use crate::kube::ObjectRef;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One element of the binding context array.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingContext {
    /// The binding's name (`beforeHelm`, a kubernetes or schedule binding's name).
    pub binding: String,
    /// Synchronization, Event, Group, Schedule; absent for onStartup and the helm bindings.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Added, Modified or Deleted, for an Event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch_event: Option<String>,
    /// The object of an Event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
    /// The jqFilter result of an Event's object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_result: Option<Value>,
    /// The objects of a Synchronization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objects: Option<Vec<SnapshotItem>>,
    /// Every binding's snapshot (beforeHelm, Group, or with includeSnapshotsFrom).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshots: Option<BTreeMap<String, Vec<SnapshotItem>>>,
    /// The group of a Group context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
}

/// One object of a snapshot or a Synchronization.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotItem {
    /// The full object (kept with `keepFullObjectsInMemory`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
    /// The jqFilter's result (with a `jqFilter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_result: Option<Value>,
}

/// Why a binding context could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BindingContextError {
    /// The text is not JSON.
    #[error("the binding context is not JSON: {0}")]
    NotJson(String),
    /// The document is not an array.
    #[error("the binding context must be a JSON array of contexts")]
    NotArray,
    /// One element has the wrong shape.
    #[error("binding context element {index}: {problem}")]
    Element {
        /// Its position in the array.
        index: usize,
        /// What is wrong.
        problem: String,
    },
}

/// Parses the JSON text of a binding context array; blank text is an empty array.
pub fn parse(raw: &str) -> Result<Vec<BindingContext>, BindingContextError> {
    if raw.trim().is_empty() {
        return Ok(Vec::new());
    }
    let value: Value =
        serde_json::from_str(raw).map_err(|e| BindingContextError::NotJson(e.to_string()))?;
    let Value::Array(items) = value else {
        return Err(BindingContextError::NotArray);
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            serde_json::from_value(item).map_err(|e| BindingContextError::Element {
                index,
                problem: e.to_string(),
            })
        })
        .collect()
}

/// What the contexts of one run show, binding by binding.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Folded {
    per_binding: BTreeMap<String, Vec<SnapshotItem>>,
    /// Some context carried `snapshots`: every binding's state is known.
    all: bool,
    /// Otherwise, the bindings a Synchronization or Event delivered.
    delivered: BTreeSet<String>,
}

impl Folded {
    /// Folds the contexts, in order.
    pub fn new(contexts: &[BindingContext]) -> Self {
        let mut folded = Self::default();
        for ctx in contexts {
            if let Some(snapshots) = &ctx.snapshots {
                folded.per_binding = snapshots.clone();
                folded.all = true;
            } else if let Some(objects) = &ctx.objects {
                folded
                    .per_binding
                    .insert(ctx.binding.clone(), objects.clone());
                folded.delivered.insert(ctx.binding.clone());
            } else if let (Some(event), Some(object)) = (&ctx.watch_event, &ctx.object) {
                let items = folded.per_binding.entry(ctx.binding.clone()).or_default();
                let id = ObjectRef::of(object).ok();
                items.retain(|item| item.object.as_ref().and_then(|o| ObjectRef::of(o).ok()) != id);
                if event != "Deleted" {
                    items.push(SnapshotItem {
                        object: Some(object.clone()),
                        filter_result: ctx.filter_result.clone(),
                    });
                }
                folded.delivered.insert(ctx.binding.clone());
            }
        }
        folded
    }

    /// Whether this run knows the state of `binding`.
    pub fn delivered(&self, binding: &str) -> bool {
        self.all || self.delivered.contains(binding)
    }

    /// A binding's items, or None when this run's contexts did not deliver it.
    pub fn binding(&self, binding: &str) -> Option<&[SnapshotItem]> {
        if !self.delivered(binding) {
            return None;
        }
        Some(
            self.per_binding
                .get(binding)
                .map(Vec::as_slice)
                .unwrap_or_default(),
        )
    }

    /// Every full object of every binding, once each (by identity, the last one wins).
    pub fn objects(&self) -> BTreeMap<ObjectRef, Value> {
        self.per_binding
            .values()
            .flatten()
            .filter_map(|item| item.object.as_ref())
            .filter_map(|o| ObjectRef::of(o).ok().map(|id| (id, o.clone())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(state: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "n", "name": "c"}, "data": {"state": state}})
    }

    fn fold(raw: Value) -> Folded {
        Folded::new(&parse(&raw.to_string()).unwrap())
    }

    #[test]
    fn every_documented_form_parses() {
        let raw = r#"[
          {"binding":"onStartup"},
          {"binding":"beforeHelm","snapshots":{"cm":[{"object":{"kind":"ConfigMap"}}]}},
          {"binding":"cm","type":"Synchronization","objects":[]},
          {"binding":"cm","type":"Event","watchEvent":"Added","object":{"kind":"ConfigMap"},"filterResult":"x"},
          {"binding":"cm","type":"Group","groupName":"main","snapshots":{}},
          {"binding":"every-minute","type":"Schedule"}
        ]"#;
        let contexts = parse(raw).unwrap();
        assert_eq!(contexts.len(), 6);
        assert_eq!(contexts[3].filter_result, Some(json!("x")));
        assert!(parse("  ").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_bad_element() {
        let err = parse(r#"[{"binding":"a"},{"nobinding":1}]"#).unwrap_err();
        assert!(err.to_string().contains("element 1"), "{err}");
        assert_eq!(
            parse(r#"{"binding":"a"}"#).unwrap_err(),
            BindingContextError::NotArray
        );
        assert!(matches!(
            parse("[").unwrap_err(),
            BindingContextError::NotJson(_)
        ));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("[{}{}]", "[".repeat(10_000), "]".repeat(10_000));
        let err = parse(&deep).unwrap_err().to_string();
        assert!(err.contains("recursion limit exceeded"), "{err}");
    }

    #[test]
    fn the_last_snapshots_win() {
        let folded = fold(json!([
            {"binding": "beforeHelm", "snapshots": {"cm": [{"object": cm("a")}]}},
            {"binding": "cm", "type": "Group", "groupName": "main", "snapshots": {"cm": [{"object": cm("b")}], "ns": []}},
        ]));
        assert_eq!(folded.binding("cm").unwrap()[0].object, Some(cm("b")));
        assert_eq!(folded.binding("ns"), Some(&[][..]));
        assert_eq!(
            folded.binding("not-in-the-map"),
            Some(&[][..]),
            "snapshots deliver every binding"
        );
        assert_eq!(folded.objects().len(), 1);
    }

    #[test]
    fn synchronization_and_events_update_one_binding() {
        let folded = fold(json!([
            {"binding": "cm", "type": "Synchronization", "objects": [{"object": cm("a")}]},
            {"binding": "cm", "type": "Event", "watchEvent": "Modified", "object": cm("b"), "filterResult": "b"},
        ]));
        let items = folded.binding("cm").unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].filter_result, Some(json!("b")));
        assert!(folded.binding("other").is_none(), "not delivered");
        let deleted = fold(json!([
            {"binding": "cm", "type": "Synchronization", "objects": [{"object": cm("a")}]},
            {"binding": "cm", "type": "Event", "watchEvent": "Deleted", "object": cm("a")},
        ]));
        assert_eq!(deleted.binding("cm"), Some(&[][..]));
    }

    #[test]
    fn an_event_alone_delivers_its_binding() {
        let folded = fold(json!([
            {"binding": "cm", "type": "Event", "watchEvent": "Added", "object": cm("a")},
        ]));
        assert!(folded.delivered("cm"));
        assert_eq!(folded.binding("cm").unwrap().len(), 1);
    }
}
