//! The migration Job end to end: the real `wasm-hooks job control-plane-migrator`
//! process, talking kube-rs to the loopback API server, with this test playing
//! Deckhouse and kubelet. Checks the created objects against guest-migrate's golden
//! run and the CRDs, survival of an API crash at sampled requests and of `kill -9`,
//! riding out an outage, and the seed's recovery procedure after a failed Pass 2.

#[path = "job/cluster.rs"]
mod cluster;
mod common;
#[path = "job/deckhouse.rs"]
mod deckhouse;
#[path = "job/expect.rs"]
mod expect;
#[path = "job/process.rs"]
mod process;

use cluster::{Cluster, Workloads};
use expect::{assert_crd_valid, assert_same_state, golden_small_cluster, state_changes};
use serde_json::{Value, json};

const THICK: &str = "pvc-923a7369-94e3-bf91-1a61-dbe22e44158b";

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
        process::run(&cluster).assert_success();
        assert_eq!(cluster.state().as_deref(), Some("all_completed"));
        assert_eq!(cluster.created(), golden_small_cluster());
        Reference {
            state: cluster.snapshot(),
            requests: cluster.server.request_count(),
        }
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
/// state equals the uninterrupted run's. Fails if the first Job ended on its own first.
fn interrupt_then_rerun(k: u64, how: Interrupt) {
    let cluster = Cluster::small(Workloads::NewReady);
    if let Interrupt::ApiCrash = how {
        cluster.server.crash_after(k);
    }
    let mut first = process::Job::start(&cluster);
    let reached = match how {
        Interrupt::ApiCrash => {
            first.until("a refused request", || cluster.server.request_count() > k)
        }
        Interrupt::Kill9 => first.until("its k-th request", || cluster.server.request_count() >= k),
    };
    first.kill();
    let made = cluster.server.request_count();
    let what = format!("{how:?} at request {k} (the first Job made {made})");
    assert!(
        reached,
        "{what}: the first Job ended before it was interrupted"
    );
    cluster.server.heal();
    let rerun = process::run(&cluster);
    assert_eq!(rerun.code, 0, "{what}: the rerun failed:\n{}", rerun.log);
    assert_same_state(&what, &reference().state, &cluster.snapshot());
}

#[test]
fn migrates_small_cluster_with_deckhouse_playing_along() {
    let cluster = Cluster::small(Workloads::LinstorRunning);
    let (exit, played) = deckhouse::play_while(&cluster, || process::run(&cluster));
    exit.assert_success();
    assert_eq!(cluster.state().as_deref(), Some("all_completed"));
    assert_eq!(
        state_changes(&exit),
        [
            "stage1_started",
            "stage1_completed",
            "stage2_started",
            "all_completed"
        ]
    );
    for waited in [
        "waiting for LINSTOR to stop",
        "waiting for the new control plane",
    ] {
        assert!(
            exit.log.contains(waited),
            "the Job did not wait ({waited}):\n{}",
            exit.log
        );
    }
    assert!(
        played.stopped_linstor && played.started_new && played.problems.is_empty(),
        "{played:#?}"
    );
    let created = cluster.created();
    expect::assert_same_objects(&created, &golden_small_cluster());
    assert_crd_valid(&created);
    let in_maintenance: Vec<&Value> = created
        .iter()
        .filter(|o| o["kind"] == "DRBDResource" && o["spec"].get("maintenance").is_some())
        .collect();
    assert!(
        in_maintenance.is_empty(),
        "maintenance not lifted: {in_maintenance:#?}"
    );
    // A Job started again after completion has nothing to do and writes nothing.
    let revision = cluster.store().revision();
    let again = process::run(&cluster);
    again.assert_success();
    assert!(again.log.contains("nothing to do"), "{}", again.log);
    assert_eq!(
        cluster.store().revision(),
        revision,
        "a completed migration was written to"
    );
}

