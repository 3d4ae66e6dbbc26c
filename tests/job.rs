//! The migration Job end to end: the real `wasm-hooks job control-plane-migrator`
//! process, talking kube-rs to the loopback API server, with this test playing
//! Deckhouse and kubelet. Checks the created objects against guest-migrate's golden
//! run and the CRDs, survival of an API crash at sampled requests and of `kill -9`,
//! riding out an outage, and the seed's recovery procedure after a failed Pass 2.

mod common;

use cluster::{Cluster, Workloads};
use expect::{assert_crd_valid, assert_same_state, golden_small_cluster, state_changes};
use serde_json::{Value, json};

const THICK: &str = "pvc-923a7369-94e3-bf91-1a61-dbe22e44158b";

/// Test data, the served kinds and the seeded cluster, with store access for the
/// test's own reads and writes (what kubectl, Deckhouse or kubelet would do).
mod cluster {
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
    const SERVER_FIELDS: [&str; 5] = ["resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"];

    pub fn repo(relative: &str) -> PathBuf {
        guest_artifacts::root().join(relative)
    }

    /// Every document of a multi-document YAML file, as JSON.
    pub fn yaml_documents(path: &Path) -> Vec<Value> {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        serde_yaml::Deserializer::from_str(&text)
            .map(|document| {
                let yaml: serde_yaml::Value =
                    serde::Deserialize::deserialize(document).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
                serde_json::to_value(yaml).unwrap_or_else(|e| panic!("{}: not JSON-compatible: {e}", path.display()))
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
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
            resources.extend(Resource::from_crd_yaml(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display())));
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
            workload("Deployment", "linstor-controller", json!({"readyReplicas": 1})),
            workload("DaemonSet", "linstor-node", json!({"numberReady": 3, "desiredNumberScheduled": 3})),
        ]
    }

    /// The new controller and agent as kubelet reports them once they run.
    pub fn ready_new_control_plane() -> Vec<Value> {
        vec![
            workload("Deployment", "controller", json!({"readyReplicas": 1})),
            workload("DaemonSet", "agent", json!({"numberReady": 3, "desiredNumberScheduled": 3})),
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
            let cluster = Self { store: server.store(), server, kubeconfig, dir };
            let mut objects = yaml_documents(&repo("tests/crds/internal.linstor.linbit.com.yaml"));
            objects.extend(yaml_documents(&repo("tests/fixtures/linstor/small-cluster.yaml")));
            objects.push(configmap("not_started"));
            objects.extend(match workloads {
                Workloads::LinstorRunning => linstor_workloads(),
                Workloads::LinstorStopped => vec![],
                Workloads::NewReady => ready_new_control_plane(),
            });
            for object in objects {
                cluster.store().create(object).unwrap_or_else(|e| panic!("seeding: {e}"));
            }
            cluster
        }

        /// The served objects; hold the guard briefly, the server waits on it.
        pub fn store(&self) -> MutexGuard<'_, Store> {
            self.store.lock().unwrap_or_else(PoisonError::into_inner)
        }

        pub fn state(&self) -> Option<String> {
            let configmap = self.store().get(&key("v1", "ConfigMap", Some(NAMESPACE), STATE_CONFIGMAP)).ok()?;
            configmap.pointer("/data/state").and_then(Value::as_str).map(str::to_owned)
        }

        /// What a user's `kubectl patch configmap ... state` does.
        pub fn set_state(&self, state: &str) {
            let key = key("v1", "ConfigMap", Some(NAMESPACE), STATE_CONFIGMAP);
            self.store().merge_patch(&key, &json!({"data": {"state": state}})).expect("state ConfigMap exists");
        }

        /// One created object by kind and name.
        pub fn created_object(&self, kind: &str, name: &str) -> Value {
            self.store().get(&key(STORAGE, kind, None, name)).unwrap_or_else(|e| panic!("{kind} {name}: {e}"))
        }

        pub fn patch_created(&self, kind: &str, name: &str, patch: &Value) {
            self.store().merge_patch(&key(STORAGE, kind, None, name), patch).unwrap_or_else(|e| panic!("patching {kind} {name}: {e}"));
        }

