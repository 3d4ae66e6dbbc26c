//! Writes a run's output files, and only after the whole run succeeded: every document is
//! built first, then each file is replaced atomically.

use crate::error::{HostError, Result};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Everything one run wants Deckhouse to apply.
#[derive(Debug, Default)]
pub struct RunOutput {
    pub values_patch: Vec<Value>,
    pub object_operations: Vec<Value>,
    pub metrics: Vec<Value>,
}

/// Where the outputs go (unset: that output must be empty).
#[derive(Debug, Default, Clone)]
pub struct OutputPaths {
    pub values_patch: Option<PathBuf>,
    pub kubernetes_patch: Option<PathBuf>,
    pub metrics: Option<PathBuf>,
}

impl OutputPaths {
    /// The paths from Deckhouse's environment variables.
    pub fn from_env() -> Self {
        use super::env::*;
        Self { values_patch: path(VALUES_JSON_PATCH_PATH), kubernetes_patch: path(KUBERNETES_PATCH_PATH), metrics: path(METRICS_PATH) }
    }
}

impl RunOutput {
    /// Writes the files: the values patch as one JSON array, operations and metrics as
    /// NDJSON (Deckhouse rejects a top-level array there).
    pub fn write(&self, paths: &OutputPaths) -> Result<()> {
        let values = serde_json::to_string(&self.values_patch).unwrap_or_else(|_| "[]".into());
        let files = [
            ("VALUES_JSON_PATCH_PATH", &paths.values_patch, !self.values_patch.is_empty(), values + "\n"),
            ("KUBERNETES_PATCH_PATH", &paths.kubernetes_patch, !self.object_operations.is_empty(), ndjson(&self.object_operations)),
            ("METRICS_PATH", &paths.metrics, !self.metrics.is_empty(), ndjson(&self.metrics)),
        ];
        for (var, path, needed, _) in &files {
            if *needed && path.is_none() {
                return Err(HostError::Other(format!("the run produced output for {var}, but {var} is not set")));
            }
        }
        for (_, path, needed, text) in files {
            if let Some(path) = path {
                if needed {
                    write_atomic(path, text.as_bytes())?;
                }
            }
        }
        Ok(())
    }
}

fn ndjson(items: &[Value]) -> String {
    items.iter().map(|v| v.to_string() + "\n").collect()
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let fail = |source| HostError::Output { path: path.to_path_buf(), source };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
