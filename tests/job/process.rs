//! The Job as a process: the real host binary, a kubeconfig, a short API timeout.

use super::cluster::Cluster;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const GUEST: &str = "control-plane-migrator";
/// Pass 2 looks at the volumes every second, not every two: the controller here
/// reconciles every 50 ms, so a longer poll only makes the tests slower.
const POLL_SECONDS: &str = "adoptionPollSeconds=1";
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
        let args = [
            "--hooks-dir",
            hooks.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
            "precompile",
        ];
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
    pub stdout: String,
}

impl Exit {
    /// The log lines, parsed.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.log
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}"))
            })
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
        Self::start_with(cluster, &[])
    }

    /// A Job with more arguments after `job NAME` (`--dry-run`, `--status`, ...);
    /// its stdout (a report's Markdown) goes to `<log>.out`.
    pub fn start_with(cluster: &Cluster, extra: &[&str]) -> Job {
        static RUNS: AtomicU32 = AtomicU32::new(0);
        let log = cluster
            .dir
            .path()
            .join(format!("job-{}.log", RUNS.fetch_add(1, Ordering::Relaxed)));
        let stderr = File::create(&log).expect("job log file");
        let stdout = File::create(log.with_extension("out")).expect("job stdout file");
        let child = Command::new(crate::common::HOST)
            .env_clear()
            .arg("--hooks-dir")
            .arg(guest_artifacts::hooks_dir())
            .arg("--cache-dir")
            .arg(cache_dir())
            .args(["job", GUEST, "--kubeconfig"])
            .arg(&cluster.kubeconfig)
            .args(["--api-timeout", API_TIMEOUT_SECS, "--set", POLL_SECONDS])
            .args(extra)
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("the host binary starts");
        Job { child, log }
    }

    pub fn running(&mut self) -> bool {
        self.child
            .try_wait()
            .expect("waiting on the Job process")
            .is_none()
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
                panic!(
                    "the Job never got to {what} in {DEADLINE:?}:\n{}",
                    self.read_log()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    pub fn wait(mut self) -> Exit {
        self.until("its end", || false);
        let code = self
            .child
            .wait()
            .expect("reaping the Job")
            .code()
            .unwrap_or(-1);
        Exit {
            code,
            log: self.read_log(),
            stdout: std::fs::read_to_string(self.log.with_extension("out")).unwrap_or_default(),
        }
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

/// Runs a Job with more arguments to its end.
pub fn run_with(cluster: &Cluster, extra: &[&str]) -> Exit {
    Job::start_with(cluster, extra).wait()
}
