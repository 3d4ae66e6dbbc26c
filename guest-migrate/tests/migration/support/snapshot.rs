//! Views of the store for assertions: the created objects, and whole-store
//! snapshots without the metadata the server sets (resourceVersion, uid, times).

use std::collections::BTreeMap;
use std::path::PathBuf;

use guest_migrate::well_known::{CREATED_KINDS, STORAGE_V1ALPHA1};
use kube_memstore::Store;
use serde_json::{Value, json};

const SERVER_FIELDS: [&str; 5] = [
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "managedFields",
];

/// The object without server-set metadata.
pub fn normalized(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in SERVER_FIELDS {
            meta.remove(field);
        }
    }
    object
}

/// The whole store, normalized, keyed by "kind namespace/name apiVersion".
pub fn state(store: &Store) -> BTreeMap<String, Value> {
    store
        .objects()
        .map(|o| {
            let key = format!(
                "{} {}/{} {}",
                o["kind"], o["metadata"]["namespace"], o["metadata"]["name"], o["apiVersion"]
            );
            (key, normalized(o))
        })
        .collect()
}

/// The objects of the kinds the migration creates, normalized, in store order.
pub fn created(store: &Store) -> Vec<Value> {
    store
        .objects()
        .filter(|o| {
            o["apiVersion"] == STORAGE_V1ALPHA1 && CREATED_KINDS.iter().any(|k| o["kind"] == *k)
        })
        .map(normalized)
        .collect()
}

/// Count of created objects per kind.
pub fn counts(objects: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for object in objects {
        *counts
            .entry(object["kind"].as_str().unwrap_or("").to_owned())
            .or_default() += 1;
    }
    counts
}

/// Compares with `tests/golden/<name>.json`; `UPDATE_GOLDEN=1` rewrites it.
pub fn assert_golden(name: &str, objects: &[Value]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.json"));
    let actual = serde_json::to_string_pretty(&json!(objects)).expect("serializable") + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reading {}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{} differs from the run (first at line {}):\n  golden: {:?}\n  actual: {:?}\nrerun with UPDATE_GOLDEN=1 if the change is intended",
            path.display(),
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}
