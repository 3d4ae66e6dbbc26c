//! `cargo xtask bench-migrate [--volumes N] [--runs N] [--scale-volumes N]
//! [--write-latency-ms N]`: objects created per second by the migration Job's Pass 1
//! against the loopback API server (test-apiserver, in this process), side by side in
//! one run with a plain kube-rs loop creating the same objects (`bench/migrate-baseline`)
//! sequentially and with the Job's own concurrency (the guest's `limits.concurrency` in
//! grants.yaml), twice: with a server that answers at once (the clients' own work per
//! object) and with every write held `--write-latency-ms` (default 3: a real API
//! server's etcd round trip, so the server is the bottleneck as in a cluster); then one
//! Job run on a `--scale-volumes` cluster (default 10,000 volumes) with the host's
//! peak RSS and wall time. Release builds of the host, the guest and the baseline. The
//! tables go to stdout and to `bench/MIGRATE.md`.
//!
//! The cluster is migration-data's generated one, as in guest-migrate's big-cluster
//! test (N volumes x 3 replicas over 6 nodes), with LINSTOR already stopped and the new
//! control plane absent, so the Job runs Pass 1 and then waits at stage1_completed,
//! where it is stopped: Pass 2 is not measured.
//! Times come from the server's request log, sampled every half millisecond.

mod cluster;
mod runs;

use anyhow::{Context, Result, bail};
use cluster::Setup;
use runs::{Host, baseline};
use std::time::Duration;

struct Options {
    volumes: usize,
    runs: usize,
    scale_volumes: usize,
    write_latency: Duration,
}

const GUEST: &str = "control-plane-migrator";

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
    /// The host process's peak resident set (VmHWM), guest included.
    peak_rss_kib: u64,
    /// From the process's start to stage1_completed written.
    wall: Duration,
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
    let limits = guest_limits(&host)?;
    let resources = migration_data::served_resources()?;
    let seed = cluster::seed(options.volumes)?;
    let exe = root.join("target/release/migrate-baseline");
    let mut tables = Vec::new();
    for write_latency in [Duration::ZERO, options.write_latency] {
        let setup = Setup {
            resources: &resources,
            seed: &seed,
            write_latency,
        };
        let comparison = compare(&host, &exe, &options, &limits, setup, work.path())?;
        tables.push(comparison_table(
            &options,
            &limits,
            &comparison,
            write_latency,
        ));
    }
    eprintln!("scale run: {} volumes", options.scale_volumes);
    let scale_seed = cluster::seed(options.scale_volumes)?;
    let scale_setup = Setup {
        resources: &resources,
        seed: &scale_seed,
        write_latency: Duration::ZERO,
    };
    let (scale, _) = host.pass1(scale_setup, work.path())?;
    tables.push(scale_table(&options, &limits, &scale));
    let table = tables.join("\n");
    println!("\n{table}");
    let out = root.join("bench/MIGRATE.md");
    let text = format!("<!-- written by `cargo xtask bench-migrate` -->\n{table}");
    std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))
}

/// One side-by-side comparison against one kind of server.
struct Comparison {
    host: Vec<HostRun>,
    sequential: Vec<Timing>,
    concurrent: Vec<Timing>,
}

/// The Job's runs, then the baseline's (sequential and at the Job's concurrency) on
/// the objects the Job created, each on a fresh server of `setup`.
fn compare(
    host: &Host,
    exe: &std::path::Path,
    options: &Options,
    limits: &wasm_hooks::manifest::Limits,
    setup: Setup<'_>,
    work: &std::path::Path,
) -> Result<Comparison> {
    let latency = setup.write_latency;
    let (host_runs, created) = measure_host(host, options, setup, work)?;
    let objects = work.join("objects.json");
    std::fs::write(&objects, serde_json::to_vec(&created)?)
        .context("writing the baseline's objects")?;
    let mut sequential = Vec::new();
    let mut concurrent = Vec::new();
    for n in 1..=options.runs {
        for (concurrency, runs) in [(1, &mut sequential), (limits.concurrency, &mut concurrent)] {
            let run = baseline(exe, setup, &objects, work, concurrency)?;
            eprintln!(
                "baseline run {n}, {concurrency} in flight, {latency:?} per write: {} objects in {:?}",
                run.objects, run.time
            );
            runs.push(run);
        }
    }
    Ok(Comparison {
        host: host_runs,
        sequential,
        concurrent,
    })
}

