//! A run's snapshots by binding name, read out of the binding contexts in every form
//! Deckhouse writes them (beforeHelm and Group snapshots, Synchronization objects, Events,
//! several contexts combined, the last snapshots being current), and decoded into the
//! author's serde types: the jqFilter result for a binding with a `jqFilter`, else the
//! full object (module-sdk's `input.Snapshots.Get(name)` + `UnmarshalTo`).

use crate::config::HookConfig;
use hooks_manifest::binding_context::{BindingContext, Folded, SnapshotItem};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;

/// Why a snapshot could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The hook has no kubernetes binding of this name: a typo in the code.
    #[error("snapshot {0:?}: the hook has no kubernetes binding of that name")]
    UnknownBinding(String),
    /// This run's contexts did not deliver the binding, so its objects are unknown.
    #[error(
        "snapshot {binding:?} ({what}) was not delivered in this run's binding contexts; a hook reads only what its kubernetes bindings deliver, so check the hook's bindings"
    )]
    NotDelivered {
        /// The binding.
        binding: String,
        /// What it watches.
        what: String,
    },
    /// An item lacks what the binding should put there.
    #[error("snapshot {binding:?} item {index} has no {field}; {hint}")]
    Missing {
        /// The binding.
        binding: String,
        /// The item's position.
        index: usize,
        /// `object` or `filterResult`.
        field: &'static str,
        /// What to change.
        hint: &'static str,
    },
    /// An item does not decode into the wanted type.
    #[error("snapshot {binding:?} item {index} does not decode: {message}")]
    Decode {
        /// The binding.
        binding: String,
        /// The item's position.
        index: usize,
        /// serde's message.
        message: String,
    },
}

/// The snapshots of one run.
#[derive(Clone, Debug, Default)]
pub struct Snapshots {
    folded: Folded,
    /// Binding name → (what it watches, whether it has a jqFilter).
    bindings: BTreeMap<String, (String, bool)>,
}

impl Snapshots {
    /// Folds the contexts of one run for a hook with this config.
    pub fn new(contexts: &[BindingContext], config: &HookConfig) -> Self {
        let bindings = config
            .kubernetes
            .iter()
            .map(|b| (b.name.clone(), (b.describe(), b.jq_filter.is_some())))
            .collect();
        Self {
            folded: Folded::new(contexts),
            bindings,
        }
    }

    /// Whether this run's contexts delivered `binding`.
    pub fn delivered(&self, binding: &str) -> bool {
        self.folded.delivered(binding)
    }

    /// The binding's items as delivered.
    pub fn raw(&self, binding: &str) -> Result<&[SnapshotItem], SnapshotError> {
        let (what, _) = self
            .bindings
            .get(binding)
            .ok_or_else(|| SnapshotError::UnknownBinding(binding.to_owned()))?;
        self.folded
            .binding(binding)
            .ok_or_else(|| SnapshotError::NotDelivered {
                binding: binding.to_owned(),
                what: what.clone(),
            })
    }

    /// Every item of `binding`, decoded: the `filterResult` when the binding has a jqFilter,
    /// else the full `object`.
    pub fn get<T: DeserializeOwned>(&self, binding: &str) -> Result<Vec<T>, SnapshotError> {
        let filtered = self.bindings.get(binding).is_some_and(|(_, f)| *f);
        self.raw(binding)?
            .iter()
            .enumerate()
            .map(|(index, item)| decode(binding, index, item, filtered))
            .collect()
    }

    /// The first item of `binding`, if any: for bindings that watch one object by name.
    pub fn first<T: DeserializeOwned>(&self, binding: &str) -> Result<Option<T>, SnapshotError> {
        Ok(self.get(binding)?.into_iter().next())
    }
}

fn decode<T: DeserializeOwned>(
    binding: &str,
    index: usize,
    item: &SnapshotItem,
    filtered: bool,
) -> Result<T, SnapshotError> {
    let value = if filtered {
        item.filter_result.clone().ok_or(SnapshotError::Missing {
            binding: binding.to_owned(),
            index,
            field: "filterResult",
            hint: "Deckhouse sends it for bindings with a jqFilter",
        })?
    } else {
        item.object.clone().ok_or(SnapshotError::Missing {
            binding: binding.to_owned(),
            index,
            field: "object",
            hint: "set keep_full_objects_in_memory(true) or a jq_filter on the binding",
        })?
    };
    serde_json::from_value(value).map_err(|e| SnapshotError::Decode {
        binding: binding.to_owned(),
        index,
        message: e.to_string(),
    })
}

