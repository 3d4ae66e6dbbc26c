//! The kinds a test server serves: built-ins plus CRDs read from YAML, so tests
//! use the real group/version/plural/scope and catch path mistakes.

use serde::Deserialize;
use serde_json::Value;
use std::cmp::Ordering;

/// One served kind at one version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// API group; empty for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    /// Lower-case plural used in paths.
    pub plural: String,
    pub namespaced: bool,
}

/// A CRD document that cannot be served, with what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CrdError(pub String);

impl Resource {
    pub fn new(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            namespaced,
        }
    }

    /// `v1` for the core group, otherwise `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The built-in kinds the hooks and the migration Job touch.
    pub fn builtin() -> Vec<Resource> {
        vec![
            Self::new("", "v1", "ConfigMap", "configmaps", true),
            Self::new("", "v1", "Secret", "secrets", true),
            Self::new("", "v1", "Pod", "pods", true),
            Self::new("", "v1", "Namespace", "namespaces", false),
            Self::new("", "v1", "PersistentVolume", "persistentvolumes", false),
            Self::new("", "v1", "Node", "nodes", false),
            Self::new("", "v1", "Event", "events", true),
            Self::new("apps", "v1", "Deployment", "deployments", true),
            Self::new("apps", "v1", "DaemonSet", "daemonsets", true),
            Self::new("batch", "v1", "Job", "jobs", true),
            Self::new(
                "storage.k8s.io",
                "v1",
                "VolumeAttachment",
                "volumeattachments",
                false,
            ),
            Self::new(
                "apiextensions.k8s.io",
                "v1",
                "CustomResourceDefinition",
                "customresourcedefinitions",
                false,
            ),
        ]
    }

    /// Every served version of every CustomResourceDefinition in a (multi-document) YAML text.
    pub fn from_crd_yaml(text: &str) -> Result<Vec<Resource>, CrdError> {
        let mut resources = Vec::new();
        for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
            let yaml = serde_yaml::Value::deserialize(document)
                .map_err(|e| CrdError(format!("YAML document {}: {e}", index + 1)))?;
            if yaml.is_null() {
                continue;
            }
            let json = serde_json::to_value(yaml).map_err(|e| {
                CrdError(format!(
                    "YAML document {} is not JSON-compatible: {e}",
                    index + 1
                ))
            })?;
            let found = Self::from_crd(&json)
                .map_err(|e| CrdError(format!("YAML document {}: {e}", index + 1)))?;
            resources.extend(found);
        }
        Ok(resources)
    }

    /// Every served version of one CustomResourceDefinition object.
    pub fn from_crd(crd: &Value) -> Result<Vec<Resource>, CrdError> {
        let text = |pointer: &str| {
            crd.pointer(pointer)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    CrdError(format!(
                        "CustomResourceDefinition has no {}",
                        &pointer[1..].replace('/', ".")
                    ))
                })
        };
        if text("/kind")? != "CustomResourceDefinition" {
            return Err(CrdError(format!(
                "expected a CustomResourceDefinition, found kind {}",
                text("/kind")?
            )));
        }
        let (group, kind, plural) = (
            text("/spec/group")?,
            text("/spec/names/kind")?,
            text("/spec/names/plural")?,
        );
        let namespaced = match text("/spec/scope")? {
            "Namespaced" => true,
            "Cluster" => false,
            other => {
                return Err(CrdError(format!(
                    "CRD {plural}.{group}: spec.scope is {other:?}, expected Namespaced or Cluster"
                )));
            }
        };
        let versions = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .ok_or_else(|| CrdError(format!("CRD {plural}.{group} has no spec.versions list")))?;
        let served = versions
            .iter()
            .filter(|v| v.get("served").and_then(Value::as_bool) == Some(true));
        served
            .map(|v| {
                let version = v
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty());
                let version = version.ok_or_else(|| {
                    CrdError(format!(
                        "CRD {plural}.{group}: a served version has no name"
                    ))
                })?;
                Ok(Self::new(group, version, kind, plural, namespaced))
            })
            .collect()
    }
}

/// Kubernetes version priority: GA before beta before alpha, higher numbers first,
/// anything unconventional last in name order.
pub fn version_priority(a: &str, b: &str) -> Ordering {
    match (parse_version(a), parse_version(b)) {
        (Some(x), Some(y)) => y.cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// (stability: 2 GA / 1 beta / 0 alpha, major, minor) for `vN`, `vNbetaM`, `vNalphaM`.
fn parse_version(version: &str) -> Option<(u8, u64, u64)> {
    let rest = version.strip_prefix('v')?;
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let major = rest[..digits].parse().ok()?;
    let tail = &rest[digits..];
    if tail.is_empty() {
        return Some((2, major, 0));
    }
    let (stability, minor) = if let Some(m) = tail.strip_prefix("beta") {
        (1, m)
    } else {
        (0, tail.strip_prefix("alpha")?)
    };
    Some((stability, major, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRDS: &str = "
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions:
  - {name: v1alpha1, served: true, storage: false}
  - {name: v1, served: true, storage: true}
  - {name: v0, served: false, storage: false}
---
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {kind: Gadget, plural: gadgets}
  versions: [{name: v1-19-1, served: true, storage: true}]
";

    #[test]
    fn reads_served_versions_of_every_document() {
        let resources = Resource::from_crd_yaml(CRDS).unwrap();
        assert_eq!(
            resources,
            [
                Resource::new("example.com", "v1alpha1", "Widget", "widgets", true),
                Resource::new("example.com", "v1", "Widget", "widgets", true),
                Resource::new("example.com", "v1-19-1", "Gadget", "gadgets", false),
            ]
        );
        assert_eq!(resources[2].api_version(), "example.com/v1-19-1");
    }

    #[test]
    fn bad_documents_name_the_document_and_field() {
        let cases = [
            (
                "kind: ConfigMap\napiVersion: v1",
                "document 1: expected a CustomResourceDefinition",
            ),
            (
                "kind: CustomResourceDefinition\nspec: {group: g}",
                "spec.names.kind",
            ),
            (
                "kind: CustomResourceDefinition\nspec: {group: g, scope: Global, names: {kind: K, plural: ks}}",
                "Global",
            ),
            (
                "kind: CustomResourceDefinition\nspec: {group: g, scope: Cluster, names: {kind: K, plural: ks}}",
                "spec.versions",
            ),
            ("kind: [unclosed", "YAML document 1"),
            (
                "---\nkind: CustomResourceDefinition\nspec: {group: g, scope: Cluster, names: {kind: K, plural: ks}, versions: [{served: true}]}",
                "has no name",
            ),
        ];
        for (text, expected) in cases {
            let error = Resource::from_crd_yaml(text).unwrap_err();
            assert!(error.0.contains(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn versions_sort_by_kubernetes_priority() {
        let mut versions = vec![
            "v1alpha1", "v1-19-1", "v2beta1", "v1", "v1beta2", "v2", "v1beta1", "zeta",
        ];
        versions.sort_by(|a, b| version_priority(a, b));
        assert_eq!(
            versions,
            [
                "v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1", "v1-19-1", "zeta"
            ]
        );
    }
}
