//! Where a kind's plural and scope come from: the CustomResourceDefinitions the module ships
//! (or depends on), and k8s-openapi's metadata for the kinds Kubernetes serves itself. RBAC
//! names resources by these plurals, so a guessed plural would silently grant nothing.

use super::RbacError;
use k8s_openapi::{NamespaceResourceScope, Resource};
use serde::Deserialize;
use std::any::TypeId;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A kind as the API server serves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedKind {
    /// The resource name in URLs and RBAC rules (`configmaps`).
    pub plural: String,
    /// Namespaced kinds can be granted by a Role; cluster-scoped ones only by a ClusterRole.
    pub namespaced: bool,
    /// Where this came from, for error messages (`built-in`, or the CRD file).
    pub source: String,
}

/// Every kind the generator can resolve, keyed by (API group, kind).
#[derive(Clone, Debug, Default)]
pub struct KindIndex {
    kinds: BTreeMap<(String, String), ServedKind>,
    crd_dirs: Vec<PathBuf>,
}

impl KindIndex {
    /// The built-in kinds, plus every CustomResourceDefinition in the `*.yaml` files of `crd_dirs`.
    /// A CRD overrides nothing: a group/kind defined twice with different plurals is an error.
    pub fn load(crd_dirs: &[PathBuf]) -> Result<Self, RbacError> {
        let mut index = Self::builtin();
        for dir in crd_dirs {
            index.add_crd_dir(dir)?;
            index.crd_dirs.push(dir.clone());
        }
        Ok(index)
    }

    /// The kind for `group` (empty for the core group) and `kind`.
    pub fn resolve(&self, group: &str, kind: &str) -> Option<&ServedKind> {
        self.kinds.get(&(group.to_owned(), kind.to_owned()))
    }

    /// The folders searched for CRDs, for error messages.
    pub fn crd_dirs(&self) -> &[PathBuf] {
        &self.crd_dirs
    }

    fn builtin() -> Self {
        let mut index = Self::default();
        for (group, kind, plural, namespaced) in builtin_kinds() {
            index.kinds.insert(
                (group.to_owned(), kind.to_owned()),
                ServedKind {
                    plural: plural.to_owned(),
                    namespaced,
                    source: "built-in (k8s-openapi)".into(),
                },
            );
        }
        index
    }

    fn add_crd_dir(&mut self, dir: &Path) -> Result<(), RbacError> {
        let entries = std::fs::read_dir(dir).map_err(|source| RbacError::ReadCrds {
            path: dir.to_owned(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
            })
            .collect();
        files.sort();
        for file in files {
            self.add_crd_file(&file)?;
        }
        Ok(())
    }

    fn add_crd_file(&mut self, file: &Path) -> Result<(), RbacError> {
        let text = std::fs::read_to_string(file).map_err(|source| RbacError::ReadCrds {
            path: file.to_owned(),
            source,
        })?;
        for document in serde_yaml::Deserializer::from_str(&text) {
            let value =
                serde_yaml::Value::deserialize(document).map_err(|e| RbacError::BadCrd {
                    path: file.to_owned(),
                    problem: e.to_string(),
                })?;
            if value.is_null()
                || value.get("kind").and_then(|k| k.as_str()) != Some("CustomResourceDefinition")
            {
                continue;
            }
            let crd: Crd = serde_yaml::from_value(value).map_err(|e| RbacError::BadCrd {
                path: file.to_owned(),
                problem: e.to_string(),
            })?;
            let served = ServedKind {
                plural: crd.spec.names.plural,
                namespaced: match crd.spec.scope.as_str() {
                    "Namespaced" => true,
                    "Cluster" => false,
                    other => {
                        return Err(RbacError::BadCrd {
                            path: file.to_owned(),
                            problem: format!(
                                "{}: spec.scope {other:?} is neither Namespaced nor Cluster",
                                crd.spec.names.kind
                            ),
                        });
                    }
                },
                source: file.display().to_string(),
            };
            let key = (crd.spec.group, crd.spec.names.kind);
            match self.kinds.get(&key) {
                Some(known)
                    if known.plural != served.plural || known.namespaced != served.namespaced =>
                {
                    return Err(RbacError::BadCrd {
                        path: file.to_owned(),
                        problem: format!(
                            "{} in group {:?} is already defined by {} with plural {:?}",
                            key.1, key.0, known.source, known.plural
                        ),
                    });
                }
                Some(_) => {}
                None => {
                    self.kinds.insert(key, served);
                }
            }
        }
        Ok(())
    }
}

/// The fields of a CustomResourceDefinition the generator reads.
#[derive(Deserialize)]
struct Crd {
    spec: CrdSpec,
}

#[derive(Deserialize)]
struct CrdSpec {
    group: String,
    scope: String,
    names: CrdNames,
}

#[derive(Deserialize)]
struct CrdNames {
    kind: String,
    plural: String,
}

/// (group, kind, plural, namespaced) of one k8s-openapi type.
fn entry<T: Resource + 'static>() -> (&'static str, &'static str, &'static str, bool) {
    let namespaced = TypeId::of::<T::Scope>() == TypeId::of::<NamespaceResourceScope>();
    (T::GROUP, T::KIND, T::URL_PATH_SEGMENT, namespaced)
}

