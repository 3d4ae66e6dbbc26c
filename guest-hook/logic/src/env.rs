//! What the hook needs from its surroundings: Kubernetes reads and writes, and a log.
//!
//! The Wasm glue implements [`HookEnv`] over the WIT imports; the native benchmark and
//! the tests implement it over objects in memory ([`crate::MemoryEnv`]).

use serde_json::Value;
use std::fmt;

/// Names one object. The hook only touches objects fixed at build time, hence `'static`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// None for cluster-scoped kinds.
    pub namespace: Option<&'static str>,
    pub name: &'static str,
}

impl ObjectRef {
    /// Whether `object` (JSON) is the object this names.
    pub fn matches(&self, object: &Value) -> bool {
        let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
        text("/apiVersion") == Some(self.api_version)
            && text("/kind") == Some(self.kind)
            && text("/metadata/namespace").filter(|ns| !ns.is_empty()) == self.namespace
            && text("/metadata/name") == Some(self.name)
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.namespace {
            Some(ns) => write!(f, "{} {ns}/{} ({})", self.kind, self.name, self.api_version),
            None => write!(f, "{} {} ({})", self.kind, self.name, self.api_version),
        }
    }
}

/// Why a Kubernetes call failed; mirrors the WIT `kube-error` variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KubeError {
    NotFound(String),
    Forbidden(String),
    Conflict(String),
    Invalid(String),
    Unavailable(String),
}

impl fmt::Display for KubeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, message) = match self {
            Self::NotFound(m) => ("not found", m),
            Self::Forbidden(m) => ("forbidden", m),
            Self::Conflict(m) => ("conflict", m),
            Self::Invalid(m) => ("invalid", m),
            Self::Unavailable(m) => ("unavailable", m),
        };
        write!(f, "{kind}: {message}")
    }
}

/// Log severity; mirrors the WIT `log-level` enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// The lowercase name Deckhouse reads from a JSON log line's `level`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// The hook's Kubernetes reads and writes and its log.
pub trait HookEnv {
    /// One object; `NotFound` when it does not exist.
    fn get(&mut self, target: &ObjectRef) -> Result<Value, KubeError>;
    /// Creates `object`; with `if_absent` an existing object is returned instead of `Conflict`.
    fn create(&mut self, object: Value, if_absent: bool) -> Result<Value, KubeError>;
    /// One log line with extra key/value fields.
    fn log(&mut self, level: LogLevel, message: &str, fields: &[(&str, &str)]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CM: ObjectRef = ObjectRef {
        api_version: "v1",
        kind: "ConfigMap",
        namespace: Some("ns"),
        name: "cm",
    };
    const NS: ObjectRef = ObjectRef {
        api_version: "v1",
        kind: "Namespace",
        namespace: None,
        name: "ns",
    };

    #[test]
    fn matches_compares_all_four_names() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "ns", "name": "cm"}});
        assert!(CM.matches(&cm));
        let mut other = cm.clone();
        other["metadata"]["namespace"] = json!("elsewhere");
        assert!(!CM.matches(&other));
        let mut other = cm.clone();
        other["kind"] = json!("Secret");
        assert!(!CM.matches(&other));
        assert!(!NS.matches(&cm));
    }

    #[test]
    fn cluster_scoped_ref_ignores_an_empty_namespace() {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns", "namespace": ""}});
        assert!(NS.matches(&ns));
    }

    #[test]
    fn display_names_the_object() {
        assert_eq!(CM.to_string(), "ConfigMap ns/cm (v1)");
        assert_eq!(NS.to_string(), "Namespace ns (v1)");
        assert_eq!(
            KubeError::Forbidden("no".into()).to_string(),
            "forbidden: no"
        );
    }
}
