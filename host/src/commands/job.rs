//! `job NAME`: runs a job guest against the live API until it is done, rehearses it
//! (`--dry-run`) or reports where it stands (`--status`).
//!
//! The guest is loaded and linked once; each step gets a fresh instance (its deadline and
//! memory apply per step) and the guest keeps no state between steps, so a killed Job
//! started again continues from the cluster's state.

use crate::bindings::job::JobGuestPre;
use crate::bindings::{Report, StepResult};
use crate::capabilities::backend::KubeBackend;
use crate::capabilities::grants::Grants;
use crate::capabilities::kubernetes::KubeCtx;
use crate::capabilities::live::{LiveBackend, LiveOptions};
use crate::capabilities::log::LogCtx;
use crate::cli::{Cli, JobArgs};
use crate::error::{HostError, Result};
use crate::logging;
use crate::manifest::{Guest, World};
use crate::runtime::guest::{ImportsState, Prepared, Runtime};
use crate::runtime::state::Imports;
use serde_json::{Map, Value};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

pub fn run(cli: &Cli, args: &JobArgs) -> Result<ExitCode> {
    let runtime = super::runtime(cli)?;
    let guest = job_guest(&runtime, &args.name)?.clone();
    let settings = settings(&guest, &args.set)?;
    let options = LiveOptions {
        kubeconfig: args.kubeconfig.clone(),
        timeout: Duration::from_secs(args.api_timeout),
        dry_run: args.dry_run,
        concurrency: guest.limits.concurrency,
        max_response_bytes: guest.limits.max_response_bytes,
        ..LiveOptions::default()
    };
    let backend = LiveBackend::connect(options)
        .map_err(|e| HostError::Other(format!("cannot reach the Kubernetes API: {e:#}")))?;
    let job = Job::new(&runtime, &guest, settings)?;
    if args.dry_run || args.status {
        let (report, _) = if args.dry_run {
            job.rehearse(Box::new(backend))?
        } else {
            job.status(Box::new(backend))?
        };
        print!("{}", report.markdown);
        if let Some(dir) = &args.report_dir {
            write_report(dir, &guest.name, &report)?;
        }
        return Ok(if report.ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    job.run(Box::new(backend), std::thread::sleep)?;
    Ok(ExitCode::SUCCESS)
}

fn job_guest<'a>(runtime: &'a Runtime, name: &str) -> Result<&'a Guest> {
    runtime
        .manifest
        .guest(name)
        .filter(|g| g.world == World::Job)
        .ok_or_else(|| HostError::UnknownGuest {
            name: name.into(),
            world: "job-guest",
            known: runtime
                .manifest
                .guests
                .iter()
                .filter(|g| g.world == World::Job)
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The guest's settings from grants.yaml with each `--set key=value` applied; a value
/// is read as JSON when it parses, else as a string.
pub fn settings(guest: &Guest, overrides: &[String]) -> Result<Value> {
    let mut settings = match &guest.settings {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    for item in overrides {
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| HostError::Other(format!("--set {item:?}: write key=value")))?;
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        settings.insert(key.trim().to_owned(), value);
    }
    Ok(Value::Object(settings))
}

/// A job guest loaded and linked once, with its settings.
pub struct Job<'r> {
    guest: &'r Guest,
    prepared: Prepared<JobGuestPre<ImportsState>>,
    settings: String,
}

impl<'r> Job<'r> {
    pub fn new(runtime: &'r Runtime, guest: &'r Guest, settings: Value) -> Result<Self> {
        Ok(Self {
            guest,
            prepared: runtime.prepare_job(guest)?,
            settings: settings.to_string(),
        })
    }

    fn caps(&self, backend: Box<dyn KubeBackend>) -> Imports {
        Imports {
            kube: KubeCtx::new(
                &self.guest.name,
                Grants::new(self.guest.grants.clone()),
                backend,
            ),
            log: LogCtx::new(&self.guest.name),
        }
    }

    /// One call on a fresh instance; on success the backend comes back for the next one
    /// with the number of Kubernetes calls the guest made.
    fn call<R>(
        &self,
        what: &str,
        backend: Box<dyn KubeBackend>,
        f: impl FnOnce(
            &crate::bindings::job::JobGuest,
            &mut wasmtime::Store<ImportsState>,
            &str,
        ) -> wasmtime::Result<Result<R, String>>,
    ) -> Result<(R, Box<dyn KubeBackend>, u64)> {
        let mut instance = self.prepared.instantiate(self.caps(backend))?;
        let settings = self.settings.clone();
        let result = instance.call(what, |b, s| f(b, s, &settings))?;
        let value = result.map_err(|message| HostError::GuestFailed {
            guest: self.guest.name.clone(),
            message: crate::runtime::budget::error_message(self.guest, &message),
        })?;
        let kube = instance.into_caps().kube;
        let calls = kube.calls;
        Ok((value, kube.into_backend(), calls))
    }

    /// One `step` on a fresh instance: what a single pass of [`Job::run`]'s loop does, for
    /// the simulator, which interleaves steps with everything else acting on the cluster.
    pub fn step(
        &self,
        backend: Box<dyn KubeBackend>,
    ) -> Result<(StepResult, Box<dyn KubeBackend>)> {
        let (result, backend, _) = self.call("step", backend, |b, s, settings| {
            b.deckhouse_hooks_job().call_step(s, settings)
        })?;
        Ok((result, backend))
    }

    /// Calls `step` until `done`, sleeping (through `sleep`, so tests need not wait) when
    /// the guest asks to wait, never longer than `limits.maxWaitMs`. Returns the summary.
    pub fn run(
        &self,
        mut backend: Box<dyn KubeBackend>,
        mut sleep: impl FnMut(Duration),
    ) -> Result<String> {
        let name = &self.guest.name;
        for step in 1u64.. {
            let (result, back, calls) = self.call("step", backend, |b, s, settings| {
                b.deckhouse_hooks_job().call_step(s, settings)
            })?;
            backend = back;
            match result {
                StepResult::Done(summary) => {
                    logging::info(
                        "job done",
                        &[
                            ("guest", name.clone().into()),
                            ("step", step.into()),
                            ("summary", summary.clone().into()),
                        ],
                    );
                    return Ok(summary);
                }
                StepResult::Wait((ms, why)) => {
                    let wait = u64::from(ms).min(self.guest.limits.max_wait_ms);
                    logging::info(
                        "job waiting",
                        &[
                            ("guest", name.clone().into()),
                            ("step", step.into()),
                            ("waitMs", wait.into()),
                            ("for", why.into()),
                            ("kubernetesCalls", calls.into()),
                        ],
                    );
                    sleep(Duration::from_millis(wait));
                }
            }
        }
        unreachable!("the step counter cannot run out")
    }

    /// The guest's rehearsal report; `backend` must send writes as dry runs.
    pub fn rehearse(
        &self,
        backend: Box<dyn KubeBackend>,
    ) -> Result<(Report, Box<dyn KubeBackend>)> {
        let (report, backend, _) = self.call("rehearse", backend, |b, s, settings| {
            b.deckhouse_hooks_job().call_rehearse(s, settings)
        })?;
        Ok((report, backend))
    }

    /// The guest's status report.
    pub fn status(&self, backend: Box<dyn KubeBackend>) -> Result<(Report, Box<dyn KubeBackend>)> {
        let (report, backend, _) = self.call("status", backend, |b, s, settings| {
            b.deckhouse_hooks_job().call_status(s, settings)
        })?;
        Ok((report, backend))
    }
}

fn write_report(dir: &Path, name: &str, report: &Report) -> Result<()> {
    let fail = |path: std::path::PathBuf| move |source| HostError::Output { path, source };
    std::fs::create_dir_all(dir).map_err(fail(dir.to_path_buf()))?;
    for (ext, text) in [("md", &report.markdown), ("json", &report.json)] {
        let path = dir.join(format!("{name}-report.{ext}"));
        std::fs::write(&path, text).map_err(fail(path.clone()))?;
    }
    Ok(())
}
