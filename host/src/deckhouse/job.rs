//! A job guest run as the module's Job runs it: loaded and linked once, a fresh instance
//! per step (its deadline and memory apply per step), the Kubernetes backend handed from
//! step to step, waits capped by `limits.maxWaitMs`. Used by `job` and by the simulator.

use crate::bindings::job::JobGuestPre;
use crate::bindings::{Report, StepResult};
use crate::capabilities::backend::KubeBackend;
use crate::capabilities::grants::Grants;
use crate::capabilities::kubernetes::KubeCtx;
use crate::capabilities::log::LogCtx;
use crate::error::{HostError, Result};
use crate::logging;
use crate::manifest::Guest;
use crate::runtime::guest::{ImportsState, Prepared, Runtime};
use crate::runtime::state::Imports;
use serde_json::{Map, Value};
use std::time::Duration;

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
