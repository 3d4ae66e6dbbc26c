//! `cargo xtask bench-migrate [--volumes N] [--runs N]`: objects created per second by
//! the migration Job's Pass 1 against the loopback API server (test-apiserver, in this
//! process), next to a plain kube-rs loop creating the same objects
//! (`bench/migrate-baseline`, the ceiling). Release builds of the host, the guest and
//! the baseline. The table goes to stdout and to `bench/MIGRATE.md`.
//!
//! The cluster is migration-data's generated one, as in guest-migrate's big-cluster
//! test (N volumes x 3 replicas over 6 nodes), with LINSTOR already stopped and the new
//! control plane absent, so the Job runs Pass 1 and then waits at stage1_completed,
//! where it is stopped: Pass 2 is not measured.
//! Times come from the server's request log, sampled every half millisecond.

mod cluster;
mod runs;

use anyhow::{Context, Result, bail};
use runs::{Host, baseline};
use std::time::Duration;

struct Options {
    volumes: usize,
    runs: usize,
}

/// One measured run: objects created and how long it took.
#[derive(Clone, Copy)]
struct Timing {
    objects: usize,
    time: Duration,
}

impl Timing {
    fn per_second(self) -> f64 {
        self.objects as f64 / self.time.as_secs_f64()
    }
}

/// The host's Pass 1: creates only (first to last create request) and the whole pass
/// (state stage1_started written to stage1_completed written).
struct HostRun {
    creates: Timing,
    pass1: Timing,
}

pub fn run(args: &[String]) -> Result<()> {
    let options = parse(args)?;
    if cfg!(debug_assertions) {
        return rerun_in_release(args);
    }
    let root = crate::root();
    let hooks = crate::dist(false)?;
    crate::run(crate::cargo().args(["build", "--release", "--locked", "-p", "migrate-baseline"]))?;
    let work = tempfile::tempdir().context("creating a temporary folder")?;
    let host = Host {
        exe: hooks.join("wasm-hooks"),
        guests: hooks.join("wasm-guests"),
        cache: work.path().join("cache"),
    };
    host.precompile()?;
    let resources = migration_data::served_resources()?;
    let seed = cluster::seed(options.volumes)?;
    let (host_runs, created) = measure_host(&host, &options, &resources, &seed, work.path())?;
    let objects = work.path().join("objects.json");
    std::fs::write(&objects, serde_json::to_vec(&created)?)
        .context("writing the baseline's objects")?;
    let exe = root.join("target/release/migrate-baseline");
    let mut baseline_runs = Vec::new();
    for n in 1..=options.runs {
        let run = baseline(&exe, &resources, &seed, &objects, work.path())?;
        eprintln!(
            "baseline run {n}: {} objects in {:?}",
            run.objects, run.time
        );
        baseline_runs.push(run);
    }
    let table = table(&options, &host_runs, &baseline_runs);
    println!("\n{table}");
    let out = root.join("bench/MIGRATE.md");
    let text = format!("<!-- written by `cargo xtask bench-migrate` -->\n{table}");
    std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))
}

/// The API server runs in this process: a debug build would measure the server.
fn rerun_in_release(args: &[String]) -> Result<()> {
    eprintln!("bench-migrate: running xtask as a release build (the API server runs inside it)");
    let release = [
        "run",
        "--quiet",
        "--release",
        "--locked",
        "-p",
        "xtask",
        "--",
        "bench-migrate",
    ];
    crate::run(crate::cargo().args(release).args(args))
}

/// The host's runs, and the objects the last one created (the baseline's input).
fn measure_host(
    host: &Host,
    options: &Options,
    resources: &[test_apiserver::Resource],
    seed: &[serde_json::Value],
    work: &std::path::Path,
) -> Result<(Vec<HostRun>, Vec<serde_json::Value>)> {
    let mut runs = Vec::new();
    let mut created = Vec::new();
    for n in 1..=options.runs {
        let (run, objects) = host.pass1(resources, seed, work)?;
        let (creates, pass1) = (run.creates, run.pass1);
        eprintln!(
            "host run {n}: {} objects, creates {:?}, Pass 1 {:?}",
            creates.objects, creates.time, pass1.time
        );
        runs.push(run);
        created = objects;
    }
    Ok((runs, created))
}

fn parse(args: &[String]) -> Result<Options> {
    let number = |flag: &str, default: usize| -> Result<usize> {
        let Some(i) = args.iter().position(|a| a == flag) else {
            return Ok(default);
        };
        let value = args.get(i + 1).map(String::as_str).unwrap_or_default();
        match value.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => bail!(
                "{flag} expects a positive number, got {value:?}; usage: cargo xtask bench-migrate [--volumes N] [--runs N]"
            ),
        }
    };
    Ok(Options {
        volumes: number("--volumes", 1000)?,
        runs: number("--runs", 3)?,
    })
}

/// The run with the median time.
fn median(mut runs: Vec<Timing>) -> Timing {
    runs.sort_by_key(|t| t.time);
    runs[runs.len() / 2]
}

fn table(options: &Options, host: &[HostRun], baseline: &[Timing]) -> String {
    let ceiling = median(baseline.to_vec());
    let creates = median(host.iter().map(|r| r.creates).collect());
    let pass1 = median(host.iter().map(|r| r.pass1).collect());
    let row = |what: &str, t: Timing| {
        format!(
            "| {what} | {} | {:.2} s | {:.0} | {:.2}x |\n",
            t.objects,
            t.time.as_secs_f64(),
            t.per_second(),
            t.per_second() / ceiling.per_second()
        )
    };
    format!(
        "Pass 1 of the migration Job against the loopback API server (test-apiserver): a generated \
         cluster of {} volumes x 3 replicas, median of {} runs, release builds, sequential creates.\n\n\
         | creating Pass 1's objects | objects | time | objects/s | vs plain kube-rs |\n\
         |---|---|---|---|---|\n{}{}{}",
        options.volumes,
        options.runs,
        row(
            "plain kube-rs loop (`migrate-baseline`, the ceiling)",
            ceiling
        ),
        row(
            "`wasm-hooks job`: Pass 1 creates (first to last create request)",
            creates
        ),
        row(
            "`wasm-hooks job`: whole Pass 1 (stage1_started to stage1_completed: reads LINSTOR, plans, lists, creates)",
            pass1
        ),
    )
}
