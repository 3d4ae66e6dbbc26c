//! The identity of a stored object: the one `ObjectRef` the host, the SDK and the tests
//! share, so a key read here is the object a backend or a guest names.

use crate::StoreError;
pub use hooks_manifest::kube::ObjectRef as Key;
use serde_json::Value;

/// [`Key::of`] with the store's error: reads apiVersion, kind, metadata.namespace and
/// metadata.name out of an object (an empty namespace is none, as the API server treats
/// it); anything missing is `Invalid`, naming the field.
pub fn key_of(object: &Value) -> Result<Key, StoreError> {
    Key::of(object).map_err(|e| StoreError::Invalid(e.message().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_all_four_fields() {
        let key = key_of(&json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "ns"}}))
        .unwrap();
        assert_eq!(key.namespace.as_deref(), Some("ns"));
        assert_eq!(key.to_string(), "ConfigMap ns/a (v1)");
    }

    #[test]
    fn empty_namespace_is_cluster_scoped() {
        let key = key_of(&json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "n", "namespace": ""}}))
        .unwrap();
        assert_eq!(key.namespace, None);
        assert_eq!(key.to_string(), "Node n (v1)");
    }

    #[test]
    fn missing_fields_are_invalid_and_named() {
        for (object, missing) in [
            (
                json!({"kind": "A", "metadata": {"name": "a"}}),
                "apiVersion",
            ),
            (
                json!({"apiVersion": "v1", "metadata": {"name": "a"}}),
                "kind",
            ),
            (
                json!({"apiVersion": "v1", "kind": "A", "metadata": {}}),
                "metadata.name",
            ),
            (
                json!({"apiVersion": "v1", "kind": "A", "metadata": {"name": ""}}),
                "metadata.name",
            ),
            (json!({"apiVersion": "v1", "kind": "A"}), "metadata.name"),
        ] {
            match key_of(&object) {
                Err(StoreError::Invalid(message)) => {
                    assert!(message.contains(missing), "{message}")
                }
                other => panic!("expected Invalid naming {missing}, got {other:?}"),
            }
        }
    }

    #[test]
    fn non_objects_are_invalid() {
        assert!(
            matches!(key_of(&json!([1])), Err(StoreError::Invalid(m)) if m.contains("an array"))
        );
    }
}
