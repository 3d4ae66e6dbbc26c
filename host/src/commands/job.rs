//! `job NAME`: runs a job guest against the live API until it is done. Each step gets a
//! fresh instance (its deadline and memory apply per step); the guest keeps no state
//! between steps, so a killed Job started again continues from the cluster's state.

use crate::capabilities::grants::Grants;
use crate::capabilities::kubernetes::KubeCapability;
use crate::cli::Cli;
use crate::error::{HostError, Result};
use crate::logging;
use crate::manifest::{Guest, World};
use crate::runtime::bindings::StepResult;
use crate::runtime::guest::Runtime;
use crate::capabilities::backend::KubeBackend;
use crate::capabilities::live::{LiveBackend, LiveOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub fn run(cli: &Cli, name: &str, kubeconfig: Option<PathBuf>, api_timeout: u64) -> Result<ExitCode> {
    let runtime = super::runtime(cli)?;
    let guest = job_guest(&runtime, name)?.clone();
    let backend = connect(kubeconfig, Duration::from_secs(api_timeout))?;
    run_steps(&runtime, &guest, backend, |d| std::thread::sleep(d))?;
    Ok(ExitCode::SUCCESS)
}

fn job_guest<'a>(runtime: &'a Runtime, name: &str) -> Result<&'a Guest> {
    runtime.manifest.guest(name).filter(|g| g.world == World::Job).ok_or_else(|| HostError::UnknownGuest {
        name: name.into(),
        world: "job-guest",
        known: runtime.manifest.guests.iter().filter(|g| g.world == World::Job).map(|g| g.name.as_str()).collect::<Vec<_>>().join(", "),
    })
}

/// Calls `step` until `done`, sleeping (through `sleep`, so tests need not wait) when
/// the guest asks to wait. Returns the guest's summary.
pub fn run_steps(runtime: &Runtime, guest: &Guest, backend: Box<dyn KubeBackend>, mut sleep: impl FnMut(Duration)) -> Result<String> {
    let mut backend = backend;
    let mut step = 0u64;
    loop {
        step += 1;
        let capability = KubeCapability::new(Grants::new(guest.grants.clone()), backend);
        let mut instance = runtime.job(guest, capability)?;
        let result = instance.call("step", |b, s| b.deckhouse_hooks_job().call_step(s));
        let kube = instance.store.into_data().kube;
        let calls = kube.as_ref().map_or(0, |k| k.calls);
        backend = kube.map(|k| k.backend).ok_or_else(|| HostError::Other("the Kubernetes backend was lost between steps".into()))?;
        match result?.map_err(|message| HostError::GuestFailed { guest: guest.name.clone(), message })? {
            StepResult::Done(summary) => {
                logging::info("job done", &[("guest", guest.name.clone().into()), ("step", step.into()), ("summary", summary.clone().into())]);
                return Ok(summary);
            }
            StepResult::Wait((ms, why)) => {
                logging::info(
                    "job waiting",
                    &[("guest", guest.name.clone().into()), ("step", step.into()), ("waitMs", ms.into()), ("for", why.into()), ("kubernetesCalls", calls.into())],
                );
                sleep(Duration::from_millis(u64::from(ms)));
            }
        }
    }
}

/// The live backend: kube-rs with per-call timeouts and bounded, logged retries.
fn connect(kubeconfig: Option<PathBuf>, timeout: Duration) -> Result<Box<dyn KubeBackend>> {
    let options = LiveOptions { kubeconfig, timeout, ..LiveOptions::default() };
    let backend = LiveBackend::connect(options).map_err(|e| HostError::Other(format!("cannot reach the Kubernetes API: {e:#}")))?;
    Ok(Box::new(backend))
}
