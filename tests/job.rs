//! The migration Job end to end: the real `wasm-hooks job control-plane-migrator`
//! process, talking kube-rs to the loopback API server, with this test playing
//! Deckhouse, kubelet and the new controller's adoption. Checks the written objects
//! against guest-migrate's golden run and the CRDs, survival of an API crash at
//! sampled requests and of `kill -9`, riding out an outage, the seed's recovery
//! procedure after a failed Pass 2, the rehearsal (`--dry-run`) and `--status`.

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
use migration_data::snapshot::counts;
use serde_json::{Value, json};

const THICK: &str = "pvc-923a7369-94e3-bf91-1a61-dbe22e44158b";
/// Requests of one Pass 2 round on the small cluster, at most: list the volumes and the
/// labelled DRBDResources, lift maintenance on 12 and unmark 4, the state and its Event.
const PASS2_ROUND: u64 = 24;

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
        expect::assert_same_objects(&cluster.written(), &golden_small_cluster());
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
/// state equals the uninterrupted run's. Fails if the first Job ended on its own first,
/// unless `k` lies past its end (how many Pass 2 rounds a run needs depends on when the
/// controller thread reconciles, so the last few requests of the reference may not
/// exist in another run): then that is returned as `false`, the point not exercised.
fn interrupt_then_rerun(k: u64, how: Interrupt) -> bool {
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
    if !reached {
        let made = cluster.server.request_count();
        let exit = first.wait();
        assert!(
            exit.code == 0 && made <= k,
            "{how:?} at request {k}: the first Job ended before it was interrupted, after {made} requests:\n{}",
            exit.log
        );
        return false;
    }
    first.kill();
    let made = cluster.server.request_count();
    let what = format!("{how:?} at request {k} (the first Job made {made})");
    cluster.server.heal();
    let rerun = process::run(&cluster);
    assert_eq!(rerun.code, 0, "{what}: the rerun failed:\n{}", rerun.log);
    assert_same_state(&what, &reference().state, &cluster.snapshot());
    true
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
    let created = cluster.written();
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
    // A Job started again after completion has nothing to do and writes nothing
    // (the controller's last status write is in once the snapshot is taken).
    cluster.snapshot();
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
    let past_the_end: Vec<u64> = points
        .iter()
        .copied()
        .filter(|&k| !interrupt_then_rerun(k, Interrupt::ApiCrash))
        .collect();
    // Only the tail of the reference (its last Pass 2 round) may be missing in a run.
    assert!(
        past_the_end.iter().all(|&k| k + PASS2_ROUND >= total),
        "points before the last Pass 2 round were never reached: {past_the_end:?} of {total}"
    );
}

#[test]
fn kill_9_mid_run_then_a_rerun_ends_like_an_uninterrupted_run() {
    let total = reference().requests;
    for k in [total / 5, total / 2, total * 4 / 5] {
        assert!(
            interrupt_then_rerun(k, Interrupt::Kill9),
            "kill -9 at request {k} of {total}: the Job ended first"
        );
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
    // The guest logs "migration step failed" with the mismatch in `error`; the host
    // ends with the same text.
    let last = failed.lines().pop().expect("a failed Job logs why");
    assert_eq!(last["level"], "error", "{last}");
    let told = last.to_string();
    assert!(
        told.contains(&format!("ReplicatedVolumeReplica {tampered}")) && told.contains("nodeName"),
        "{told}"
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
    expect::assert_same_objects(&cluster.written(), &golden_small_cluster());
}

/// The report files `--report-dir` writes, parsed JSON and Markdown.
fn report(dir: &std::path::Path) -> (Value, String) {
    let read = |ext: &str| {
        let path = dir.join(format!("control-plane-migrator-report.{ext}"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let json = serde_json::from_str(&read("json")).expect("the JSON report parses");
    (json, read("md"))
}

#[test]
fn a_rehearsal_changes_nothing_and_reports_every_kind() {
    let cluster = Cluster::small(Workloads::LinstorRunning);
    let before = cluster.snapshot();
    let revision = cluster.store().revision();
    let dir = cluster.dir.path().join("rehearsal");
    let exit = process::run_with(
        &cluster,
        &[
            "--dry-run",
            "--report-dir",
            dir.to_str().expect("UTF-8 path"),
        ],
    );
    exit.assert_success();
    assert_eq!(cluster.store().revision(), revision, "a rehearsal wrote");
    assert_same_state("rehearsal", &before, &cluster.snapshot());
    let (json, markdown) = report(&dir);
    assert_eq!(exit.stdout, markdown, "stdout is the Markdown report");
    assert_eq!(json["ok"], true, "{markdown}");
    assert_eq!(json["state"], "not_started");
    let expected = counts(&golden_small_cluster());
    assert_eq!(expected.len(), 6, "every created kind: {expected:?}");
    for (kind, n) in &expected {
        assert_eq!(json["kinds"][kind]["planned"], *n, "{kind}: {json}");
        assert_eq!(json["kinds"][kind]["toCreate"], *n, "{kind}: {json}");
        let row = format!("| {kind} | {n} | 0 | {n} | 0 |");
        assert!(markdown.contains(&row), "{row} in:\n{markdown}");
    }
    // Every create went to the server as a dry run, and nothing else was written.
    let requests = cluster.server.requests();
    let dry_creates = requests
        .iter()
        .filter(|r| r.method == "POST")
        .filter(|r| r.query.as_deref().is_some_and(|q| q.contains("dryRun=All")))
        .count();
    assert_eq!(dry_creates, expected.values().sum::<usize>());
    let writes: Vec<_> = requests
        .iter()
        .filter(|r| r.method != "GET")
        .filter(|r| !r.query.as_deref().is_some_and(|q| q.contains("dryRun=All")))
        .collect();
    assert!(writes.is_empty(), "a rehearsal wrote: {writes:#?}");
}

#[test]
fn status_reads_only_and_reports_progress_before_and_after() {
    let cluster = Cluster::small(Workloads::NewReady);
    let expected = counts(&golden_small_cluster());
    let volumes = expected["ReplicatedVolume"];
    let status = |name: &str| {
        let revision = cluster.store().revision();
        let dir = cluster.dir.path().join(name);
        let exit = process::run_with(
            &cluster,
            &[
                "--status",
                "--report-dir",
                dir.to_str().expect("UTF-8 path"),
            ],
        );
        exit.assert_success();
        assert_eq!(cluster.store().revision(), revision, "--status wrote");
        let (json, markdown) = report(&dir);
        assert_eq!(exit.stdout, markdown, "stdout is the Markdown report");
        (json, markdown)
    };
    let (before, markdown) = status("before");
    assert_eq!(before["state"], "not_started");
    for (kind, n) in &expected {
        assert_eq!(before["kinds"][kind]["done"], 0, "{kind}: {before}");
        assert_eq!(before["kinds"][kind]["planned"], *n, "{kind}: {before}");
        let row = format!("| {kind} | 0 | {n} |");
        assert!(markdown.contains(&row), "{row} in:\n{markdown}");
    }
    process::run(&cluster).assert_success();
    cluster.snapshot();
    let (after, _) = status("after");
    assert_eq!(after["state"], "all_completed");
    for (kind, n) in &expected {
        assert_eq!(after["kinds"][kind]["done"], *n, "{kind}: {after}");
    }
    assert_eq!(after["adopted"], volumes, "{after}");
    assert_eq!(after["waitingForAdoption"], json!([]), "{after}");
}
