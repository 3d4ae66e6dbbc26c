//! The seeded cluster, with store access for the test's own reads and writes (what
//! kubectl, Deckhouse or kubelet would do). Its data comes from `migration-data`.

use migration_data::snapshot::{created, migration_state, store_state};
use migration_data::well_known::{NAMESPACE, STATE_CONFIGMAP, STORAGE_V1ALPHA1 as STORAGE};
use migration_data::{
    configmap, fixture, linstor_crds, linstor_workloads, ready_new_control_plane, served_resources,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use test_apiserver::{Key, Store, TestApiServer};

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
        let server = TestApiServer::start(served_resources().expect("tests/crds serve"));
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = server.kubeconfig(dir.path());
        let cluster = Self {
            store: server.store(),
            server,
            kubeconfig,
            dir,
        };
        let mut objects = linstor_crds().expect("LINSTOR's CRDs load");
        objects.extend(fixture("small-cluster.yaml").expect("the LINSTOR fixture loads"));
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
        migration_state(&self.store())
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
        store_state(&self.store())
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
