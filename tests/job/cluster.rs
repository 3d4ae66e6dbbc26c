//! Test data, the served kinds and the seeded cluster, with store access for the
//! test's own reads and writes (what kubectl, Deckhouse or kubelet would do).

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use test_apiserver::{Key, Resource, Store, TestApiServer};

pub const NAMESPACE: &str = "d8-sds-replicated-volume";
pub const STATE_CONFIGMAP: &str = "control-plane-migration";
pub const STORAGE: &str = "storage.deckhouse.io/v1alpha1";
/// The kinds the migration creates.
pub const CREATED_KINDS: [&str; 6] = [
    "ReplicatedStoragePool",
    "LVMLogicalVolume",
    "DRBDResource",
    "ReplicatedVolumeReplica",
    "ReplicatedVolume",
    "ReplicatedVolumeAttachment",
];
/// Metadata the API server stamps; it differs between runs by design.
const SERVER_FIELDS: [&str; 5] = [
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "managedFields",
];

pub fn repo(relative: &str) -> PathBuf {
    guest_artifacts::root().join(relative)
}

/// Every document of a multi-document YAML file, as JSON.
pub fn yaml_documents(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_yaml::Deserializer::from_str(&text)
        .map(|document| {
            let yaml: serde_yaml::Value = serde::Deserialize::deserialize(document)
                .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
            serde_json::to_value(yaml)
                .unwrap_or_else(|e| panic!("{}: not JSON-compatible: {e}", path.display()))
        })
        .filter(|v| !v.is_null())
        .collect()
}

/// The built-in kinds plus every served version of every CRD in tests/crds.
fn resources() -> Vec<Resource> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo("tests/crds"))
        .expect("tests/crds exists")
        .map(|e| e.expect("readable tests/crds entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut resources = Resource::builtin();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        resources.extend(
            Resource::from_crd_yaml(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display())),
        );
    }
    resources
}

pub fn configmap(state: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": STATE_CONFIGMAP, "namespace": NAMESPACE}, "data": {"state": state}})
}

fn workload(kind: &str, name: &str, status: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": kind,
           "metadata": {"name": name, "namespace": NAMESPACE}, "spec": {}, "status": status})
}

pub fn linstor_workloads() -> Vec<Value> {
    vec![
        workload(
            "Deployment",
            "linstor-controller",
            json!({"readyReplicas": 1}),
        ),
        workload(
            "DaemonSet",
            "linstor-node",
            json!({"numberReady": 3, "desiredNumberScheduled": 3}),
        ),
    ]
}

/// The new controller and agent as kubelet reports them once they run.
pub fn ready_new_control_plane() -> Vec<Value> {
    vec![
        workload("Deployment", "controller", json!({"readyReplicas": 1})),
        workload(
            "DaemonSet",
            "agent",
            json!({"numberReady": 3, "desiredNumberScheduled": 3}),
        ),
    ]
}

/// The workloads present when the Job starts.
#[derive(Clone, Copy, Debug)]
pub enum Workloads {
    /// LINSTOR runs and the new control plane is absent: someone must play Deckhouse.
    LinstorRunning,
    /// LINSTOR is gone, the new control plane not there yet.
    LinstorStopped,
    /// LINSTOR is gone and the new agent and controller are ready: the Job never waits.
    NewReady,
}

/// A loopback API server seeded with small-cluster.yaml, and a kubeconfig for it.
pub struct Cluster {
    pub server: TestApiServer,
    store: Arc<Mutex<Store>>,
    pub kubeconfig: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Cluster {
    /// LINSTOR's CRDs and database from small-cluster.yaml, the state ConfigMap at
    /// not_started, and `workloads`.
    pub fn small(workloads: Workloads) -> Self {
        let server = TestApiServer::start(resources());
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = server.kubeconfig(dir.path());
        let cluster = Self {
            store: server.store(),
            server,
            kubeconfig,
            dir,
        };
        let mut objects = yaml_documents(&repo("tests/crds/internal.linstor.linbit.com.yaml"));
        objects.extend(yaml_documents(&repo(
            "tests/fixtures/linstor/small-cluster.yaml",
        )));
        objects.push(configmap("not_started"));
        objects.extend(match workloads {
            Workloads::LinstorRunning => linstor_workloads(),
            Workloads::LinstorStopped => vec![],
            Workloads::NewReady => ready_new_control_plane(),
        });
        for object in objects {
            cluster
                .store()
                .create(object)
                .unwrap_or_else(|e| panic!("seeding: {e}"));
        }
        cluster
    }

    /// The served objects; hold the guard briefly, the server waits on it.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn state(&self) -> Option<String> {
        let configmap = self
            .store()
            .get(&key("v1", "ConfigMap", Some(NAMESPACE), STATE_CONFIGMAP))
            .ok()?;
        configmap
            .pointer("/data/state")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// What a user's `kubectl patch configmap ... state` does.
    pub fn set_state(&self, state: &str) {
        let key = key("v1", "ConfigMap", Some(NAMESPACE), STATE_CONFIGMAP);
        self.store()
            .merge_patch(&key, &json!({"data": {"state": state}}))
            .expect("state ConfigMap exists");
    }

    /// One created object by kind and name.
    pub fn created_object(&self, kind: &str, name: &str) -> Value {
        self.store()
            .get(&key(STORAGE, kind, None, name))
            .unwrap_or_else(|e| panic!("{kind} {name}: {e}"))
    }

    pub fn patch_created(&self, kind: &str, name: &str, patch: &Value) {
        self.store()
            .merge_patch(&key(STORAGE, kind, None, name), patch)
            .unwrap_or_else(|e| panic!("patching {kind} {name}: {e}"));
    }

    pub fn delete_created(&self, kind: &str, name: &str) {
        self.store()
            .delete(&key(STORAGE, kind, None, name))
            .unwrap_or_else(|e| panic!("deleting {kind} {name}: {e}"));
    }

    /// The objects of the created kinds, normalized, in store (key) order.
    pub fn created(&self) -> Vec<Value> {
        created(&self.store())
    }

    /// The whole store, normalized, keyed by identity.
    pub fn snapshot(&self) -> BTreeMap<String, Value> {
        self.store()
            .objects()
            .map(|o| {
                let id = format!(
                    "{} {}/{} {}",
                    o["kind"], o["metadata"]["namespace"], o["metadata"]["name"], o["apiVersion"]
                );
                (id, normalized(o))
            })
            .collect()
    }
}

pub fn key(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Key {
    Key {
        api_version: api_version.into(),
        kind: kind.into(),
        namespace: namespace.map(str::to_owned),
        name: name.into(),
    }
}

pub fn is_created_kind(object: &Value) -> bool {
    object["apiVersion"] == STORAGE && CREATED_KINDS.iter().any(|k| object["kind"] == *k)
}

pub fn created(store: &Store) -> Vec<Value> {
    store
        .objects()
        .filter(|o| is_created_kind(o))
        .map(normalized)
        .collect()
}

/// The object without the metadata the server stamps.
pub fn normalized(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in SERVER_FIELDS {
            meta.remove(field);
        }
    }
    object
}
