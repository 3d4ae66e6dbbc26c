//! Binding contexts as shell-operator writes them: onStartup, beforeHelm with snapshots,
//! Synchronization, Event, Group and Schedule, several possibly combined in one run.

use crate::error::{HostError, Result};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One element of the binding context array.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingContext {
    pub binding: String,
    /// Synchronization, Event, Group, Schedule; absent for onStartup and the helm bindings.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub watch_event: Option<String>,
    #[serde(default)]
    pub object: Option<Value>,
    #[serde(default)]
    pub filter_result: Option<Value>,
    #[serde(default)]
    pub objects: Option<Vec<SnapshotItem>>,
    #[serde(default)]
    pub snapshots: Option<BTreeMap<String, Vec<SnapshotItem>>>,
    #[serde(default)]
    pub group_name: Option<String>,
}

/// One object of a snapshot or a Synchronization.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotItem {
    #[serde(default)]
    pub object: Option<Value>,
    #[serde(default)]
    pub filter_result: Option<Value>,
}

/// The contexts of one run, in the order Deckhouse queued them.
#[derive(Clone, Debug, Default)]
pub struct BindingContexts {
    contexts: Vec<BindingContext>,
    /// The text as read, handed to the guest unchanged.
    pub raw: String,
}

impl BindingContexts {
    /// Parses the file; errors say which element is wrong.
    pub fn read(path: &Path) -> Result<Self> {
        let raw = std::fs::read_to_string(path).map_err(|e| input(path, e.to_string()))?;
        Self::parse(&raw).map_err(|problem| input(path, problem))
    }

    /// Parses the JSON text of a binding context array.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value: Value = if raw.trim().is_empty() {
            Value::Array(vec![])
        } else {
            serde_json::from_str(raw).map_err(|e| format!("not JSON: {e}"))?
        };
        let Value::Array(items) = value else {
            return Err("the binding context must be a JSON array".into());
        };
        let contexts = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| serde_json::from_value(item).map_err(|e| format!("element {i}: {e}")))
            .collect::<Result<Vec<BindingContext>, String>>()?;
        Ok(Self {
            contexts,
            raw: raw.to_owned(),
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &BindingContext> {
        self.contexts.iter()
    }

    pub fn len(&self) -> usize {
        self.contexts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.contexts.is_empty()
    }

    /// The binding names, for the run log.
    pub fn bindings(&self) -> Vec<String> {
        self.contexts
            .iter()
            .map(|c| match &c.kind {
                Some(kind) => format!("{}:{kind}", c.binding),
                None => c.binding.clone(),
            })
            .collect()
    }
}

/// A binding as the host knows it from the guest's config: which kind it watches.
#[derive(Clone, Debug)]
pub struct WatchedKind {
    pub binding: String,
    pub api_version: String,
    pub kind: String,
}

/// The objects a run knows after folding its contexts in order, and the kinds whose
/// snapshots arrived (absence of an object of such a kind means it does not exist).
#[derive(Clone, Debug, Default)]
pub struct CurrentObjects {
    pub objects: Vec<Value>,
    pub observed: BTreeSet<(String, String)>,
}

impl BindingContexts {
    /// Folds the contexts, in order, into the current objects: a snapshots map replaces
    /// every binding's set (the last one carries the current snapshots), a
    /// Synchronization replaces its binding's set, an Event adds, replaces or removes one.
    pub fn current_objects(&self, watched: &[WatchedKind]) -> CurrentObjects {
        let mut observed = BTreeSet::new();
        let observe = |binding: &str, observed: &mut BTreeSet<(String, String)>| {
            if let Some(w) = watched.iter().find(|w| w.binding == binding) {
                observed.insert((w.api_version.clone(), w.kind.clone()));
            }
        };
        let mut per_binding: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for ctx in self.iter() {
            if let Some(snapshots) = &ctx.snapshots {
                per_binding.clear();
                // shell-operator puts every binding of the hook into a snapshots map.
                for w in watched {
                    observe(&w.binding, &mut observed);
                }
                for (binding, items) in snapshots {
                    per_binding.insert(
                        binding.clone(),
                        items.iter().filter_map(|i| i.object.clone()).collect(),
                    );
                }
            } else if let Some(objects) = &ctx.objects {
                observe(&ctx.binding, &mut observed);
                per_binding.insert(
                    ctx.binding.clone(),
                    objects.iter().filter_map(|i| i.object.clone()).collect(),
                );
            } else if let (Some(event), Some(object)) = (&ctx.watch_event, &ctx.object) {
                observe(&ctx.binding, &mut observed);
                let set = per_binding.entry(ctx.binding.clone()).or_default();
                let id = identity(object);
                set.retain(|o| identity(o) != id);
                if event != "Deleted" {
                    set.push(object.clone());
                }
            }
        }
        CurrentObjects {
            objects: per_binding.into_values().flatten().collect(),
            observed,
        }
    }
}

/// apiVersion, kind, namespace and name of an object, for replacing it on an event.
fn identity(object: &Value) -> [Option<&str>; 4] {
    [
        "/apiVersion",
        "/kind",
        "/metadata/namespace",
        "/metadata/name",
    ]
    .map(|p| object.pointer(p).and_then(Value::as_str))
}

fn input(path: &Path, problem: String) -> HostError {
    HostError::Input {
        what: "binding context",
        path: path.to_path_buf(),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let ctx = BindingContexts::parse(raw).unwrap();
        assert_eq!(ctx.len(), 6);
        assert_eq!(ctx.bindings()[3], "cm:Event");
    }

    #[test]
    fn errors_name_the_bad_element() {
        let err = BindingContexts::parse(r#"[{"binding":"a"},{"nobinding":1}]"#).unwrap_err();
        assert!(err.starts_with("element 1"), "{err}");
        assert!(
            BindingContexts::parse(r#"{"binding":"a"}"#)
                .unwrap_err()
                .contains("array")
        );
    }
}