        pub fn delete_created(&self, kind: &str, name: &str) {
            self.store().delete(&key(STORAGE, kind, None, name)).unwrap_or_else(|e| panic!("deleting {kind} {name}: {e}"));
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
                    let id = format!("{} {}/{} {}", o["kind"], o["metadata"]["namespace"], o["metadata"]["name"], o["apiVersion"]);
                    (id, normalized(o))
                })
                .collect()
        }
    }

    pub fn key(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Key {
        Key { api_version: api_version.into(), kind: kind.into(), namespace: namespace.map(str::to_owned), name: name.into() }
    }

    pub fn is_created_kind(object: &Value) -> bool {
        object["apiVersion"] == STORAGE && CREATED_KINDS.iter().any(|k| object["kind"] == *k)
    }

    pub fn created(store: &Store) -> Vec<Value> {
        store.objects().filter(|o| is_created_kind(o)).map(normalized).collect()
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
}

/// The Job as a process: the real host binary, a kubeconfig, a short API timeout.
mod job {
    use super::cluster::Cluster;
    use std::fs::File;
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{Duration, Instant};

    const GUEST: &str = "control-plane-migrator";
    /// Per-attempt timeout of each API call: short, so a hung call cannot stall a test.
    const API_TIMEOUT_SECS: &str = "5";
    /// A Job process that has not ended by then is stuck.
    const DEADLINE: Duration = Duration::from_secs(90);
    const POLL: Duration = Duration::from_millis(2);

    /// Precompiled components, shared by every run (keyed by content and engine, so
    /// reuse across test runs is safe); filled once so runs do not compile.
    fn cache_dir() -> &'static Path {
        static CACHE: OnceLock<PathBuf> = OnceLock::new();
        CACHE.get_or_init(|| {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("job-component-cache");
            let (hooks, cache) = (guest_artifacts::hooks_dir(), dir.clone());
            let args = ["--hooks-dir", hooks.to_str().unwrap(), "--cache-dir", cache.to_str().unwrap(), "precompile"];
            let (code, _, stderr) = crate::common::host(&args, &[]);
            assert_eq!(code, 0, "precompile failed: {stderr}");
            dir
        })
    }

    /// How a Job process ended: its exit code and its JSON log (stderr).
    #[derive(Debug)]
    pub struct Exit {
        pub code: i32,
        pub log: String,
    }

    impl Exit {
        /// The log lines, parsed.
        pub fn lines(&self) -> Vec<serde_json::Value> {
            self.log
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}")))
                .collect()
        }

        pub fn assert_success(&self) {
            assert_eq!(self.code, 0, "the Job failed:\n{}", self.log);
        }
    }

    /// A running Job process.
    pub struct Job {
        child: Child,
        log: PathBuf,
    }

    impl Job {
        pub fn start(cluster: &Cluster) -> Job {
            static RUNS: AtomicU32 = AtomicU32::new(0);
            let log = cluster.dir.path().join(format!("job-{}.log", RUNS.fetch_add(1, Ordering::Relaxed)));
            let stderr = File::create(&log).expect("job log file");
            let child = Command::new(crate::common::HOST)
                .env_clear()
                .arg("--hooks-dir")
                .arg(guest_artifacts::hooks_dir())
                .arg("--cache-dir")
                .arg(cache_dir())
                .args(["job", GUEST, "--kubeconfig"])
                .arg(&cluster.kubeconfig)
                .args(["--api-timeout", API_TIMEOUT_SECS])
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .expect("the host binary starts");
            Job { child, log }
        }

        pub fn running(&mut self) -> bool {
            self.child.try_wait().expect("waiting on the Job process").is_none()
        }

        /// Polls `ready` until it holds (true) or the process ends (false).
        pub fn until(&mut self, what: &str, mut ready: impl FnMut() -> bool) -> bool {
            let start = Instant::now();
            loop {
                if ready() {
                    return true;
                }
                if !self.running() {
                    return false;
                }
                if start.elapsed() > DEADLINE {
                    self.kill();
                    panic!("the Job never got to {what} in {DEADLINE:?}:\n{}", self.read_log());
                }
                std::thread::sleep(POLL);
            }
        }

        pub fn wait(mut self) -> Exit {
            self.until("its end", || false);
            let code = self.child.wait().expect("reaping the Job").code().unwrap_or(-1);
            Exit { code, log: self.read_log() }
        }

        /// `kill -9` of this test's own child, then reaps it.
        pub fn kill(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }

        /// Where the process's JSON log (stderr) goes.
        pub fn log_path(&self) -> PathBuf {
            self.log.clone()
        }

        fn read_log(&self) -> String {
            std::fs::read_to_string(&self.log).unwrap_or_default()
        }
    }

    /// Runs a Job to its end.
    pub fn run(cluster: &Cluster) -> Exit {
        Job::start(cluster).wait()
    }
}