/// The stable (v1/v2) kinds Kubernetes serves itself, from k8s-openapi. Beta and alpha
/// versions of the same kinds share these plurals, so the generator needs no more.
fn builtin_kinds() -> Vec<(&'static str, &'static str, &'static str, bool)> {
    use k8s_openapi::api::{
        admissionregistration::v1 as admission, apps::v1 as apps, autoscaling::v2 as autoscaling,
        batch::v1 as batch, certificates::v1 as certificates, coordination::v1 as coordination,
        core::v1 as core, discovery::v1 as discovery, events::v1 as events,
        flowcontrol::v1 as flowcontrol, networking::v1 as networking, node::v1 as node,
        policy::v1 as policy, rbac::v1 as rbac, scheduling::v1 as scheduling,
        storage::v1 as storage,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apiregistration;
    vec![
        entry::<core::ConfigMap>(),
        entry::<core::Endpoints>(),
        entry::<core::Event>(),
        entry::<core::LimitRange>(),
        entry::<core::Namespace>(),
        entry::<core::Node>(),
        entry::<core::PersistentVolume>(),
        entry::<core::PersistentVolumeClaim>(),
        entry::<core::Pod>(),
        entry::<core::PodTemplate>(),
        entry::<core::ReplicationController>(),
        entry::<core::ResourceQuota>(),
        entry::<core::Secret>(),
        entry::<core::Service>(),
        entry::<core::ServiceAccount>(),
        entry::<admission::MutatingWebhookConfiguration>(),
        entry::<admission::ValidatingAdmissionPolicy>(),
        entry::<admission::ValidatingAdmissionPolicyBinding>(),
        entry::<admission::ValidatingWebhookConfiguration>(),
        entry::<apiextensions::CustomResourceDefinition>(),
        entry::<apiregistration::APIService>(),
        entry::<apps::ControllerRevision>(),
        entry::<apps::DaemonSet>(),
        entry::<apps::Deployment>(),
        entry::<apps::ReplicaSet>(),
        entry::<apps::StatefulSet>(),
        entry::<autoscaling::HorizontalPodAutoscaler>(),
        entry::<batch::CronJob>(),
        entry::<batch::Job>(),
        entry::<certificates::CertificateSigningRequest>(),
        entry::<coordination::Lease>(),
        entry::<discovery::EndpointSlice>(),
        entry::<events::Event>(),
        entry::<flowcontrol::FlowSchema>(),
        entry::<flowcontrol::PriorityLevelConfiguration>(),
        entry::<networking::Ingress>(),
        entry::<networking::IngressClass>(),
        entry::<networking::NetworkPolicy>(),
        entry::<node::RuntimeClass>(),
        entry::<policy::PodDisruptionBudget>(),
        entry::<rbac::ClusterRole>(),
        entry::<rbac::ClusterRoleBinding>(),
        entry::<rbac::Role>(),
        entry::<rbac::RoleBinding>(),
        entry::<scheduling::PriorityClass>(),
        entry::<storage::CSIDriver>(),
        entry::<storage::CSINode>(),
        entry::<storage::CSIStorageCapacity>(),
        entry::<storage::StorageClass>(),
        entry::<storage::VolumeAttachment>(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_kinds_carry_the_served_plural_and_scope() {
        let index = KindIndex::builtin();
        let cm = index
            .resolve("", "ConfigMap")
            .expect("ConfigMap is built in");
        assert_eq!((cm.plural.as_str(), cm.namespaced), ("configmaps", true));
        let pv = index
            .resolve("", "PersistentVolume")
            .expect("PersistentVolume is built in");
        assert_eq!(
            (pv.plural.as_str(), pv.namespaced),
            ("persistentvolumes", false)
        );
        let crd = index
            .resolve("apiextensions.k8s.io", "CustomResourceDefinition")
            .expect("CRD is built in");
        assert_eq!(
            (crd.plural.as_str(), crd.namespaced),
            ("customresourcedefinitions", false)
        );
        let events = index
            .resolve("events.k8s.io", "Event")
            .expect("events.k8s.io Event is built in");
        assert_eq!(events.plural, "events");
        assert!(
            index.resolve("", "Deployment").is_none(),
            "Deployment is in group apps, not core"
        );
    }

    #[test]
    fn crds_add_their_plural_and_scope_and_conflicts_fail() {
        let dir = tempfile::tempdir().unwrap();
        let crd = |plural: &str, scope: &str| {
            format!(
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {plural}.example.io\nspec:\n  group: example.io\n  scope: {scope}\n  names:\n    kind: Widget\n    plural: {plural}\n"
            )
        };
        std::fs::write(
            dir.path().join("a.yaml"),
            format!(
                "# comment\n---\n{}---\nkind: ConfigMap\n",
                crd("widgets", "Namespaced")
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not yaml: [").unwrap();
        let index = KindIndex::load(&[dir.path().to_owned()]).unwrap();
        let widget = index.resolve("example.io", "Widget").unwrap();
        assert_eq!(
            (widget.plural.as_str(), widget.namespaced),
            ("widgets", true)
        );

        std::fs::write(dir.path().join("b.yaml"), crd("widgetz", "Namespaced")).unwrap();
        let err = KindIndex::load(&[dir.path().to_owned()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("b.yaml") && err.contains("widgets"), "{err}");

        std::fs::write(dir.path().join("b.yaml"), crd("widgets", "Galaxy")).unwrap();
        let err = KindIndex::load(&[dir.path().to_owned()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("Galaxy"), "{err}");

        let err = KindIndex::load(&[dir.path().join("missing")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing"), "{err}");
    }
}
