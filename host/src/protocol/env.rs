//! The files of one run, named by the environment as Deckhouse sets it.

use crate::error::{HostError, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// In: the binding contexts (JSON array).
pub const BINDING_CONTEXT_PATH: &str = "BINDING_CONTEXT_PATH";
/// In: all values.
pub const VALUES_PATH: &str = "VALUES_PATH";
/// In: the config values.
pub const CONFIG_VALUES_PATH: &str = "CONFIG_VALUES_PATH";
/// Out: JSON patch on values.
pub const VALUES_JSON_PATCH_PATH: &str = "VALUES_JSON_PATCH_PATH";
/// Out: JSON patch on config values.
pub const CONFIG_VALUES_JSON_PATCH_PATH: &str = "CONFIG_VALUES_JSON_PATCH_PATH";
/// Out: object operations (NDJSON).
pub const KUBERNETES_PATCH_PATH: &str = "KUBERNETES_PATCH_PATH";
/// Out: metric operations (NDJSON).
pub const METRICS_PATH: &str = "METRICS_PATH";
/// In (`hook check`): the settings to validate.
pub const SETTINGS_PATH: &str = "SETTINGS_PATH";

/// The path an environment variable names, or None when unset or empty.
pub fn path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The path an environment variable names; an error saying what to set when it is missing.
pub fn required(var: &'static str) -> Result<PathBuf> {
    path(var).ok_or(HostError::MissingEnv { var })
}

/// Largest binding context read. It is handed to the guest whole, so it has to fit in
/// a guest's memory next to the guest's own data; Deckhouse's own runs of this module's
/// hooks pass a few KiB.
pub const MAX_BINDING_CONTEXT_BYTES: u64 = 32 << 20;
/// Largest values or config values file read (Deckhouse's values of a module are KiB).
pub const MAX_VALUES_BYTES: u64 = 8 << 20;

/// Reads a text input of at most `max` bytes, checking the size before reading it all;
/// `what` names it in errors. JSON nesting is bounded by serde_json's recursion limit
/// (128), whose error names the file too.
pub fn read_text(what: &'static str, path: &Path, max: u64) -> Result<String> {
    crate::manifest::read_bounded(path, max).map_err(|e| HostError::Input {
        what,
        path: path.to_path_buf(),
        problem: e.to_string(),
    })
}

/// Reads a JSON file; `what` names it in errors.
pub fn read_json(what: &'static str, path: &Path) -> Result<Value> {
    let text = read_text(what, path, MAX_VALUES_BYTES)?;
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_str(&text).map_err(|e| HostError::Input {
        what,
        path: path.to_path_buf(),
        problem: format!("not JSON: {e}"),
    })
}

/// Reads a JSON file named by `var`, or `{}` when the variable is unset.
pub fn read_json_var(what: &'static str, var: &'static str) -> Result<Value> {
    match path(var) {
        Some(p) => read_json(what, &p),
        None => Ok(Value::Object(Default::default())),
    }
}
