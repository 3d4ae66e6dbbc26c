//! The objects one run can see: the binding contexts folded in order, as Deckhouse
//! means them (a context with `snapshots` replaces everything known, a Synchronization
//! replaces its binding's objects, an Event adds, replaces or removes one object).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What the binding contexts show.
#[derive(Debug, Default, PartialEq)]
pub struct Snapshot {
    pub objects: Vec<Value>,
    /// Every binding's state is known (some context carried `snapshots`).
    pub all_bindings: bool,
    /// Otherwise, the bindings whose state is known.
    pub bindings: BTreeSet<String>,
}

/// Folds a binding-context array into the objects it shows.
pub fn fold(contexts: &Value) -> Result<Snapshot, String> {
    let contexts = contexts
        .as_array()
        .ok_or("the binding context must be a JSON array")?;
    let mut per_binding: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut snapshot = Snapshot::default();
    for (i, ctx) in contexts.iter().enumerate() {
        let binding = ctx
            .get("binding")
            .and_then(Value::as_str)
            .ok_or(format!("binding context {i} has no \"binding\""))?;
        if let Some(snapshots) = ctx.get("snapshots") {
            let snapshots = snapshots.as_object().ok_or(format!(
                "binding context {i}: \"snapshots\" must be an object"
            ))?;
            per_binding = snapshots
                .iter()
                .map(|(name, items)| (name.clone(), full_objects(items)))
                .collect();
            snapshot.all_bindings = true;
        } else if let Some(items) = ctx.get("objects") {
            per_binding.insert(binding.to_owned(), full_objects(items));
            snapshot.bindings.insert(binding.to_owned());
        } else if let (Some(event), Some(object)) = (
            ctx.get("watchEvent").and_then(Value::as_str),
            ctx.get("object"),
        ) {
            let set = per_binding.entry(binding.to_owned()).or_default();
            set.retain(|o| identity(o) != identity(object));
            if event != "Deleted" {
                set.push(object.clone());
            }
            snapshot.bindings.insert(binding.to_owned());
        }
    }
    snapshot.objects = per_binding.into_values().flatten().collect();
    Ok(snapshot)
}

/// The `object` of each snapshot item; items without one (no keepFullObjectsInMemory) are skipped.
fn full_objects(items: &Value) -> Vec<Value> {
    let items = items.as_array().map(Vec::as_slice).unwrap_or_default();
    items
        .iter()
        .filter_map(|item| item.get("object").cloned())
        .collect()
}

fn identity(object: &Value) -> [Option<&str>; 4] {
    [
        "/apiVersion",
        "/kind",
        "/metadata/namespace",
        "/metadata/name",
    ]
    .map(|p| object.pointer(p).and_then(Value::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(state: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "n", "name": "c"}, "data": {"state": state}})
    }

    #[test]
    fn last_snapshots_win() {
        let ctx = json!([
            {"binding": "beforeHelm", "snapshots": {"cm": [{"object": cm("a")}]}},
            {"binding": "cm", "type": "Group", "groupName": "main", "snapshots": {"cm": [{"object": cm("b")}], "ns": []}},
        ]);
        let snapshot = fold(&ctx).unwrap();
        assert_eq!(snapshot.objects, vec![cm("b")]);
        assert!(snapshot.all_bindings);
    }

    #[test]
    fn events_update_the_binding() {
        let ctx = json!([
            {"binding": "cm", "type": "Synchronization", "objects": [{"object": cm("a")}]},
            {"binding": "cm", "type": "Event", "watchEvent": "Modified", "object": cm("b")},
        ]);
        let snapshot = fold(&ctx).unwrap();
        assert_eq!(snapshot.objects, vec![cm("b")]);
        assert_eq!((snapshot.all_bindings, snapshot.bindings.len()), (false, 1));
        let deleted = json!([
            {"binding": "cm", "type": "Synchronization", "objects": [{"object": cm("a")}]},
            {"binding": "cm", "type": "Event", "watchEvent": "Deleted", "object": cm("a")},
        ]);
        assert!(fold(&deleted).unwrap().objects.is_empty());
    }

    #[test]
    fn malformed_contexts_are_named() {
        assert!(fold(&json!({})).unwrap_err().contains("array"));
        assert!(
            fold(&json!([{"type": "Group"}]))
                .unwrap_err()
                .contains("context 0")
        );
        assert!(
            fold(&json!([{"binding": "x", "snapshots": []}]))
                .unwrap_err()
                .contains("snapshots")
        );
    }
}
