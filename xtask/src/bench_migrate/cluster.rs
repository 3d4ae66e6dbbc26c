//! The benchmark's cluster: the served kinds, guest-migrate's generated LINSTOR data,
//! a seeded loopback API server, and what Pass 1 left in it.

use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use test_apiserver::{Resource, TestApiServer};

/// guest-migrate's cluster generator, shared with its 1,000-volume test.
#[path = "../../../guest-migrate/tests/migration/support/generator.rs"]
mod generator;

/// What the generator takes from guest-migrate's test support.
mod data {
    use serde_json::{Value, json};

    /// An LVMVolumeGroup as sds-node-configurator writes it.
    pub fn volume_group(name: &str, node: &str, vg: &str) -> Value {
        json!({"apiVersion": "storage.deckhouse.io/v1alpha1", "kind": "LVMVolumeGroup",
               "metadata": {"name": name},
               "spec": {"type": "Local", "local": {"nodeName": node}, "actualVGNameOnTheNode": vg,
                        "blockDeviceSelector": {"matchLabels": {"kubernetes.io/hostname": node}},
                        "thinPools": [{"name": "thinpool", "size": "100%"}]}})
    }
}

pub const STORAGE: &str = "storage.deckhouse.io/v1alpha1";
/// The kinds Pass 1 creates.
const CREATED_KINDS: [&str; 6] = [
    "ReplicatedStoragePool",
    "LVMLogicalVolume",
    "DRBDResource",
    "ReplicatedVolumeReplica",
    "ReplicatedVolume",
    "ReplicatedVolumeAttachment",
];

/// The built-in kinds plus every CRD in tests/crds.
pub fn resources(root: &Path) -> Result<Vec<Resource>> {
    let mut resources = Resource::builtin();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/crds"))
        .context("reading tests/crds")?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        resources
            .extend(Resource::from_crd_yaml(&text).with_context(|| file.display().to_string())?);
    }
    Ok(resources)
}

/// LINSTOR's CRDs and a generated database of `volumes` volumes, and the state
/// ConfigMap at not_started. No workloads: LINSTOR is stopped, the new control plane absent.
pub fn seed(root: &Path, volumes: usize) -> Result<Vec<Value>> {
    let crds = root.join("tests/crds/internal.linstor.linbit.com.yaml");
    let text =
        std::fs::read_to_string(&crds).with_context(|| format!("reading {}", crds.display()))?;
    let mut objects = Vec::new();
    for document in serde_yaml::Deserializer::from_str(&text) {
        let yaml: serde_yaml::Value = serde::Deserialize::deserialize(document)
            .with_context(|| crds.display().to_string())?;
        objects.push(serde_json::to_value(yaml)?);
    }
    objects.retain(|o| !o.is_null());
    objects.extend(generator::cluster(volumes));
    objects.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "control-plane-migration", "namespace": "d8-sds-replicated-volume"},
        "data": {"state": "not_started"}}));
    Ok(objects)
}

pub fn start_server(resources: &[Resource], seed: &[Value]) -> Result<TestApiServer> {
    let server = TestApiServer::try_start(resources.to_vec()).context("starting test-apiserver")?;
    let store = server.store();
    let mut store = store
        .lock()
        .map_err(|_| anyhow::anyhow!("test-apiserver's store is poisoned"))?;
    for object in seed {
        store
            .create(object.clone())
            .with_context(|| format!("seeding {}", object["metadata"]["name"]))?;
    }
    drop(store);
    Ok(server)
}

pub fn state(server: &TestApiServer) -> Option<String> {
    let key = test_apiserver::Key {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: Some("d8-sds-replicated-volume".into()),
        name: "control-plane-migration".into(),
    };
    let store = server.store();
    let store = store.lock().ok()?;
    let configmap = store.get(&key).ok()?;
    configmap["data"]["state"].as_str().map(str::to_owned)
}

/// The objects of the kinds Pass 1 creates, without server metadata, pools first (the
/// Job creates pools before volumes).
pub fn created(server: &TestApiServer) -> Result<Vec<Value>> {
    let store = server.store();
    let store = store
        .lock()
        .map_err(|_| anyhow::anyhow!("test-apiserver's store is poisoned"))?;
    let mut objects: Vec<Value> = store
        .objects()
        .filter(|o| o["apiVersion"] == STORAGE && CREATED_KINDS.iter().any(|k| o["kind"] == *k))
        .cloned()
        .collect();
    objects.sort_by_key(|o| o["kind"] != "ReplicatedStoragePool");
    for object in &mut objects {
        if let Some(meta) = object["metadata"].as_object_mut() {
            for field in [
                "resourceVersion",
                "uid",
                "creationTimestamp",
                "generation",
                "managedFields",
            ] {
                meta.remove(field);
            }
        }
    }
    Ok(objects)
}
