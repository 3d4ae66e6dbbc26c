//! A loopback Kubernetes API server over [`kube_memstore::Store`], so live clients
//! (kube-rs, the host's `LiveBackend`, kubectl) can be tested without a cluster.
//!
//! It runs on its own thread and runtime: start it from a plain `#[test]` or from
//! inside a tokio test alike. It serves discovery, get, list (label selectors, field
//! selectors on metadata.name/namespace, pagination with limit and continue),
//! create, update, merge/JSON patch and delete. Limits, by design:
//! - strategic-merge patches are applied as JSON merge patches; server-side apply
//!   (`application/apply-patch+yaml`) and other patch types answer 415;
//! - `dryRun=All` writes are validated and answered, and store nothing;
//! - no watch, subresources or version conversion
//!   (each served version of a kind stores its own objects);
//! - requests without a token are accepted; a wrong bearer token is a 401;
//! - creating a CustomResourceDefinition makes its kinds servable.

mod body;
mod discovery;
mod objects;
mod resource;
mod route;
mod server;
mod state;
mod status;

pub use kube_memstore::{Key, Store, StoreError};
pub use resource::{CrdError, Resource};
pub use state::{RawAnswer, RequestRecord};

use state::Shared;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;

/// The bearer token written into kubeconfigs.
pub const TOKEN: &str = "test-apiserver-token";

/// A running server; dropping it stops the server and its thread.
pub struct TestApiServer {
    shared: Arc<Shared>,
    url: String,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestApiServer {
    /// Starts serving `resources` on 127.0.0.1 at a free port.
    ///
    /// # Panics
    /// If no loopback port or thread can be had; use [`Self::try_start`] to handle that.
    pub fn start(resources: Vec<Resource>) -> TestApiServer {
        Self::try_start(resources)
            .unwrap_or_else(|e| panic!("test-apiserver could not start on 127.0.0.1: {e}"))
    }

    pub fn try_start(resources: Vec<Resource>) -> std::io::Result<TestApiServer> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?.to_string();
        let shared = Arc::new(Shared::new(resources, address.clone(), TOKEN.to_owned()));
        let (shutdown, stop) = oneshot::channel();
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let app = axum::Router::new()
            .fallback(server::serve)
            .with_state(shared.clone());
        let thread = std::thread::Builder::new()
            .name(format!("test-apiserver {address}"))
            .spawn(move || run(listener, app, stop, ready_tx))?;
        let started = ready
            .recv()
            .map_err(|_| std::io::Error::other("test-apiserver thread exited before serving"))?;
        started?;
        Ok(TestApiServer {
            shared,
            url: format!("http://{address}"),
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The objects served; lock it to seed or inspect.
    pub fn store(&self) -> Arc<Mutex<Store>> {
        self.shared.store.clone()
    }

    /// Serves more kinds from now on.
    pub fn add_resources(&self, resources: Vec<Resource>) {
        self.shared.add_resources(resources);
    }

    /// Writes `dir/kubeconfig` (plain http, bearer token, namespace `default`) and returns its path.
    ///
    /// # Panics
    /// If the file cannot be written: the test cannot go on without it.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        std::fs::write(&path, self.kubeconfig_yaml())
            .unwrap_or_else(|e| panic!("cannot write kubeconfig {}: {e}", path.display()));
        path
    }

    /// The kubeconfig text [`Self::kubeconfig`] writes.
    pub fn kubeconfig_yaml(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n\
             users:\n- name: test\n  user:\n    token: {TOKEN}\ncontexts:\n- name: test\n  context:\n    \
             cluster: test\n    user: test\n    namespace: default\ncurrent-context: test\n",
            self.url
        )
    }

    /// A kube-rs client for this server. Call it inside a tokio runtime (kube-rs spawns
    /// its request buffer there).
    ///
    /// # Panics
    /// If kube-rs rejects the generated kubeconfig, which would be a bug here.
    pub async fn kube_client(&self) -> kube::Client {
        let kubeconfig = kube::config::Kubeconfig::from_yaml(&self.kubeconfig_yaml())
            .expect("generated kubeconfig parses");
        let options = kube::config::KubeConfigOptions::default();
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .expect("generated kubeconfig loads");
        kube::Client::try_from(config).expect("kube-rs client for test-apiserver")
    }

    /// Requests received so far, faulted ones included.
    pub fn request_count(&self) -> u64 {
        self.shared.request_count()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.requests()
    }

    /// The most requests the server ever served at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight()
    }

    /// The next `n` requests get `answer` as it is, without being served.
    pub fn answer_next(&self, n: usize, answer: RawAnswer) {
        self.shared.answer_next(n, answer);
    }

    /// The next `n` requests answer `status` (a `Status` body) without being served.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.shared.fail_next(n, status);
    }

    /// The next `n` requests are served only after `delay` (for client timeouts).
    pub fn delay_next(&self, n: usize, delay: Duration) {
        self.shared.delay_next(n, delay);
    }

    /// Every write (POST, PUT, PATCH, DELETE) from now on is served only after `latency`,
    /// concurrently with others: the round trip a real API server spends on etcd, for
    /// benchmarks where the server, not the client, should be the bottleneck.
    pub fn set_write_latency(&self, latency: Duration) {
        self.shared.set_write_latency(latency);
    }

    /// After `k` more requests, every request answers 503 until [`Self::heal`].
    pub fn crash_after(&self, k: u64) {
        self.shared.crash_after(k);
    }

    /// Clears every injected fault (a restarted API server).
    pub fn heal(&self) {
        self.shared.heal();
    }
}

impl Drop for TestApiServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The server thread: serves until told to stop, then drops its runtime, which
/// ends every open connection.
fn run(
    listener: std::net::TcpListener,
    app: axum::Router,
    stop: oneshot::Receiver<()>,
    ready: std::sync::mpsc::Sender<std::io::Result<()>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return drop(ready.send(Err(e))),
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(e) => return drop(ready.send(Err(e))),
        };
        let _ = ready.send(Ok(()));
        tokio::select! {
            _ = axum::serve(listener, app).into_future() => {}
            _ = stop => {}
        }
    });
}
