//! The contenders: the host's Job (Pass 1, timed from the server's request log, with
//! its peak RSS and wall time) and the plain kube-rs loop (`migrate-baseline`, timing
//! itself), sequential or with as many creates in flight as the Job.

use super::cluster::{Setup, created, state};
use super::{HostRun, Timing};
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use test_apiserver::TestApiServer;

const STATE_PATH: &str =
    "/api/v1/namespaces/d8-sds-replicated-volume/configmaps/control-plane-migration";
/// Where Pass 1's objects are created (Events and PV labels are other requests).
const CREATED_PREFIX: &str = "/apis/storage.deckhouse.io/";
/// A Pass 1 that takes longer than this is stuck.
const DEADLINE: Duration = Duration::from_secs(600);
const SAMPLE_EVERY: Duration = Duration::from_micros(500);

/// The release host with the shipped guests and a component cache.
pub struct Host {
    pub exe: PathBuf,
    pub guests: PathBuf,
    pub cache: PathBuf,
}

impl Host {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.exe);
        command
            .arg("--hooks-dir")
            .arg(&self.guests)
            .arg("--cache-dir")
            .arg(&self.cache);
        command
    }

    /// Compiles the guests once, so no run pays for it.
    pub fn precompile(&self) -> Result<()> {
        crate::run(self.command().arg("precompile"))
    }

    /// Runs the Job until it has written stage1_completed, then stops it; returns the
    /// timings and the objects Pass 1 created (server metadata removed, pools first).
    /// A Job that exceeds its guest's memory limit fails, and so does this run.
    pub fn pass1(&self, setup: Setup<'_>, work: &Path) -> Result<(HostRun, Vec<Value>)> {
        let server = setup.start()?;
        let log = work.join("job.log");
        let mut child = self
            .command()
            .args(["job", "control-plane-migrator", "--kubeconfig"])
            .arg(server.kubeconfig(work))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting the host")?;
        let samples = sample_until_stage1_completed(&server, &mut child, &log);
        // Read while the process lives: the kernel's high-water mark of its RSS.
        let peak_rss = peak_rss_kib(child.id());
        let _ = child.kill();
        let _ = child.wait();
        let samples = samples?;
        let mut run = host_timings(&server, &samples)?;
        run.peak_rss_kib = peak_rss?;
        run.wall = samples.last().map(|(t, _)| *t).unwrap_or_default();
        Ok((run, created(&server)?))
    }
}

/// (time, requests seen) whenever the count changed, until the state is stage1_completed.
fn sample_until_stage1_completed(
    server: &TestApiServer,
    child: &mut Child,
    log: &Path,
) -> Result<Vec<(Duration, u64)>> {
    let start = Instant::now();
    let mut samples: Vec<(Duration, u64)> = Vec::new();
    loop {
        let count = server.request_count();
        if samples.last().is_none_or(|(_, last)| *last != count) {
            samples.push((start.elapsed(), count));
        }
        if state(server).as_deref() == Some("stage1_completed") {
            return Ok(samples);
        }
        if child.try_wait()?.is_some() || start.elapsed() > DEADLINE {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            bail!("the Job ended or stalled before stage1_completed; its log:\n{log}");
        }
        std::thread::sleep(SAMPLE_EVERY);
    }
}

/// `VmHWM` of a running process, in KiB (Linux).
fn peak_rss_kib(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("{path} has no VmHWM line"))
}

/// Pass 1's timings from the request log: the state writes and the creates.
fn host_timings(server: &TestApiServer, samples: &[(Duration, u64)]) -> Result<HostRun> {
    let requests = server.requests();
    let posts: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == "POST" && r.path.starts_with(CREATED_PREFIX))
        .map(|(i, _)| i)
        .collect();
    let state_writes: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == "PATCH" && r.path == STATE_PATH)
        .map(|(i, _)| i)
        .collect();
    let (Some(&first), Some(&last)) = (posts.first(), posts.last()) else {
        bail!("the Job created nothing")
    };
    let (Some(&started), Some(&completed)) = (state_writes.first(), state_writes.last()) else {
        bail!("the Job wrote no state (stage1_started, stage1_completed)")
    };
    if started == completed {
        bail!("the Job wrote the state once, expected stage1_started and stage1_completed");
    }
    // Request i had arrived at the first sample counting more than i requests.
    let at = |i: usize| {
        samples
            .iter()
            .find(|(_, n)| *n > i as u64)
            .map(|(t, _)| *t)
            .unwrap_or_default()
    };
    Ok(HostRun {
        creates: Timing {
            objects: posts.len(),
            time: at(last).saturating_sub(at(first)),
        },
        pass1: Timing {
            objects: posts.len(),
            time: at(completed).saturating_sub(at(started)),
        },
        peak_rss_kib: 0,
        wall: Duration::ZERO,
    })
}

/// One run of the plain kube-rs loop, `concurrency` creates in flight, against a
/// fresh server with the same seed.
pub fn baseline(
    exe: &Path,
    setup: Setup<'_>,
    objects: &Path,
    work: &Path,
    concurrency: u32,
) -> Result<Timing> {
    let server = setup.start()?;
    let out = Command::new(exe)
        .arg("--kubeconfig")
        .arg(server.kubeconfig(work))
        .arg("--objects")
        .arg(objects)
        .arg("--concurrency")
        .arg(concurrency.to_string())
        .output()
        .context("starting migrate-baseline")?;
    if !out.status.success() {
        bail!(
            "migrate-baseline failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let summary: Value =
        serde_json::from_slice(&out.stdout).context("migrate-baseline's summary is not JSON")?;
    let (Some(objects), Some(seconds)) = (summary["created"].as_u64(), summary["seconds"].as_f64())
    else {
        bail!("migrate-baseline's summary lacks created/seconds: {summary}")
    };
    let stored = created(&server)?.len();
    if stored as u64 != objects {
        bail!("migrate-baseline reported {objects} creates, the server holds {stored} objects");
    }
    Ok(Timing {
        objects: objects as usize,
        time: Duration::from_secs_f64(seconds),
    })
}
