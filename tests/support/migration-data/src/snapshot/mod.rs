//! Views of a store for assertions: the migration state, the created objects, and
//! whole-store snapshots without the metadata the server sets (resourceVersion, uid,
//! times), which differ between runs by design.

mod difference;

use std::collections::BTreeMap;

use guest_migrate::well_known::{CREATED_KINDS, NAMESPACE, STATE_CONFIGMAP, STORAGE_V1ALPHA1};
use kube_memstore::{Key, Store};
use serde_json::Value;

pub use difference::Difference;

/// Metadata the API server stamps.
const SERVER_FIELDS: [&str; 5] = [
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "managedFields",
];

/// The object without server-set metadata (the owners' uids in ownerReferences too:
/// they are the server-set uids of other objects).
pub fn normalized(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in SERVER_FIELDS {
            meta.remove(field);
        }
        let owners = meta
            .get_mut("ownerReferences")
            .and_then(Value::as_array_mut);
        for owner in owners.into_iter().flatten() {
            if let Some(owner) = owner.as_object_mut() {
                owner.remove("uid");
            }
        }
    }
    object
}

/// The whole store, normalized, keyed by "kind namespace/name apiVersion". Events are
/// left out: they are best-effort records (a Job killed right after a state change
/// never writes its Event), not state.
pub fn store_state(store: &Store) -> BTreeMap<String, Value> {
    store
        .objects()
        .filter(|o| o["kind"] != "Event")
        .map(|o| {
            let key = format!(
                "{} {}/{} {}",
                o["kind"], o["metadata"]["namespace"], o["metadata"]["name"], o["apiVersion"]
            );
            (key, normalized(o))
        })
        .collect()
}

/// Whether the migration creates objects of this one's kind.
pub fn is_created_kind(object: &Value) -> bool {
    object["apiVersion"] == STORAGE_V1ALPHA1 && CREATED_KINDS.iter().any(|k| object["kind"] == *k)
}

/// The objects of the kinds the migration creates, normalized, in store (key) order.
pub fn created(store: &Store) -> Vec<Value> {
    store
        .objects()
        .filter(|o| is_created_kind(o))
        .map(normalized)
        .collect()
}

/// The objects without `status`, which only controllers write: what the Job wrote
/// (and what its golden files hold).
pub fn without_status(objects: &[Value]) -> Vec<Value> {
    objects
        .iter()
        .map(|o| {
            let mut o = o.clone();
            if let Some(fields) = o.as_object_mut() {
                fields.remove("status");
            }
            o
        })
        .collect()
}

/// Count of objects per kind.
pub fn counts(objects: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for object in objects {
        *counts
            .entry(object["kind"].as_str().unwrap_or("").to_owned())
            .or_default() += 1;
    }
    counts
}

/// The `data.state` of the migration state ConfigMap, if there is one.
pub fn migration_state(store: &Store) -> Option<String> {
    let key = Key {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: Some(NAMESPACE.into()),
        name: STATE_CONFIGMAP.into(),
    };
    let configmap = store.get(&key).ok()?;
    configmap
        .pointer("/data/state")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{configmap, volume_group};
    use serde_json::json;

    fn drbd(name: &str) -> Value {
        json!({"apiVersion": STORAGE_V1ALPHA1, "kind": "DRBDResource",
               "metadata": {"name": name}, "spec": {}})
    }

    #[test]
    fn snapshots_of_equal_content_match_despite_server_metadata() {
        let (mut first, mut second) = (Store::new(), Store::new());
        first.create(configmap("x")).expect("creates");
        first.create(drbd("a")).expect("creates");
        second.create(drbd("a")).expect("creates");
        second.create(configmap("x")).expect("creates");
        assert_ne!(first.objects().next(), second.objects().next());
        assert_eq!(store_state(&first), store_state(&second));
        let a =
            &store_state(&first)["\"DRBDResource\" null/\"a\" \"storage.deckhouse.io/v1alpha1\""];
        assert!(a["metadata"].get("resourceVersion").is_none(), "{a}");
    }

    #[test]
    fn created_keeps_only_the_migrations_kinds() {
        let mut store = Store::new();
        for object in [configmap("x"), drbd("a"), volume_group("vg", "n", "vg0")] {
            store.create(object).expect("creates");
        }
        let created = created(&store);
        assert_eq!(
            counts(&created),
            BTreeMap::from([("DRBDResource".into(), 1)])
        );
        assert!(created[0]["metadata"].get("uid").is_none());
    }

    #[test]
    fn migration_state_reads_the_configmap() {
        let mut store = Store::new();
        assert_eq!(migration_state(&store), None);
        store.create(configmap("stage1_started")).expect("creates");
        assert_eq!(migration_state(&store).as_deref(), Some("stage1_started"));
    }
}
