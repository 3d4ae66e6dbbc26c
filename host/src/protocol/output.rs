//! Writes a run's output files, all or nothing: every document is built and checked
//! first, then every target is opened, and only when all opened are they written. A
//! failure leaves every output file as it was.
//!
//! The documents are written into the files Deckhouse created (shell-operator creates
//! each output file empty before it starts a hook), not staged and renamed over them:
//! renaming over an existing file makes ext4 (`auto_da_alloc`) flush the new file's data
//! to disk, which cost a tenth of a whole hook run. A write that fails half-way puts back
//! what every file held before, so the all-or-nothing rule still holds; Deckhouse reads
//! the files only after the process exits.

use crate::error::{HostError, Result};
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, Write};
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
        let mut opened = Vec::new();
        for ((var, needed, text), path) in self.documents().into_iter().zip(targets) {
            match (needed, path) {
                (false, _) => {}
                (true, None) => {
                    let message =
                        format!("the run produced output for {var}, but {var} is not set");
                    return Err(undo(opened, HostError::Other(message)));
                }
                (true, Some(path)) => match Target::open(path) {
                    Ok(target) => opened.push((target, text)),
                    Err(e) => return Err(undo(opened, e)),
                },
            }
        }
        // Every target is open and its old content kept: nothing has changed yet.
        let failed = opened
            .iter_mut()
            .find_map(|(target, text)| target.replace(text.as_bytes()).err());
        match failed {
            Some(e) => Err(undo(opened, e)),
            None => Ok(()),
        }
    }
}

/// Most an output file may hold before the run, kept to put back if a write fails.
const MAX_HELD_BYTES: u64 = 16 << 20;

/// An output file opened for writing, with what it held before (to put back on failure).
struct Target {
    path: PathBuf,
    file: File,
    before: Before,
}

/// What an output path held before the run wrote it.
enum Before {
    /// Nothing: this run created the file.
    Created,
    /// A regular file with these bytes (Deckhouse's: none).
    Held(Vec<u8>),
    /// Not a regular file (a pipe or device): nothing to read back or put back.
    Special,
}

impl Target {
    /// Opens (or creates) `path` and reads what it holds; changes nothing.
    fn open(path: &Path) -> Result<Self> {
        let fail = |source| HostError::Output {
            path: path.to_path_buf(),
            source,
        };
        let created = OpenOptions::new().write(true).create_new(true).open(path);
        let (file, before) = match created {
            Ok(file) => (file, Before::Created),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let mut file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(path)
                    .map_err(fail)?;
                if !file.metadata().map_err(fail)?.is_file() {
                    (file, Before::Special)
                } else {
                    let mut held = Vec::new();
                    (&mut file)
                        .take(MAX_HELD_BYTES + 1)
                        .read_to_end(&mut held)
                        .map_err(fail)?;
                    if held.len() as u64 > MAX_HELD_BYTES {
                        return Err(fail(std::io::Error::new(
                            ErrorKind::InvalidData,
                            format!(
                                "it already holds more than {MAX_HELD_BYTES} bytes, which a failed write could not put back; Deckhouse creates every output file empty, so point the variable at an empty or new file"
                            ),
                        )));
                    }
                    (file, Before::Held(held))
                }
            }
            Err(e) => return Err(fail(e)),
        };
        Ok(Self {
            path: path.to_path_buf(),
            file,
            before,
        })
    }

    /// Makes the file hold exactly `bytes`. An empty file (as Deckhouse creates it) is
    /// never truncated, so ext4 has no replaced data to flush on close either.
    fn replace(&mut self, bytes: &[u8]) -> Result<()> {
        let held = match &self.before {
            Before::Held(bytes) => bytes.len(),
            Before::Created | Before::Special => 0,
        };
        let result = (|| {
            if held > 0 {
                self.file.set_len(0)?;
                self.file.rewind()?;
            }
            self.file.write_all(bytes)
        })();
        result.map_err(|source| HostError::Output {
            path: self.path.clone(),
            source,
        })
    }

    /// Puts back what the file held, or removes it when this run created it. Best
    /// effort: the run has already failed and says why.
    fn restore(mut self) {
        match &self.before {
            Before::Created => {
                let _ = std::fs::remove_file(&self.path);
            }
            Before::Held(held) => {
                let _ = self.file.set_len(0);
                let _ = self.file.rewind();
                let _ = self.file.write_all(held);
            }
            Before::Special => {}
        }
    }
}