/// Deckhouse and kubelet as the Job sees them, on a background thread: the module's
/// templates follow the migration state (LINSTOR only before stage1_started, the new
/// agent and controller from stage1_completed on) and kubelet reports them ready.
mod deckhouse {
    use super::cluster::{Cluster, STORAGE, key, linstor_workloads, ready_new_control_plane};
    use serde_json::Value;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;
    use test_apiserver::{Key, Store};

    /// What Deckhouse did, and anything it saw that the seed forbids.
    #[derive(Debug, Default)]
    pub struct Played {
        pub stopped_linstor: bool,
        pub started_new: bool,
        pub problems: Vec<String>,
    }

    /// Plays along while `during` runs, then returns what it did.
    pub fn play_while<T>(cluster: &Cluster, during: impl FnOnce() -> T) -> (T, Played) {
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let player = scope.spawn(|| {
                let mut played = Played::default();
                while !stop.load(Ordering::Relaxed) {
                    tick(&mut cluster.store(), &mut played);
                    std::thread::sleep(Duration::from_millis(10));
                }
                played
            });
            let result = during();
            stop.store(true, Ordering::Relaxed);
            (result, player.join().expect("the Deckhouse thread panicked"))
        })
    }

    fn tick(store: &mut Store, played: &mut Played) {
        let state_key = key("v1", "ConfigMap", Some(super::cluster::NAMESPACE), super::cluster::STATE_CONFIGMAP);
        let Some(state) = store.get(&state_key).ok().and_then(|c| c["data"]["state"].as_str().map(str::to_owned)) else {
            return;
        };
        let linstor = state == "not_started";
        let new = matches!(state.as_str(), "stage1_completed" | "stage2_started" | "all_completed");
        for object in linstor_workloads() {
            if ensure(store, object, linstor) && !linstor {
                played.stopped_linstor = true;
                check_nothing_created(store, played);
            }
        }
        for object in ready_new_control_plane() {
            if ensure(store, object, new) && new {
                played.started_new = true;
                check_all_in_maintenance(store, played);
            }
        }
    }

    /// Makes `object` present or absent; true if that changed anything.
    fn ensure(store: &mut Store, object: Value, present: bool) -> bool {
        let key = Key::of(&object).expect("workloads have an identity");
        match (present, store.get(&key).is_ok()) {
            (true, false) => store.create(object).is_ok(),
            (false, true) => store.delete(&key).is_ok(),
            _ => false,
        }
    }

    /// Pass 1 must not have started while LINSTOR ran.
    fn check_nothing_created(store: &Store, played: &mut Played) {
        let created = store.objects().filter(|o| super::cluster::is_created_kind(o)).count();
        if created > 0 {
            played.problems.push(format!("{created} new objects existed while LINSTOR still ran"));
        }
    }

    /// Pass 1 must hand every DRBDResource over in maintenance.
    fn check_all_in_maintenance(store: &Store, played: &mut Played) {
        let drbd = store.objects().filter(|o| o["apiVersion"] == STORAGE && o["kind"] == "DRBDResource");
        for o in drbd.filter(|o| o["spec"]["maintenance"] != "NoResourceReconciliation") {
            played.problems.push(format!("DRBDResource {} not in maintenance when the agent started", o["metadata"]["name"]));
        }
    }
}

/// What the results must equal or satisfy: guest-migrate's golden objects, the CRDs,
/// and an uninterrupted run's end state.
mod expect {
    use super::cluster::{repo, yaml_documents};
    use super::job::Exit;
    use serde_json::Value;
    use std::collections::{BTreeMap, HashMap};