#[test]
fn an_api_crash_at_sampled_requests_then_a_rerun_ends_like_an_uninterrupted_run() {
    let total = reference().requests;
    assert!(
        total > 40,
        "the uninterrupted run made only {total} requests"
    );
    // Every request through startup, the first state change, LINSTOR's and the
    // inventory's reads and the first creates; then 20 points across the rest of Pass 1,
    // the state changes and Pass 2, and the very last request.
    const EVERY_UP_TO: u64 = 64;
    let stride = ((total.saturating_sub(EVERY_UP_TO)) / 20).max(1) as usize;
    let points: Vec<u64> = (0..EVERY_UP_TO.min(total))
        .chain((EVERY_UP_TO..total).step_by(stride))
        .chain([total - 1])
        .collect();
    for k in points {
        interrupt_then_rerun(k, Interrupt::ApiCrash);
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
    let mut job = process::Job::start(&cluster);
    let log = job.log_path();
    let told = job.until("the guest hearing the API is unavailable", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("Kubernetes API unavailable")
    });
    assert!(
        told && job.running(),
        "an outage must make the Job wait, not exit"
    );
    cluster.server.heal();
    let exit = job.wait();
    exit.assert_success();
    assert!(
        exit.log.contains("Kubernetes call failed; retrying"),
        "{}",
        exit.log
    );
    assert_same_state("outage healed", &reference.state, &cluster.snapshot());
}

#[test]
fn a_pass2_mismatch_fails_naming_the_object_and_the_seed_recovery_completes() {
    let cluster = Cluster::small(Workloads::LinstorStopped);
    let tampered = format!("{THICK}-1");
    let mut job = process::Job::start(&cluster);
    let waiting = job.until("stage1_completed", || {
        cluster.state().as_deref() == Some("stage1_completed")
    });
    assert!(waiting, "the Job ended before Pass 1 completed");
    // While the Job waits for the new control plane, someone edits a created replica.
    let original = cluster.created_object("ReplicatedVolumeReplica", &tampered)["spec"]["nodeName"]
        .as_str()
        .expect("RVR has a node")
        .to_owned();
    assert_ne!(original, "worker-0", "the tampering must change the node");
    cluster.patch_created(
        "ReplicatedVolumeReplica",
        &tampered,
        &json!({"spec": {"nodeName": "worker-0"}}),
    );
    for object in migration_data::ready_new_control_plane() {
        cluster
            .store()
            .create(object)
            .expect("new control plane starts");
    }
    let failed = job.wait();
    assert_eq!(
        failed.code, 1,
        "a Pass 2 mismatch must fail the Job:\n{}",
        failed.log
    );
    let last = failed.lines().pop().expect("a failed Job logs why");
    let msg = last["msg"].as_str().unwrap_or_default();
    assert_eq!(last["level"], "error", "{last}");
    assert!(
        msg.contains(&format!("ReplicatedVolumeReplica {tampered}")) && msg.contains("nodeName"),
        "{msg}"
    );
    assert_eq!(cluster.state().as_deref(), Some("stage2_started"));
    let lifted = cluster
        .created()
        .iter()
        .filter(|o| o["kind"] == "DRBDResource" && o["spec"]["maintenance"].is_null())
        .count();
    assert_eq!(
        lifted, 0,
        "a failed Pass 2 must leave every DRBDResource in maintenance"
    );
    // The seed's recovery: fix the data (delete it; Pass 1 recreates it), reset, rerun.
    cluster.delete_created("ReplicatedVolumeReplica", &tampered);
    cluster.set_state("not_started");
    process::run(&cluster).assert_success();
    assert_eq!(cluster.state().as_deref(), Some("all_completed"));
    assert_eq!(
        cluster.created_object("ReplicatedVolumeReplica", &tampered)["spec"]["nodeName"],
        original.as_str()
    );
    expect::assert_same_objects(&cluster.created(), &golden_small_cluster());
}
