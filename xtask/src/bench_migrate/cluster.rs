//! The benchmark's cluster: the generated LINSTOR data from `migration-data` (the one
//! guest-migrate's 1,000-volume test runs on), a seeded loopback API server, and what
//! Pass 1 left in it.

use anyhow::{Context, Result};
use migration_data::snapshot::migration_state;
use migration_data::{configmap, generator, linstor_crds, module_config, new_control_plane_crds};
use serde_json::Value;
use std::time::Duration;
use test_apiserver::{Resource, Store, TestApiServer};

/// LINSTOR's CRDs and a generated database of `volumes` volumes, the new control
/// plane's CRDs and ModuleConfig switched to it (the Job's pre-flight), and the state
/// ConfigMap at not_started. No workloads: LINSTOR is stopped, the new control plane absent.
pub fn seed(volumes: usize) -> Result<Vec<Value>> {
    let mut objects = linstor_crds()?;
    objects.extend(new_control_plane_crds()?);
    objects.push(module_config(true));
    objects.extend(generator::cluster(volumes));
    objects.push(configmap("not_started"));
    Ok(objects)
}

/// What one run's server serves: the kinds, the seed, and how long each write takes.
#[derive(Clone, Copy)]
pub struct Setup<'a> {
    pub resources: &'a [Resource],
    pub seed: &'a [Value],
    /// Zero: the client's own work is what is measured. Some milliseconds: a real API
    /// server's etcd round trip, so the server is the bottleneck, as in a cluster.
    pub write_latency: Duration,
}

impl Setup<'_> {
    /// A fresh seeded server.
    pub fn start(&self) -> Result<TestApiServer> {
        start_server(self.resources, self.seed, self.write_latency)
    }
}

fn start_server(
    resources: &[Resource],
    seed: &[Value],
    write_latency: Duration,
) -> Result<TestApiServer> {
    let server = TestApiServer::try_start(resources.to_vec()).context("starting test-apiserver")?;
    let store = server.store();
    let mut store = lock(&store)?;
    for object in seed {
        store
            .create(object.clone())
            .with_context(|| format!("seeding {}", object["metadata"]["name"]))?;
    }
    drop(store);
    server.set_write_latency(write_latency);
    Ok(server)
}

pub fn state(server: &TestApiServer) -> Option<String> {
    let store = server.store();
    let store = lock(&store).ok()?;
    migration_state(&store)
}

/// The objects of the kinds Pass 1 creates, without server metadata, pools first (the
/// Job creates pools before volumes).
pub fn created(server: &TestApiServer) -> Result<Vec<Value>> {
    let store = server.store();
    let mut objects = migration_data::snapshot::created(&*lock(&store)?);
    objects.sort_by_key(|o| o["kind"] != "ReplicatedStoragePool");
    Ok(objects)
}

/// The server's store; a poisoned lock means the server thread panicked.
fn lock(store: &std::sync::Mutex<Store>) -> Result<std::sync::MutexGuard<'_, Store>> {
    store
        .lock()
        .map_err(|_| anyhow::anyhow!("test-apiserver's store is poisoned"))
}