    /// The objects guest-migrate's native run creates from small-cluster.yaml.
    pub fn golden_small_cluster() -> Vec<Value> {
        let path = repo("guest-migrate/tests/golden/small-cluster.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Fails naming the first objects that differ, not dumping hundreds of lines.
    pub fn assert_same_objects(actual: &[Value], expected: &[Value]) {
        let name = |o: &Value| format!("{} {}", o["kind"], o["metadata"]["name"]);
        let differing: Vec<String> = actual.iter().zip(expected).filter(|(a, e)| a != e).map(|(a, e)| format!("{}:\n  got      {a}\n  expected {e}", name(e))).take(3).collect();
        assert!(
            actual.len() == expected.len() && differing.is_empty(),
            "created objects differ from guest-migrate's golden run ({} vs {} objects):\n{}",
            actual.len(),
            expected.len(),
            differing.join("\n")
        );
    }

    /// Fails naming what is missing, extra or different.
    pub fn assert_same_state(what: &str, expected: &BTreeMap<String, Value>, actual: &BTreeMap<String, Value>) {
        if expected == actual {
            return;
        }
        let missing: Vec<&String> = expected.keys().filter(|k| !actual.contains_key(*k)).collect();
        let extra: Vec<&String> = actual.keys().filter(|k| !expected.contains_key(*k)).collect();
        let differ: Vec<&String> = expected.keys().filter(|k| actual.get(*k).is_some_and(|a| a != &expected[*k])).collect();
        panic!("{what}: the end state differs from an uninterrupted run\n missing: {missing:?}\n extra: {extra:?}\n differ: {differ:?}");
    }

    /// The `to` of every "migration state changed" line the guest logged.
    pub fn state_changes(exit: &Exit) -> Vec<String> {
        exit.lines()
            .iter()
            .filter(|l| l["msg"] == "migration state changed")
            .filter_map(|l| l["to"].as_str().map(str::to_owned))
            .collect()
    }

    /// Validates each object against the openAPIV3Schema of its kind's CRD in
    /// tests/crds, and rejects fields the API server would prune.
    pub fn assert_crd_valid(objects: &[Value]) {
        let schemas = schemas();
        let mut problems = Vec::new();
        for object in objects {
            let kind = object["kind"].as_str().unwrap_or_default();
            let name = format!("{kind} {}", object["metadata"]["name"]);
            let Some((schema, validator)) = schemas.get(kind) else {
                problems.push(format!("{name}: no CRD in tests/crds"));
                continue;
            };
            problems.extend(validator.iter_errors(object).map(|e| format!("{name}: {e} at {}", e.instance_path())));
            pruned(&name, "spec", &object["spec"], &schema["properties"]["spec"], &mut problems);
        }
        assert!(problems.is_empty(), "objects fail their CRDs:\n{}", problems.join("\n"));
    }

    /// Kind -> (v1alpha1 schema, its validator), for the storage.deckhouse.io CRDs.
    fn schemas() -> HashMap<String, (Value, jsonschema::Validator)> {
        let mut out = HashMap::new();
        for entry in std::fs::read_dir(repo("tests/crds")).expect("tests/crds") {
            let path = entry.expect("tests/crds entry").path();
            if !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("storage.deckhouse.io_")) {
                continue;
            }
            for crd in yaml_documents(&path) {
                let kind = crd["spec"]["names"]["kind"].as_str().expect("CRD names its kind").to_owned();
                let versions = crd["spec"]["versions"].as_array().expect("CRD has versions");
                let Some(version) = versions.iter().find(|v| v["name"] == "v1alpha1") else { continue };
                let schema = version["schema"]["openAPIV3Schema"].clone();
                let validator = jsonschema::draft4::new(&schema).unwrap_or_else(|e| panic!("{}: schema: {e}", path.display()));
                out.insert(kind, (schema, validator));
            }
        }
        out
    }

    /// Fields the schema does not declare (a real API server drops them silently).
    fn pruned(name: &str, path: &str, value: &Value, schema: &Value, problems: &mut Vec<String>) {
        if schema["x-kubernetes-preserve-unknown-fields"] == true {
            return;
        }
        match value {
            Value::Object(fields) => {
                for (key, field) in fields {
                    let declared = &schema["properties"][key];
                    let field_schema = if declared.is_null() { &schema["additionalProperties"] } else { declared };
                    if field_schema.is_null() || *field_schema == false {
                        problems.push(format!("{name}: {path}.{key} is not in the CRD schema and would be pruned"));
                    } else {
                        pruned(name, &format!("{path}.{key}"), field, field_schema, problems);
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    pruned(name, &format!("{path}[{i}]"), item, &schema["items"], problems);
                }
            }
            _ => {}
        }
    }
}

/// An uninterrupted run on a cluster where the Job never waits: its end state and
/// how many requests it made. Computed once, shared by the interruption tests.
struct Reference {
    state: std::collections::BTreeMap<String, Value>,
    requests: u64,
}

fn reference() -> &'static Reference {
    static REFERENCE: std::sync::OnceLock<Reference> = std::sync::OnceLock::new();
    REFERENCE.get_or_init(|| {
        let cluster = Cluster::small(Workloads::NewReady);
        job::run(&cluster).assert_success();
        assert_eq!(cluster.state().as_deref(), Some("all_completed"));
        assert_eq!(cluster.created(), golden_small_cluster());
        Reference { state: cluster.snapshot(), requests: cluster.server.request_count() }
    })
}

/// How a Job is interrupted.
#[derive(Clone, Copy, Debug)]
enum Interrupt {
    /// The API server answers 503 to every request after the k-th; the Job is killed
    /// at the first refused request (its pod failed; the server then comes back).
    ApiCrash,
    /// `kill -9` once the server has seen k requests (racy by nature: a few more may land).
    Kill9,
}

/// Interrupts a Job at request `k`, runs a fresh Job to the end, and checks the end
/// state equals the uninterrupted run's. Returns how many requests the first Job made.
fn interrupt_then_rerun(k: u64, how: Interrupt) -> u64 {
    let cluster = Cluster::small(Workloads::NewReady);
    if let Interrupt::ApiCrash = how {
        cluster.server.crash_after(k);
    }
    let mut first = job::Job::start(&cluster);
    let reached = match how {
        Interrupt::ApiCrash => first.until("a refused request", || cluster.server.request_count() > k),
        Interrupt::Kill9 => first.until("its k-th request", || cluster.server.request_count() >= k),
    };
    first.kill();
    let made = cluster.server.request_count();
    cluster.server.heal();
    let rerun = job::run(&cluster);
    let what = format!("{how:?} at request {k} (first Job made {made}, reached: {reached})");
    assert_eq!(rerun.code, 0, "{what}: the rerun failed:\n{}", rerun.log);
    assert_same_state(&what, &reference().state, &cluster.snapshot());
    made
}

#[test]
fn migrates_small_cluster_with_deckhouse_playing_along() {
    let cluster = Cluster::small(Workloads::LinstorRunning);
    let (exit, played) = deckhouse::play_while(&cluster, || job::run(&cluster));
    exit.assert_success();
    assert_eq!(cluster.state().as_deref(), Some("all_completed"));
    assert_eq!(state_changes(&exit), ["stage1_started", "stage1_completed", "stage2_started", "all_completed"]);
    for waited in ["waiting for LINSTOR to stop", "waiting for the new control plane"] {
        assert!(exit.log.contains(waited), "the Job did not wait ({waited}):\n{}", exit.log);
    }
    assert!(played.stopped_linstor && played.started_new && played.problems.is_empty(), "{played:#?}");
    let created = cluster.created();
    expect::assert_same_objects(&created, &golden_small_cluster());
    assert_crd_valid(&created);
    let in_maintenance: Vec<&Value> = created.iter().filter(|o| o["kind"] == "DRBDResource" && o["spec"].get("maintenance").is_some()).collect();
    assert!(in_maintenance.is_empty(), "maintenance not lifted: {in_maintenance:#?}");
    // A Job started again after completion has nothing to do and writes nothing.
    let revision = cluster.store().revision();
    let again = job::run(&cluster);
    again.assert_success();
    assert!(again.log.contains("nothing to do"), "{}", again.log);
    assert_eq!(cluster.store().revision(), revision, "a completed migration was written to");
}

#[test]
fn an_api_crash_at_sampled_requests_then_a_rerun_ends_like_an_uninterrupted_run() {
    let total = reference().requests;
    assert!(total > 40, "the uninterrupted run made only {total} requests");
    // Every request through startup, the first state change, LINSTOR's and the
    // inventory's reads and the first creates; then 20 points across the rest of Pass 1,
    // the state changes and Pass 2, and the very last request.
    const EVERY_UP_TO: u64 = 64;
    let stride = ((total.saturating_sub(EVERY_UP_TO)) / 20).max(1) as usize;
    let points: Vec<u64> = (0..EVERY_UP_TO.min(total)).chain((EVERY_UP_TO..total).step_by(stride)).chain([total - 1]).collect();
    for k in points {
        let made = interrupt_then_rerun(k, Interrupt::ApiCrash);
        assert_eq!(made, k + 1, "crash after {k}: the first Job should stop at the first refused request");
    }
}

#[test]
fn kill_9_mid_run_then_a_rerun_ends_like_an_uninterrupted_run() {
    let total = reference().requests;
    for k in [total / 5, total / 2, total * 4 / 5] {
        interrupt_then_rerun(k, Interrupt::Kill9);
    }
}

#[test]
fn the_job_rides_out_an_api_outage_and_finishes_once_it_heals() {
    let reference = reference();
    let cluster = Cluster::small(Workloads::NewReady);
    cluster.server.crash_after(reference.requests / 2);
    let mut job = job::Job::start(&cluster);
    let log = job.log_path();
    let told = job.until("the guest hearing the API is unavailable", || {
        std::fs::read_to_string(&log).unwrap_or_default().contains("Kubernetes API unavailable")
    });
    assert!(told && job.running(), "an outage must make the Job wait, not exit");
    cluster.server.heal();
    let exit = job.wait();
    exit.assert_success();
    assert!(exit.log.contains("Kubernetes call failed; retrying"), "{}", exit.log);
    assert_same_state("outage healed", &reference.state, &cluster.snapshot());
}

#[test]
fn a_pass2_mismatch_fails_naming_the_object_and_the_seed_recovery_completes() {
    let cluster = Cluster::small(Workloads::LinstorStopped);
    let tampered = format!("{THICK}-1");
    let mut job = job::Job::start(&cluster);
    let waiting = job.until("stage1_completed", || cluster.state().as_deref() == Some("stage1_completed"));
    assert!(waiting, "the Job ended before Pass 1 completed");
    // While the Job waits for the new control plane, someone edits a created replica.
    let original = cluster.created_object("ReplicatedVolumeReplica", &tampered)["spec"]["nodeName"].as_str().expect("RVR has a node").to_owned();
    assert_ne!(original, "worker-0", "the tampering must change the node");
    cluster.patch_created("ReplicatedVolumeReplica", &tampered, &json!({"spec": {"nodeName": "worker-0"}}));
    for object in cluster::ready_new_control_plane() {
        cluster.store().create(object).expect("new control plane starts");
    }
    let failed = job.wait();
    assert_eq!(failed.code, 1, "a Pass 2 mismatch must fail the Job:\n{}", failed.log);
    let last = failed.lines().pop().expect("a failed Job logs why");
    let msg = last["msg"].as_str().unwrap_or_default();
    assert_eq!(last["level"], "error", "{last}");
    assert!(msg.contains(&format!("ReplicatedVolumeReplica {tampered}")) && msg.contains("nodeName"), "{msg}");
    assert_eq!(cluster.state().as_deref(), Some("stage2_started"));
    let lifted = cluster.created().iter().filter(|o| o["kind"] == "DRBDResource" && o["spec"]["maintenance"].is_null()).count();
    assert_eq!(lifted, 0, "a failed Pass 2 must leave every DRBDResource in maintenance");
    // The seed's recovery: fix the data (delete it; Pass 1 recreates it), reset, rerun.
    cluster.delete_created("ReplicatedVolumeReplica", &tampered);
    cluster.set_state("not_started");
    job::run(&cluster).assert_success();
    assert_eq!(cluster.state().as_deref(), Some("all_completed"));
    assert_eq!(cluster.created_object("ReplicatedVolumeReplica", &tampered)["spec"]["nodeName"], original.as_str());
    expect::assert_same_objects(&cluster.created(), &golden_small_cluster());
}
