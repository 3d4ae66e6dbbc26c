//! `cargo xtask bench [--runs N]`: whole-process time of one Deckhouse hook run of the
//! state-sync hook, three ways: warm (component precompiled in the cache), cold (the guest
//! just changed: cache emptied before every run, so each run compiles), and the same
//! logic compiled natively without Wasm (`bench/native-state-sync`), linked like the host
//! (and, for reference, as a default dynamic build). Medians and the warm/native ratio go
//! to stdout and to `bench/RESULTS.md`.
//! The Python guest's rows follow in a second table (`bench/python.rs`).

mod python;

use anyhow::{Result, bail};
use std::time::Duration;
use wasm_hooks::cli::{CACHE_DIR_ENV, HOOKS_DIR_ENV};
use wasm_hooks::deckhouse::invoke::{Inputs, Invocation, inputs_from_folder};

pub fn run(args: &[String]) -> Result<()> {
    let runs: usize = match args.iter().position(|a| a == "--runs") {
        Some(i) => args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(30),
        None => 30,
    };
    let root = crate::root();
    let hooks = crate::dist(false)?;
    // The baseline is linked exactly like the host (static, non-PIE), so the ratio is
    // what Wasm costs and not what the dynamic loader costs; the default dynamic build is
    // timed too, for reference.
    let native_build = |target: &str, flags: &[&str]| {
        crate::run(
            crate::cargo()
                .env("CARGO_TARGET_DIR", root.join(target))
                .args(["rustc", "--release", "--locked", "-p", "native-state-sync"])
                .args(["--bin", "native-state-sync", "--"])
                .args(flags),
        )
    };
    native_build("target/native-static", &crate::STATIC)?;
    native_build("target/native-dynamic", &[])?;
    let inputs = inputs_from_folder(&root.join("examples/enable-migration"))?;
    let work = tempfile::tempdir()?;
    let cache = work.path().join("cache");
    // Both contenders are run as Deckhouse runs a hook, by the host library's one
    // Invocation, and timed from spawn to exit. Deckhouse passes no flags (`hook run N`),
    // so the cache folder comes from the environment, as an SRE would set it.
    let wasm = Invocation::new(hooks.join("wasm-hooks"))
        .env(CACHE_DIR_ENV, cache.to_string_lossy())
        .env("LOG_LEVEL", "error");
    run_once(&wasm, HOOK_RUN, &inputs)?; // fills the cache
    let warm = measure(runs, || run_once(&wasm, HOOK_RUN, &inputs))?;
    let cold = measure(runs.min(15), || {
        let _ = std::fs::remove_dir_all(&cache);
        run_once(&wasm, HOOK_RUN, &inputs)
    })?;
    let time_native = |target: &str| {
        let binary = root.join(target).join("release/native-state-sync");
        let baseline = Invocation::new(binary).env("LOG_LEVEL", "error");
        measure(runs, || run_once(&baseline, &[], &inputs))
    };
    let native = time_native("target/native-static")?;
    let dynamic = time_native("target/native-dynamic")?;
    let table = table(runs, warm, cold, native, dynamic);
    let python = python::table(
        &hooks,
        runs,
        &inputs,
        work.path(),
        python::Rust { warm, cold },
    )?;
    let table = format!("{table}\n{python}");
    println!("\n{table}");
    std::fs::write(
        root.join("bench/RESULTS.md"),
        format!("<!-- written by `cargo xtask bench` -->\n{table}"),
    )?;
    Ok(())
}

/// `hook run 0`: the state-sync hook.
const HOOK_RUN: &[&str] = &["hook", "run", "0"];

/// One hook run as Deckhouse does it (fresh files, clean environment); the process's time.
fn run_once(host: &Invocation, args: &[&str], inputs: &Inputs) -> Result<Duration> {
    let out = host.run_with_files(args, inputs)?;
    if out.code != 0 {
        bail!("benchmark run failed: {}", out.stderr);
    }
    Ok(out.elapsed)
}

/// The median of `runs` timed runs.
fn measure(runs: usize, mut f: impl FnMut() -> Result<Duration>) -> Result<Duration> {
    let mut times = (0..runs).map(|_| f()).collect::<Result<Vec<_>>>()?;
    times.sort();
    Ok(times[times.len() / 2])
}

fn table(
    runs: usize,
    warm: Duration,
    cold: Duration,
    native: Duration,
    dynamic: Duration,
) -> String {
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    let vs = |d: Duration| d.as_secs_f64() / native.as_secs_f64();
    let ratio = vs(warm);
    format!(
        "| one `hook run` of the state-sync hook (whole process, median of {runs}) | time | vs native |\n\
         |---|---|---|\n\
         | native (same logic, no Wasm; linked like the host: static, non-PIE) | {} | 1.00x |\n\
         | native, default cargo build (dynamic, PIE), for reference | {} | {:.2}x |\n\
         | Wasm, warm (precompiled component in the cache) | {} | {ratio:.2}x |\n\
         | Wasm, cold (guest just changed: compile + cache write) | {} | {:.2}x |\n\
         \nTargets: warm within 1.5x of native ({}), cold under 100 ms ({}).\n",
        ms(native),
        ms(dynamic),
        vs(dynamic),
        ms(warm),
        ms(cold),
        vs(cold),
        if ratio <= 1.5 { "met" } else { "not met" },
        if cold < Duration::from_millis(100) {
            "met"
        } else {
            "not met"
        },
    )
}
