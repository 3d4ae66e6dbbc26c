//! The server-owned metadata fields a real API server stamps on writes.

use serde_json::{Map, Value, json};
use std::time::SystemTime;

/// `metadata` as a mutable map, created if absent (callers have validated the object).
pub fn metadata(object: &mut Value) -> &mut Map<String, Value> {
    let root = object
        .as_object_mut()
        .expect("key_of accepted only JSON objects");
    let entry = root.entry("metadata").or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry.as_object_mut().expect("just made an object")
}

/// The `metadata.resourceVersion` a client sent, if any (an empty string is none).
pub fn resource_version(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Stamps a freshly created object.
pub fn stamp_created(object: &mut Value, revision: u64) {
    let meta = metadata(object);
    meta.insert("resourceVersion".into(), json!(revision.to_string()));
    meta.insert("uid".into(), json!(uid(revision)));
    meta.insert(
        "creationTimestamp".into(),
        // `metav1.Time`: RFC 3339 in whole seconds.
        json!(humantime::format_rfc3339_seconds(SystemTime::now()).to_string()),
    );
    meta.insert("generation".into(), json!(1));
}

/// Stamps a replacement of `old`: keeps identity fields, bumps generation when
/// anything outside metadata and status changed (as the API server does).
pub fn stamp_replaced(new: &mut Value, old: &Value, revision: u64) {
    let generation = old
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let generation = if body(new) == body(old) {
        generation
    } else {
        generation + 1
    };
    let meta = metadata(new);
    for field in ["uid", "creationTimestamp"] {
        match old.pointer(&format!("/metadata/{field}")) {
            Some(v) => meta.insert(field.into(), v.clone()),
            None => meta.remove(field),
        };
    }
    meta.insert("generation".into(), json!(generation));
    meta.insert("resourceVersion".into(), json!(revision.to_string()));
}

/// The object without metadata and status: the part whose change bumps generation.
fn body(object: &Value) -> Vec<(&String, &Value)> {
    object
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| *k != "metadata" && *k != "status")
                .collect()
        })
        .unwrap_or_default()
}

/// A UUID-shaped uid, unique within one store and stable across runs.
fn uid(revision: u64) -> String {
    format!(
        "00000000-0000-4000-8000-{:012x}",
        revision & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_moves_only_with_the_body() {
        let old = json!({"spec": {"a": 1}, "metadata": {"generation": 3, "uid": "u"}});
        let mut same =
            json!({"spec": {"a": 1}, "status": {"x": 1}, "metadata": {"labels": {"l": "v"}}});
        stamp_replaced(&mut same, &old, 9);
        assert_eq!(same["metadata"]["generation"], 3);
        assert_eq!(same["metadata"]["uid"], "u");
        assert_eq!(same["metadata"]["resourceVersion"], "9");
        let mut changed = json!({"spec": {"a": 2}, "metadata": {"uid": "forged"}});
        stamp_replaced(&mut changed, &old, 10);
        assert_eq!(changed["metadata"]["generation"], 4);
        assert_eq!(changed["metadata"]["uid"], "u");
    }
}
