//! Writes a run's output files, all or nothing: every document is built and checked
//! first, then each is staged beside its target, and only when every staging succeeded
//! are they renamed into place. A failure leaves every output file as it was.

use crate::error::{HostError, Result};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Everything one run wants Deckhouse to apply.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RunOutput {
    pub values_patch: Vec<Value>,
    pub config_values_patch: Vec<Value>,
    pub object_operations: Vec<Value>,
    pub metrics: Vec<Value>,
}

/// Where the outputs go (unset: that output must be empty).
#[derive(Debug, Default, Clone)]
pub struct OutputPaths {
    pub values_patch: Option<PathBuf>,
    pub config_values_patch: Option<PathBuf>,
    pub kubernetes_patch: Option<PathBuf>,
    pub metrics: Option<PathBuf>,
}

impl OutputPaths {
    /// The paths from Deckhouse's environment variables.
    pub fn from_env() -> Self {
        use super::env::*;
        Self {
            values_patch: path(VALUES_JSON_PATCH_PATH),
            config_values_patch: path(CONFIG_VALUES_JSON_PATCH_PATH),
            kubernetes_patch: path(KUBERNETES_PATCH_PATH),
            metrics: path(METRICS_PATH),
        }
    }
}

impl RunOutput {
    /// The files' contents by variable: the values patches as one JSON array each,
    /// operations and metrics as NDJSON (Deckhouse rejects a top-level array there).
    pub fn documents(&self) -> [(&'static str, bool, String); 4] {
        let array =
            |ops: &[Value]| serde_json::to_string(ops).unwrap_or_else(|_| "[]".into()) + "\n";
        [
            (
                "VALUES_JSON_PATCH_PATH",
                !self.values_patch.is_empty(),
                array(&self.values_patch),
            ),
            (
                "CONFIG_VALUES_JSON_PATCH_PATH",
                !self.config_values_patch.is_empty(),
                array(&self.config_values_patch),
            ),
            (
                "KUBERNETES_PATCH_PATH",
                !self.object_operations.is_empty(),
                ndjson(&self.object_operations),
            ),
            (
                "METRICS_PATH",
                !self.metrics.is_empty(),
                ndjson(&self.metrics),
            ),
        ]
    }

    /// Writes the non-empty documents, all or nothing.
    pub fn write(&self, paths: &OutputPaths) -> Result<()> {
        let targets = [
            &paths.values_patch,
            &paths.config_values_patch,
            &paths.kubernetes_patch,
            &paths.metrics,
        ];
        let mut staged = Vec::new();
        for ((var, needed, text), path) in self.documents().into_iter().zip(targets) {
            match (needed, path) {
                (false, _) => {}
                (true, None) => {
                    return Err(HostError::Other(format!(
                        "the run produced output for {var}, but {var} is not set"
                    )));
                }
                (true, Some(path)) => staged.push((stage(path, text.as_bytes())?, path.clone())),
            }
        }
        // Every document is on disk beside its target; renames within a folder are atomic.
        for (tmp, path) in staged {
            tmp.persist(&path).map_err(|e| HostError::Output {
                path: path.clone(),
                source: e.error,
            })?;
        }
        Ok(())
    }
}

fn ndjson(items: &[Value]) -> String {
    items.iter().map(|v| v.to_string() + "\n").collect()
}

fn stage(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
    let fail = |source| HostError::Output {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.flush().map_err(fail)?;
    Ok(tmp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unwritable_output_leaves_every_file_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let values = dir.path().join("values.json");
        std::fs::write(&values, "").unwrap();
        let paths = OutputPaths {
            values_patch: Some(values.clone()),
            metrics: Some(dir.path().join("no-such-folder/metrics.json")),
            ..OutputPaths::default()
        };
        let output = RunOutput {
            values_patch: vec![serde_json::json!({"op": "add"})],
            metrics: vec![serde_json::json!({})],
            ..RunOutput::default()
        };
        assert!(output.write(&paths).is_err());
        assert_eq!(
            std::fs::read_to_string(&values).unwrap(),
            "",
            "the values patch must not be written when metrics cannot be"
        );
    }
}
