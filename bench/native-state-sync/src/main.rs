//! The native baseline for the benchmark: one Deckhouse run of the state-sync hook as a
//! plain process, with the same hook code as the Wasm guest (`guest-hook` on the SDK) and
//! the same files in and out (`BINDING_CONTEXT_PATH`, `VALUES_PATH`, `CONFIG_VALUES_PATH`
//! in; `VALUES_JSON_PATCH_PATH`, `KUBERNETES_PATCH_PATH`, `METRICS_PATH` out). Reads are
//! served from the run's snapshots and the outputs encoded by the same shared code the
//! test kit uses (`hooks-manifest`), so only Wasm differs from a host run.

use deckhouse_hooks_sdk::hook::{self, RawInput};
use deckhouse_hooks_sdk::testkit::{Cluster, LogLine};
use deckhouse_hooks_sdk::{Hook, LogLevel};
use guest_hook::SeedHook;
use hooks_manifest::binding_context::{self, Folded};
use hooks_manifest::output::{ObjectOperation, values_patch};
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
    let raw = RawInput {
        binding_context: read("BINDING_CONTEXT_PATH")?,
        values: read("VALUES_PATH")?,
        config_values: read("CONFIG_VALUES_PATH")?,
    };
    let contexts = binding_context::parse(&raw.binding_context).map_err(|e| e.to_string())?;
    let view = Cluster::from_snapshots(&Folded::new(&contexts), &SeedHook::config());
    let result = hook::run::<SeedHook>(&view, &raw);
    let threshold = level(&std::env::var("LOG_LEVEL").unwrap_or_default());
    view.logs()
        .iter()
        .filter(|l| l.level >= threshold)
        .for_each(print_log);
    let out = result.map_err(String::from)?;
    let values: Value = serde_json::from_str(&raw.values).map_err(|e| e.to_string())?;
    let patch = values_patch(SeedHook::VALUES_KEY, &values, out.values_patch)?;
    let patch = if patch.is_empty() {
        String::new()
    } else {
        Value::Array(patch).to_string()
    };
    let metrics = out
        .metrics
        .iter()
        .map(|m| m.to_json())
        .collect::<Result<Vec<_>, _>>()?;
    write("VALUES_JSON_PATCH_PATH", &patch)?;
    let operations: Vec<Value> = view
        .operations()
        .iter()
        .map(ObjectOperation::to_json)
        .collect();
    write("KUBERNETES_PATCH_PATH", &ndjson(&operations))?;
    write("METRICS_PATH", &ndjson(&metrics))
}

fn read(var: &str) -> Result<String, String> {
    let path = std::env::var(var)
        .map_err(|_| format!("{var} is not set; Deckhouse sets it for every hook run"))?;
    std::fs::read_to_string(&path).map_err(|e| format!("reading {var}={path}: {e}"))
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

fn ndjson(lines: &[Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// `LOG_LEVEL` as Deckhouse sets it (debug, info, warn, error; default info).
fn level(name: &str) -> LogLevel {
    match name.to_lowercase().as_str() {
        "debug" | "trace" => LogLevel::Debug,
        "warn" | "warning" => LogLevel::Warn,
        "error" => LogLevel::Error,
        _ => LogLevel::Info,
    }
}

/// One JSON log line on stderr, the form Deckhouse parses, the guest's fields nested.
fn print_log(line: &LogLine) {
    let fields: Map<String, Value> = line
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let line = json!({"level": line.level.as_str(), "msg": line.message, "fields": fields});
    eprintln!("{line}");
}
