//! `cargo xtask bench [--runs N]`: whole-process time of one Deckhouse hook run of the
//! state-sync hook, three ways: warm (component precompiled in the cache), cold (the guest
//! just changed: cache emptied before every run, so each run compiles), and the same
//! logic compiled natively without Wasm (`bench/native-state-sync`). Medians and the
//! warm/native ratio go to stdout and to `bench/RESULTS.md`.
//! The Python guest's rows follow in a second table (`bench/python.rs`).

mod python;

use anyhow::{Result, bail};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub fn run(args: &[String]) -> Result<()> {
    let runs: usize = match args.iter().position(|a| a == "--runs") {
        Some(i) => args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(30),
        None => 30,
    };
    let root = crate::root();
    let hooks = crate::dist(false)?;
    crate::run(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())).args([
            "build",
            "--release",
            "--locked",
            "-p",
            "native-state-sync",
        ]),
    )?;
    let example = root.join("examples/enable-migration");
    let work = tempfile::tempdir()?;
    let exe = hooks.join("wasm-hooks");
    let cache = work.path().join("cache");
    let wasm = |cache: &Path| {
        let mut c = Command::new(&exe);
        c.args(["hook", "run", "0"])
            .env("WASM_HOOKS_CACHE_DIR", cache);
        c
    };
    run_once(&mut wasm(&cache), &example, work.path())?; // fills the cache
    let warm = measure(runs, || run_once(&mut wasm(&cache), &example, work.path()))?;
    let cold = measure(runs.min(15), || {
        let _ = std::fs::remove_dir_all(&cache);
        run_once(&mut wasm(&cache), &example, work.path())
    })?;
    let native_exe = root.join("target/release/native-state-sync");
    let native = measure(runs, || {
        run_once(&mut Command::new(&native_exe), &example, work.path())
    })?;
    let table = table(runs, warm, cold, native);
    let python = python::table(
        &hooks,
        runs,
        &example,
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

/// One hook run as Deckhouse does it, with the example's files.
fn run_once(cmd: &mut Command, example: &Path, work: &Path) -> Result<()> {
    for f in ["values-patch", "kube-patch", "metrics"] {
        std::fs::write(work.join(f), "")?;
    }
    let out = cmd
        .env("BINDING_CONTEXT_PATH", example.join("binding-context.json"))
        .env("VALUES_PATH", example.join("values.json"))
        .env("CONFIG_VALUES_PATH", example.join("config-values.json"))
        .env("VALUES_JSON_PATCH_PATH", work.join("values-patch"))
        .env("KUBERNETES_PATCH_PATH", work.join("kube-patch"))
        .env("METRICS_PATH", work.join("metrics"))
        .env("LOG_LEVEL", "error")
        .output()?;
    if !out.status.success() {
        bail!(
            "benchmark run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn measure(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<Duration> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

fn table(runs: usize, warm: Duration, cold: Duration, native: Duration) -> String {
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    let ratio = warm.as_secs_f64() / native.as_secs_f64();
    format!(
        "| one `hook run` of the state-sync hook (whole process, median of {runs}) | time | vs native |\n\
         |---|---|---|\n\
         | native (same logic, no Wasm) | {} | 1.0x |\n\
         | Wasm, warm (precompiled component in the cache) | {} | {ratio:.2}x |\n\
         | Wasm, cold (guest just changed: compile + cache write) | {} | {:.2}x |\n\
         \nTargets: warm within 1.5x of native ({}), cold under 100 ms ({}).\n",
        ms(native),
        ms(warm),
        ms(cold),
        cold.as_secs_f64() / native.as_secs_f64(),
        if ratio <= 1.5 { "met" } else { "not met" },
        if cold < Duration::from_millis(100) {
            "met"
        } else {
            "not met"
        },
    )
}
