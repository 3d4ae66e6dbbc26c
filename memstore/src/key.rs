//! The identity of a stored object.

use crate::StoreError;
use serde_json::Value;

/// Names one object; ordering gives lists their (namespace, name) order within a kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl Key {
    /// Reads apiVersion, kind, metadata.namespace and metadata.name out of an object.
    ///
    /// An empty namespace counts as none (cluster-scoped), as the API server treats it.
    pub fn of(object: &Value) -> Result<Key, StoreError> {
        if !object.is_object() {
            return Err(StoreError::Invalid(format!(
                "a Kubernetes object must be a JSON object, got {}",
                kind_of(object)
            )));
        }
        Ok(Key {
            api_version: required(object, "/apiVersion", "apiVersion")?,
            kind: required(object, "/kind", "kind")?,
            namespace: object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            name: required(object, "/metadata/name", "metadata.name")?,
        })
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(
                f,
                "{} {}/{} ({})",
                self.kind, ns, self.name, self.api_version
            ),
            None => write!(f, "{} {} ({})", self.kind, self.name, self.api_version),
        }
    }
}

fn required(object: &Value, pointer: &str, what: &str) -> Result<String, StoreError> {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            StoreError::Invalid(format!(
                "object has no {what} (a non-empty string is required)"
            ))
        })
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_all_four_fields() {
        let key = Key::of(&json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "ns"}}))
        .unwrap();
        assert_eq!(key.namespace.as_deref(), Some("ns"));
        assert_eq!(key.to_string(), "ConfigMap ns/a (v1)");
    }

    #[test]
    fn empty_namespace_is_cluster_scoped() {
        let key = Key::of(&json!({"apiVersion": "v1", "kind": "Node",
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
            match Key::of(&object) {
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
            matches!(Key::of(&json!([1])), Err(StoreError::Invalid(m)) if m.contains("an array"))
        );
    }
}
