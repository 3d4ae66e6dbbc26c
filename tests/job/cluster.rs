//! The seeded cluster, with store access for the test's own reads and writes (what
//! kubectl, Deckhouse or kubelet would do), and the new controller's adoption running
//! on a thread while its Deployment exists. Its data comes from `migration-data`.

use migration_data::controller::{Behaviour, adopt};
use migration_data::snapshot::{created, migration_state, store_state, without_status};
use migration_data::well_known::NEW_CONTROLLER;
use migration_data::well_known::{NAMESPACE, STATE_CONFIGMAP, STORAGE_V1ALPHA1 as STORAGE};
use migration_data::{
    configmap, fixture, linstor_crds, linstor_workloads, module_config, new_control_plane_crds,
    ready_new_control_plane, served_resources,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;
use test_apiserver::{Key, Store, TestApiServer};

/// How often the simulated controller reconciles; well under the Job's poll (1 s).
const RECONCILE: Duration = Duration::from_millis(50);

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
    _controller: Controller,
}

/// The new controller's adoption ([`adopt`]) on a thread, reconciling every
/// [`RECONCILE`] while the `controller` Deployment exists, as the real one runs only
/// once Deckhouse renders it. It writes to the store directly, so an API outage
/// does not stop it (it has its own connection in a real cluster).
struct Controller {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Controller {
    fn start(store: Arc<Mutex<Store>>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                reconcile(&mut store.lock().unwrap_or_else(PoisonError::into_inner));
                std::thread::sleep(RECONCILE);
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One reconciliation of the new controller, if it runs.
fn reconcile(store: &mut Store) {
    let deployment = key("apps/v1", "Deployment", Some(NAMESPACE), NEW_CONTROLLER);
    if store.get(&deployment).is_ok() {
        adopt(store, &Behaviour::default());
    }
}

impl Cluster {
    /// LINSTOR's CRDs and database from small-cluster.yaml, the new control plane's
    /// CRDs, ModuleConfig `sds-replicated-volume` switched to it, the state ConfigMap
    /// at not_started, and `workloads`.
    pub fn small(workloads: Workloads) -> Self {
        let server = TestApiServer::start(served_resources().expect("tests/crds serve"));
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = server.kubeconfig(dir.path());
        let store = server.store();
        let cluster = Self {
            _controller: Controller::start(store.clone()),
            store,
            server,
            kubeconfig,
            dir,
        };
        let mut objects = linstor_crds().expect("LINSTOR's CRDs load");
        objects.extend(new_control_plane_crds().expect("the new control plane's CRDs load"));
        objects.push(module_config(true));
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

    /// What the Job wrote to the created kinds: [`Self::created`] without `status`
    /// (the controller's), as guest-migrate's golden run holds them.
    pub fn written(&self) -> Vec<Value> {
        without_status(&self.created())
    }

    /// The whole store, normalized, keyed by identity, once the controller has
    /// reconciled after the Job (so its last status write is in, whatever the timing).
    pub fn snapshot(&self) -> BTreeMap<String, Value> {
        let mut store = self.store();
        reconcile(&mut store);
        store_state(&store)
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