/// The snapshots as JSON values, for tests and logs.
impl Snapshots {
    /// Every binding this run delivered, with its raw items.
    pub fn delivered_bindings(&self) -> Vec<(&str, Vec<Value>)> {
        self.bindings
            .keys()
            .filter_map(|name| {
                let items = self.folded.binding(name)?;
                let values = items
                    .iter()
                    .map(|i| serde_json::to_value(i).unwrap_or(Value::Null))
                    .collect();
                Some((name.as_str(), values))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::KubeBinding;
    use hooks_manifest::binding_context::parse;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Name {
        name: String,
    }

    fn config() -> HookConfig {
        HookConfig::new()
            .kubernetes(KubeBinding::new("cm", "v1", "ConfigMap"))
            .kubernetes(KubeBinding::new("nodes", "v1", "Node").jq_filter("{name: .metadata.name}"))
    }

    fn snapshots(contexts: Value) -> Snapshots {
        Snapshots::new(&parse(&contexts.to_string()).unwrap(), &config())
    }

    fn cm(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "n"}})
    }

    #[test]
    fn full_objects_and_filter_results_decode_by_binding() {
        let s = snapshots(json!([{"binding": "beforeHelm", "snapshots": {
            "cm": [{"object": cm("a")}],
            "nodes": [{"filterResult": {"name": "n1"}}, {"filterResult": {"name": "n2"}}]}}]));
        let nodes: Vec<Name> = s.get("nodes").unwrap();
        assert_eq!(
            nodes,
            [Name { name: "n1".into() }, Name { name: "n2".into() }]
        );
        let cm: Option<Value> = s.first("cm").unwrap();
        assert_eq!(cm.unwrap()["metadata"]["name"], "a");
    }

    #[test]
    fn undelivered_and_unknown_bindings_are_errors() {
        let s = snapshots(json!([{"binding": "cm", "type": "Synchronization", "objects": []}]));
        assert_eq!(s.get::<Value>("cm").unwrap(), Vec::<Value>::new());
        let err = s.get::<Name>("nodes").unwrap_err();
        assert!(matches!(err, SnapshotError::NotDelivered { .. }));
        assert!(
            err.to_string().contains("Node (v1)") && err.to_string().contains("bindings"),
            "{err}"
        );
        assert_eq!(
            s.get::<Value>("typo").unwrap_err(),
            SnapshotError::UnknownBinding("typo".into())
        );
    }

    #[test]
    fn missing_fields_and_bad_types_say_what_to_change() {
        let s = snapshots(json!([{"binding": "beforeHelm", "snapshots": {
            "cm": [{"filterResult": 1}], "nodes": [{"object": cm("x")}]}}]));
        assert!(
            s.get::<Value>("cm")
                .unwrap_err()
                .to_string()
                .contains("keep_full_objects_in_memory")
        );
        assert!(
            s.get::<Value>("nodes")
                .unwrap_err()
                .to_string()
                .contains("jqFilter")
        );
        let s = snapshots(
            json!([{"binding": "beforeHelm", "snapshots": {"nodes": [{"filterResult": 3}]}}]),
        );
        assert!(matches!(
            s.get::<Name>("nodes").unwrap_err(),
            SnapshotError::Decode { index: 0, .. }
        ));
    }

    #[test]
    fn combined_contexts_fold_in_order() {
        let s = snapshots(json!([
            {"binding": "beforeHelm", "snapshots": {"cm": [{"object": cm("old")}]}},
            {"binding": "cm", "type": "Event", "watchEvent": "Added", "object": cm("new")},
        ]));
        let names: Vec<String> = s
            .get::<Value>("cm")
            .unwrap()
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["old", "new"]);
        assert_eq!(s.delivered_bindings().len(), 2);
    }
}