/// The Job guest's limits from the shipped grants.yaml: its concurrency and memory.
fn guest_limits(host: &Host) -> Result<wasm_hooks::manifest::Limits> {
    let manifest = wasm_hooks::manifest::Manifest::load(&host.guests)?;
    let guest = manifest.guests.into_iter().find(|g| g.name == GUEST);
    Ok(guest
        .with_context(|| format!("grants.yaml has no guest {GUEST}"))?
        .limits)
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
    setup: Setup<'_>,
    work: &std::path::Path,
) -> Result<(Vec<HostRun>, Vec<serde_json::Value>)> {
    let mut runs = Vec::new();
    let mut created = Vec::new();
    for n in 1..=options.runs {
        let (run, objects) = host.pass1(setup, work)?;
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
                "{flag} expects a positive number, got {value:?}; usage: cargo xtask bench-migrate [--volumes N] [--runs N] [--scale-volumes N] [--write-latency-ms N]"
            ),
        }
    };
    Ok(Options {
        volumes: number("--volumes", 1000)?,
        runs: number("--runs", 3)?,
        scale_volumes: number("--scale-volumes", 10_000)?,
        write_latency: Duration::from_millis(number("--write-latency-ms", 3)? as u64),
    })
}

/// The run with the median time.
fn median(mut runs: Vec<Timing>) -> Timing {
    runs.sort_by_key(|t| t.time);
    runs[runs.len() / 2]
}

fn comparison_table(
    options: &Options,
    limits: &wasm_hooks::manifest::Limits,
    comparison: &Comparison,
    write_latency: Duration,
) -> String {
    let same = median(comparison.concurrent.clone());
    let sequential = median(comparison.sequential.clone());
    let creates = median(comparison.host.iter().map(|r| r.creates).collect());
    let pass1 = median(comparison.host.iter().map(|r| r.pass1).collect());
    let row = |what: &str, t: Timing| {
        format!(
            "| {what} | {} | {:.2} s | {:.0} | {:.2}x | {:.2}x |\n",
            t.objects,
            t.time.as_secs_f64(),
            t.per_second(),
            t.per_second() / same.per_second(),
            t.per_second() / sequential.per_second(),
        )
    };
    let concurrency = limits.concurrency;
    let server = if write_latency.is_zero() {
        "the server answers at once, so this measures the clients' own work per object (the \
         server runs in the benchmark's process, on the same 2 cores)"
            .to_owned()
    } else {
        format!(
            "every write waits {} ms before it is served (concurrently), the round trip of one \
             create on a real kube-apiserver with etcd (337 creates/s one at a time in issue #9's \
             measurement), so the server is the bottleneck as in a cluster",
            write_latency.as_millis()
        )
    };
    format!(
        "Pass 1 of the migration Job against the loopback API server (test-apiserver); {server}. \
         A generated cluster of {} volumes x 3 replicas, median of {} runs each, release builds, \
         in one run against the same server code. The Job sends each batch's creates with up to \
         {concurrency} in flight (`limits.concurrency`).\n\n\
         | creating Pass 1's objects | objects | time | objects/s | vs kube-rs, {concurrency} in flight | vs kube-rs, sequential |\n\
         |---|---|---|---|---|---|\n{}{}{}{}",
        options.volumes,
        options.runs,
        row(
            &format!("plain kube-rs loop (`migrate-baseline`), {concurrency} in flight"),
            same
        ),
        row(
            "plain kube-rs loop (`migrate-baseline`), sequential",
            sequential
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

fn scale_table(
    options: &Options,
    limits: &wasm_hooks::manifest::Limits,
    scale: &HostRun,
) -> String {
    format!(
        "One Job on a cluster of {} volumes x 3 replicas (one run, no write latency; the guest's \
         memory limit is {} MiB, a guest over it fails the Job):\n\n\
         | objects created | whole Pass 1 | objects/s | wall time (process start to stage1_completed) | host peak RSS |\n\
         |---|---|---|---|---|\n\
         | {} | {:.2} s | {:.0} | {:.2} s | {:.0} MiB |\n",
        options.scale_volumes,
        limits.memory_mib,
        scale.pass1.objects,
        scale.pass1.time.as_secs_f64(),
        scale.pass1.per_second(),
        scale.wall.as_secs_f64(),
        scale.peak_rss_kib as f64 / 1024.0,
    )
}
