//! `job NAME`: runs a job guest against the live API until it is done, rehearses it
//! (`--dry-run`) or reports where it stands (`--status`).
//!
//! The guest is loaded and linked once; each step gets a fresh instance (its deadline and
//! memory apply per step) and the guest keeps no state between steps, so a killed Job
//! started again continues from the cluster's state.

use crate::bindings::Report;
use crate::capabilities::live::{LiveBackend, LiveOptions};
use crate::cli::{Cli, JobArgs};
use crate::deckhouse::job::{Job, settings};
use crate::error::{HostError, Result};
use crate::manifest::{Guest, World};
use crate::runtime::guest::Runtime;
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

fn write_report(dir: &Path, name: &str, report: &Report) -> Result<()> {
    let fail = |path: std::path::PathBuf| move |source| HostError::Output { path, source };
    std::fs::create_dir_all(dir).map_err(fail(dir.to_path_buf()))?;
    for (ext, text) in [("md", &report.markdown), ("json", &report.json)] {
        let path = dir.join(format!("{name}-report.{ext}"));
        std::fs::write(&path, text).map_err(fail(path.clone()))?;
    }
    Ok(())
}