/// Restores every opened target and hands back the error that stopped the write.
fn undo(opened: Vec<(Target, String)>, error: HostError) -> HostError {
    opened.into_iter().for_each(|(target, _)| target.restore());
    error
}

fn ndjson(items: &[Value]) -> String {
    items.iter().map(|v| v.to_string() + "\n").collect()
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

    #[test]
    fn a_write_that_fails_half_way_puts_every_file_back() {
        // /dev/full opens fine and fails every write (ENOSPC): the metrics come last, so
        // the values patch and the object operations are already written when it fails.
        assert!(Path::new("/dev/full").exists(), "Linux provides /dev/full");
        let dir = tempfile::tempdir().unwrap();
        let values = dir.path().join("values.json");
        std::fs::write(&values, "held before").unwrap();
        let operations = dir.path().join("created-by-the-run.json");
        let paths = OutputPaths {
            values_patch: Some(values.clone()),
            kubernetes_patch: Some(operations.clone()),
            metrics: Some(PathBuf::from("/dev/full")),
            ..OutputPaths::default()
        };
        let output = RunOutput {
            values_patch: vec![serde_json::json!({"op": "add"})],
            object_operations: vec![serde_json::json!({"operation": "Delete"})],
            metrics: vec![serde_json::json!({})],
            ..RunOutput::default()
        };
        let error = output.write(&paths).unwrap_err().to_string();
        assert!(error.contains("/dev/full"), "{error}");
        assert_eq!(std::fs::read_to_string(&values).unwrap(), "held before");
        assert!(
            !operations.exists(),
            "a file the run created is removed again"
        );
    }

    #[test]
    fn a_file_deckhouse_created_empty_is_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = dir.path().join("metrics.json");
        std::fs::write(&metrics, "").unwrap();
        let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
        let before = inode(&metrics);
        let output = RunOutput {
            metrics: vec![serde_json::json!({"name": "m"})],
            ..RunOutput::default()
        };
        output
            .write(&OutputPaths {
                metrics: Some(metrics.clone()),
                ..OutputPaths::default()
            })
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(&metrics).unwrap(),
            "{\"name\":\"m\"}\n"
        );
        assert_eq!(inode(&metrics), before, "no rename over Deckhouse's file");
    }

    #[test]
    fn a_longer_old_content_is_cut_to_the_new_document() {
        let dir = tempfile::tempdir().unwrap();
        let values = dir.path().join("values.json");
        std::fs::write(&values, "x".repeat(1000)).unwrap();
        let output = RunOutput {
            values_patch: vec![serde_json::json!({"op": "add"})],
            ..RunOutput::default()
        };
        output
            .write(&OutputPaths {
                values_patch: Some(values.clone()),
                ..OutputPaths::default()
            })
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(&values).unwrap(),
            "[{\"op\":\"add\"}]\n"
        );
    }

    #[test]
    fn an_output_file_too_big_to_put_back_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let values = dir.path().join("values.json");
        std::fs::write(&values, "").unwrap();
        let metrics = dir.path().join("metrics.json");
        let big = std::fs::File::create(&metrics).unwrap();
        big.set_len(MAX_HELD_BYTES + 1).unwrap();
        let output = RunOutput {
            values_patch: vec![serde_json::json!({"op": "add"})],
            metrics: vec![serde_json::json!({})],
            ..RunOutput::default()
        };
        let error = output
            .write(&OutputPaths {
                values_patch: Some(values.clone()),
                metrics: Some(metrics.clone()),
                ..OutputPaths::default()
            })
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("metrics.json") && error.contains("empty"),
            "{error}"
        );
        assert_eq!(std::fs::read_to_string(&values).unwrap(), "");
        assert_eq!(
            std::fs::metadata(&metrics).unwrap().len(),
            MAX_HELD_BYTES + 1
        );
    }
}
