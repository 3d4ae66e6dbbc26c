//! The bench rows of the Python state-sync hook (`guests-py/`, componentize-py): its
//! component size and one whole `hook run`, warm and cold, measured exactly like the Rust
//! guest's rows, with the same host binary and the same example, next to the Rust numbers.

use super::{CACHE_DIR_ENV, HOOK_RUN, HOOKS_DIR_ENV, measure, run_once};
use anyhow::{Context, Result};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use wasm_hooks::deckhouse::invoke::{Inputs, Invocation};

/// The Rust guest's numbers measured by the caller, for the comparison columns.
pub struct Rust {
    pub warm: Duration,
    pub cold: Duration,
}

/// Builds the Python guest, runs it `runs` times warm (and fewer cold, each compiling
/// ~20 MB of Wasm), and returns the Markdown table.
pub fn table(dist: &Path, runs: usize, inputs: &Inputs, work: &Path, rust: Rust) -> Result<String> {
    let root = crate::root();
    let guests = work.join("python-guests");
    std::fs::create_dir_all(&guests)?;
    let component = guests.join(lay_out(&root, &dist.join("wasm-guests"), &guests)?);
    crate::run(
        Command::new("bash")
            .arg(root.join("guests-py/build.sh"))
            .arg(&component),
    )
    .context("building the Python guest (guests-py/build.sh)")?;
    let cache = work.join("python-cache");
    let host = Invocation::new(dist.join("wasm-hooks"))
        .env(HOOKS_DIR_ENV, guests.to_string_lossy())
        .env(CACHE_DIR_ENV, cache.to_string_lossy())
        .env("LOG_LEVEL", "error");
    run_once(&host, HOOK_RUN, inputs)?; // fills the cache
    let warm = measure(runs, || run_once(&host, HOOK_RUN, inputs))?;
    let cold_runs = runs.min(5);
    let cold = measure(cold_runs, || {
        let _ = std::fs::remove_dir_all(&cache);
        run_once(&host, HOOK_RUN, inputs)
    })?;
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len() as f64 / 1e6);
    let (python_size, rust_size) = (
        size(&component)?,
        size(&dist.join("wasm-guests/guest_hook.wasm"))?,
    );
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    Ok(format!(
        "| the state-sync hook, same host, same example | Python (componentize-py) | Rust |\n\
         |---|---|---|\n\
         | component size | {python_size:.1} MB | {rust_size:.2} MB |\n\
         | one `hook run`, warm (median of {runs}) | {} | {} |\n\
         | one `hook run`, cold (median of {cold_runs} for Python) | {} | {} |\n",
        ms(warm),
        ms(rust.warm),
        ms(cold),
        ms(rust.cold),
    ))
}

/// Copies the dist guests except the Rust state-sync component into `to`, with the
/// Python entry (`guests-py/state-sync/grants-entry.yaml`) applied to grants.yaml;
/// returns the file name the Python component must have.
fn lay_out(root: &Path, from: &Path, to: &Path) -> Result<String> {
    let mut manifest: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(from.join("grants.yaml"))?)?;
    let entry: serde_yaml::Mapping = serde_yaml::from_str(&std::fs::read_to_string(
        root.join("guests-py/state-sync/grants-entry.yaml"),
    )?)?;
    let target = manifest["guests"]
        .as_sequence_mut()
        .and_then(|guests| guests.iter_mut().find(|g| g["name"] == entry["name"]))
        .context("grants.yaml has no guest named like guests-py/state-sync/grants-entry.yaml")?;
    let file = entry["component"]
        .as_str()
        .context("grants-entry.yaml names no component")?
        .to_owned();
    for (key, value) in entry {
        target[key] = value;
    }
    std::fs::write(to.join("grants.yaml"), serde_yaml::to_string(&manifest)?)?;
    for e in std::fs::read_dir(from)?.flatten() {
        let name = e.file_name();
        if name.to_string_lossy().ends_with(".wasm") && name != "guest_hook.wasm" {
            std::fs::copy(e.path(), to.join(&name))?;
        }
    }
    Ok(file)
}
