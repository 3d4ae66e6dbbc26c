//! The native baseline for the benchmark: one Deckhouse run of the state-sync hook as a
//! plain process, with the same logic as the Wasm guest (`guest-hook`) and the same
//! files in and out (`BINDING_CONTEXT_PATH`, `VALUES_PATH`, `CONFIG_VALUES_PATH` in;
//! `VALUES_JSON_PATCH_PATH`, `KUBERNETES_PATCH_PATH`, `METRICS_PATH` out).

mod env;
mod files;
mod snapshots;

use env::SnapshotEnv;
use guest_hook::logic::LogLevel;
use guest_hook::logic::memory::LogLine;
use serde_json::{Map, Value, json};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run_once() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{}", json!({"level": "error", "msg": message}));
            ExitCode::FAILURE
        }
    }
}

/// Reads the inputs, runs the hook over the snapshot objects, writes the outputs.
/// Nothing is written when the run fails, as Deckhouse would apply nothing anyway.
fn run_once() -> Result<(), String> {
    let contexts = read_json("BINDING_CONTEXT_PATH")?;
    let values = read_json("VALUES_PATH")?;
    // Unused by this hook, but read as every hook run reads it, so the baseline does the same I/O.
    read_json("CONFIG_VALUES_PATH")?;
    let mut env = SnapshotEnv::new(snapshots::fold(&contexts)?);
    let result = guest_hook::run(&mut env, &values);
    let threshold = rank_of(&std::env::var("LOG_LEVEL").unwrap_or_default());
    env.memory
        .logs
        .iter()
        .filter(|l| rank(l.level) >= threshold)
        .for_each(print_log);
    let out = result?;
    let patch = files::values_patch(&values, &out);
    let patch = if patch.as_array().is_some_and(|ops| !ops.is_empty()) {
        patch.to_string()
    } else {
        String::new()
    };
    write("VALUES_JSON_PATCH_PATH", &patch)?;
    write(
        "KUBERNETES_PATCH_PATH",
        &files::kubernetes_patch(&env.memory.created),
    )?;
    write("METRICS_PATH", &files::metrics(&out.metrics))
}

fn read_json(var: &str) -> Result<Value, String> {
    let path = std::env::var(var)
        .map_err(|_| format!("{var} is not set; Deckhouse sets it for every hook run"))?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {var}={path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{var}={path} is not JSON: {e}"))
}

/// Writes `content` to the file named by `var`, as the host does: nothing when there is
/// nothing to say, or when the variable is unset (nobody reads it).
fn write(var: &str, content: &str) -> Result<(), String> {
    match std::env::var(var) {
        Ok(path) if !content.is_empty() => {
            std::fs::write(&path, content).map_err(|e| format!("writing {var}={path}: {e}"))
        }
        _ => Ok(()),
    }
}

/// `LOG_LEVEL` as Deckhouse sets it (debug, info, warn, error; default info), as a rank.
fn rank_of(name: &str) -> u8 {
    match name.to_lowercase().as_str() {
        "debug" | "trace" => 0,
        "warn" | "warning" => 2,
        "error" => 3,
        _ => 1,
    }
}

fn rank(level: LogLevel) -> u8 {
    rank_of(level.as_str())
}

/// One JSON log line on stderr, the form Deckhouse parses (`level`, `msg`, extra keys).
fn print_log(line: &LogLine) {
    let mut object = Map::new();
    for (key, value) in &line.fields {
        object.insert(key.clone(), json!(value));
    }
    object.insert("level".into(), json!(line.level.as_str()));
    object.insert("msg".into(), json!(line.message));
    eprintln!("{}", Value::Object(object));
}
