//! Records a real hook run as a golden case folder (`--record DIR`, or
//! `WASM_HOOKS_RECORD_DIR` set in Deckhouse's environment), so a production incident
//! becomes a CI case that `wasm-hooks test` replays.
//!
//! Recording is a bystander: it runs after the outputs are written, a failure is one
//! warning line, and nothing it does changes the run's outputs or exit code. Each run gets
//! its own folder, `<UTC time>-<hook>`, staged hidden and renamed into place. Secrets are
//! not copied blindly (see [`redact`]), a recording larger than [`MAX_RECORDING_BYTES`]
//! is skipped, and the folder keeps at most [`KEEP_RECORDINGS`] recordings (the oldest go).

use super::run::RunInputs;
use crate::error::HostError;
use crate::logging;
use crate::manifest::Guest;
use crate::protocol::output::RunOutput;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hooks_manifest::fixture::{self, CaseMeta, Fixture, Output, Outputs, Recorded};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Largest recording written: the run's inputs and outputs together, as files.
pub const MAX_RECORDING_BYTES: usize = 16 << 20;
/// Recordings kept in a folder; before a new one is written the oldest go.
pub const KEEP_RECORDINGS: usize = 50;
/// What a Secret's `data` value becomes (base64 of [`REDACTED`]).
pub const REDACTED_BASE64: &str = "UkVEQUNURUQ=";
/// What a Secret's `stringData` value, a decoded `data` value or a secret-named values
/// key becomes.
pub const REDACTED: &str = "REDACTED";
/// Shortest secret that is also searched for elsewhere in the recording: a shorter one
/// (`true`, `1`) would redact ordinary strings and break the replay.
pub const MIN_PROPAGATED_SECRET: usize = 6;
/// Values keys whose string values are redacted (compared lowercase, as substrings).
pub const SECRET_KEY_MARKS: &[&str] = &["password", "secret", "token", "dockercfg", "privatekey"];

/// One finished run, as the recorder sees it.
pub struct Run<'a> {
    pub guest: &'a Guest,
    /// How it was started (`hook run 0`), for the case's provenance.
    pub command: String,
    pub inputs: &'a RunInputs,
    /// What the guest produced, or why the run failed.
    pub outcome: Result<&'a RunOutput, &'a HostError>,
    /// Why writing the outputs failed, when it did (the hook's own result is still recorded).
    pub write_error: Option<String>,
}

/// Why a recording was not written (only ever logged).
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{0}")]
    Fixture(#[from] fixture::FixtureError),
    #[error(
        "the recording would take {size} bytes, more than {MAX_RECORDING_BYTES}; the run is too large to record"
    )]
    TooLarge { size: usize },
    #[error("cannot prepare {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the recorder panicked")]
    Panicked,
}

/// Records `run` into `dir`; any failure is a warning on stderr, never an error.
pub fn record(dir: &Path, run: &Run<'_>) {
    let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write(dir, run)))
        .unwrap_or(Err(RecordError::Panicked));
    match done {
        Ok(folder) => logging::info(
            "recorded the run as a test case",
            &[
                ("guest", run.guest.name.clone().into()),
                ("case", folder.display().to_string().into()),
            ],
        ),
        Err(e) => logging::warn(
            "cannot record the run; the run itself is unaffected",
            &[
                ("guest", run.guest.name.clone().into()),
                ("recordDir", dir.display().to_string().into()),
                ("error", e.to_string().into()),
            ],
        ),
    }
}

/// Writes the case folder and returns it.
fn write(dir: &Path, run: &Run<'_>) -> Result<PathBuf, RecordError> {
    let fixture = case(run, SystemTime::now());
    let size = fixture.size()?;
    if size > MAX_RECORDING_BYTES {
        return Err(RecordError::TooLarge { size });
    }
    std::fs::create_dir_all(dir).map_err(|source| RecordError::Dir {
        path: dir.to_path_buf(),
        source,
    })?;
    prune(dir);
    let at = fixture.case.recorded.as_ref().map(|r| r.at.as_str());
    let folder = free_name(dir, at.unwrap_or_default(), &run.guest.name);
    fixture.write_new(&folder)?;
    Ok(folder)
}

/// The case a run makes: its inputs and outputs, secrets redacted.
fn case(run: &Run<'_>, now: SystemTime) -> Fixture {
    let mut redactor = Redactor::default();
    let binding_context =
        serde_json::from_str::<Value>(&run.inputs.binding_context.raw).map(|mut contexts| {
            redactor.secrets(&mut contexts, "binding-context.json");
            contexts
        });
    let mut values = run.inputs.values.clone();
    redactor.secret_keys(&mut values, "values.json");
    let mut config_values = run.inputs.config_values.clone();
    redactor.secret_keys(&mut config_values, "config-values.json");
    let binding_context = match binding_context {
        Ok(mut contexts) => {
            redactor.known(&mut contexts, "binding-context.json");
            if redactor.notes.is_empty() {
                run.inputs.binding_context.raw.clone()
            } else {
                fixture::pretty(&contexts)
            }
        }
        // The host parsed it, so this cannot happen; keep the text as handed over.
        Err(_) => run.inputs.binding_context.raw.clone(),
    };
    redactor.known(&mut values, "values.json");
    redactor.known(&mut config_values, "config-values.json");
    let (exit, stderr_contains, mut expected) = match run.outcome {
        Ok(output) => (0, Vec::new(), outputs(output)),
        Err(e) => (1, vec![stable_prefix(&e.to_string())], Outputs::default()),
    };
    for (output, items) in expected.0.iter_mut() {
        for (i, item) in items.iter_mut().enumerate() {
            redactor.known(item, &format!("expected/{}#/{i}", output.file()));
        }
    }
    let at = humantime::format_rfc3339_millis(now).to_string();
    let mut description = format!(
        "Recorded from `{}` of {} at {at}.",
        run.command, run.guest.name
    );
    if let Some(problem) = &run.write_error {
        description.push_str(&format!(
            " The hook succeeded but its outputs could not be written: {problem}."
        ));
    }
    if !redactor.notes.is_empty() {
        description.push_str(
            " Secret values were redacted (see recorded.redacted); if the hook's outputs depend on them, edit the inputs or the expected files.",
        );
    }
    Fixture {
        case: CaseMeta {
            description,
            hook: run.guest.name.clone(),
            exit,
            stderr_contains: stderr_contains
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect(),
            recorded: Some(Recorded {
                at,
                command: run.command.clone(),
                host: env!("CARGO_PKG_VERSION").to_owned(),
                component: run.guest.component.display().to_string(),
                redacted: redactor.notes,
            }),
        },
        binding_context,
        values: fixture::pretty(&values),
        config_values: fixture::pretty(&config_values),
        expected,
    }
}

/// The run's outputs as expected files (every one present, so the replay also checks
/// that nothing more is written).
fn outputs(output: &RunOutput) -> Outputs {
    Outputs::default()
        .with(Output::ValuesPatch, output.values_patch.clone())
        .with(
            Output::ConfigValuesPatch,
            output.config_values_patch.clone(),
        )
        .with(Output::KubernetesPatch, output.object_operations.clone())
        .with(Output::Metrics, output.metrics.clone())
}

/// The start of an error message that appears verbatim in the host's JSON log line
/// (up to the first character JSON escapes), for `stderr-contains`.
fn stable_prefix(message: &str) -> String {
    message
        .chars()
        .take_while(|c| !matches!(c, '"' | '\\') && !c.is_control())
        .take(200)
        .collect()
}

/// A folder name that does not exist yet: `<time>-<hook>`, then `-<pid>`, `-<pid>-<n>`.
fn free_name(dir: &Path, at: &str, hook: &str) -> PathBuf {
    let time: String = at.chars().filter(|c| !matches!(c, '-' | ':')).collect();
    let hook: String = hook
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let base = format!("{time}-{hook}");
    let pid = std::process::id();
    std::iter::once(base.clone())
        .chain(std::iter::once(format!("{base}-{pid}")))
        .chain((2..).map(|n| format!("{base}-{pid}-{n}")))
        .map(|name| dir.join(name))
        .find(|path| !path.exists())
        .unwrap_or_else(|| dir.join(base))
}

/// A staging folder older than this was left by a recorder that was killed.
const STALE_STAGING: Duration = Duration::from_secs(3600);

/// Removes the oldest recordings (folders whose case.yaml says `recorded:`) so that at
/// most [`KEEP_RECORDINGS`] - 1 remain, and staging folders a killed recorder left
/// (`.NAME.partial-PID`, an hour old); anything else in the folder is left alone.
fn prune(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > STALE_STAGING));
        if name.starts_with('.') && name.contains(".partial-") && stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let mut recordings: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                && CaseMeta::load(p).is_ok_and(|c| c.recorded.is_some())
        })
        .collect();
    recordings.sort();
    let excess = (recordings.len() + 1).saturating_sub(KEEP_RECORDINGS);
    for old in recordings.into_iter().take(excess) {
        let _ = std::fs::remove_dir_all(old);
    }
}

/// Redacts secrets from a recording:
/// - every Secret object (`kind: Secret`) anywhere in the binding contexts has each
///   `data` value replaced by [`REDACTED_BASE64`] and each `stringData` value by
///   [`REDACTED`];
/// - in values and config values, every string below a key whose name contains a
///   [`SECRET_KEY_MARKS`] mark (`dockercfg`, `password`, ...) becomes [`REDACTED`];
/// - then every other string anywhere in the recording (jqFilter results, values,
///   expected outputs) equal to one of those secrets, or to a `data` value's decoded
///   text, is replaced the same way, so a hook that copies a secret keeps matching.
///
/// Each replacement is noted (file and JSON pointer) in `recorded.redacted`.
#[derive(Default)]
struct Redactor {
    /// Secret text -> its replacement.
    known: BTreeMap<String, &'static str>,
    notes: Vec<String>,
}

impl Redactor {
    /// Remembers a secret, to be searched for in the rest of the recording.
    fn remember(&mut self, secret: String, replacement: &'static str) {
        if secret.chars().count() >= MIN_PROPAGATED_SECRET {
            self.known.insert(secret, replacement);
        }
    }

    /// Redacts Secret objects in `doc`, remembering their values.
    fn secrets(&mut self, doc: &mut Value, file: &str) {
        self.walk_secrets(doc, file, String::new());
    }

    fn walk_secrets(&mut self, doc: &mut Value, file: &str, at: String) {
        match doc {
            Value::Object(map) => {
                if map.get("kind").and_then(Value::as_str) == Some("Secret") {
                    self.redact_secret(map, file, &at);
                }
                for (key, value) in map.iter_mut() {
                    let at = format!("{at}/{}", escape(key));
                    self.walk_secrets(value, file, at);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.walk_secrets(item, file, format!("{at}/{i}"));
                }
            }
            _ => {}
        }
    }

    fn redact_secret(&mut self, secret: &mut Map<String, Value>, file: &str, at: &str) {
        for (field, replacement) in [("data", REDACTED_BASE64), ("stringData", REDACTED)] {
            let Some(Value::Object(entries)) = secret.get_mut(field) else {
                continue;
            };
            for (key, value) in entries.iter_mut() {
                let Value::String(text) = value else { continue };
                if text == replacement {
                    continue;
                }
                if field == "data"
                    && let Some(decoded) = STANDARD
                        .decode(text.as_bytes())
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .filter(|d| !d.is_empty())
                {
                    self.remember(decoded, REDACTED);
                }
                self.remember(std::mem::take(text), replacement);
                *value = Value::String(replacement.to_owned());
                self.notes
                    .push(format!("{file}#{at}/{field}/{}", escape(key)));
            }
        }
    }

    /// Redacts strings below secret-named keys of a values document.
    fn secret_keys(&mut self, doc: &mut Value, file: &str) {
        self.walk_keys(doc, file, String::new(), false);
    }

    fn walk_keys(&mut self, doc: &mut Value, file: &str, at: String, secret: bool) {
        match doc {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    let lower = key.to_lowercase();
                    let marked = secret || SECRET_KEY_MARKS.iter().any(|m| lower.contains(m));
                    self.walk_keys(value, file, format!("{at}/{}", escape(key)), marked);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.walk_keys(item, file, format!("{at}/{i}"), secret);
                }
            }
            Value::String(text) if secret && !text.is_empty() && text != REDACTED => {
                self.remember(std::mem::take(text), REDACTED);
                *doc = Value::String(REDACTED.to_owned());
                self.notes.push(format!("{file}#{at}"));
            }
            _ => {}
        }
    }

    /// Replaces every string equal to a known secret.
    fn known(&mut self, doc: &mut Value, file: &str) {
        if self.known.is_empty() {
            return;
        }
        self.walk_known(doc, file, String::new());
    }

    fn walk_known(&mut self, doc: &mut Value, file: &str, at: String) {
        match doc {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    self.walk_known(value, file, format!("{at}/{}", escape(key)));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.walk_known(item, file, format!("{at}/{i}"));
                }
            }
            Value::String(text) => {
                if let Some(replacement) = self.known.get(text.as_str()) {
                    *doc = Value::String((*replacement).to_owned());
                    self.notes.push(format!("{file}#{at}"));
                }
            }
            _ => {}
        }
    }
}

/// A JSON pointer segment.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::binding_context::BindingContexts;
    use serde_json::json;

    fn guest() -> Guest {
        serde_yaml::from_str("name: my-hook\ncomponent: my_hook.wasm\nworld: hook\n").unwrap()
    }

    fn inputs(contexts: Value, values: Value) -> RunInputs {
        RunInputs {
            binding_context: BindingContexts::parse(&contexts.to_string()).unwrap(),
            values,
            config_values: json!({}),
        }
    }

    #[test]
    fn secrets_are_redacted_everywhere_they_appear() {
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "namespace": "ns"},
            "data": {"password": "aHVudGVyMg=="}, "stringData": {"token": "abcdefgh"}});
        let contexts = json!([{"binding": "secrets", "type": "Synchronization",
            "objects": [{"object": secret, "filterResult": {"pw": "hunter2", "raw": "aHVudGVyMg=="}}]}]);
        let values = json!({"global": {"modulesImages": {"registry": {"dockercfg": "c2VjcmV0"}}},
            "myModule": {"internal": {"copied": "hunter2", "count": 1}}});
        let output = RunOutput {
            values_patch: vec![json!({"op": "add", "path": "/myModule/x", "value": "hunter2"})],
            ..RunOutput::default()
        };
        let g = guest();
        let inputs = inputs(contexts, values);
        let run = Run {
            guest: &g,
            command: "hook run 0".into(),
            inputs: &inputs,
            outcome: Ok(&output),
            write_error: None,
        };
        let case = case(&run, SystemTime::UNIX_EPOCH);
        let all = format!(
            "{}{}{}",
            case.binding_context,
            case.values,
            serde_json::to_string(&case.expected.get(Output::ValuesPatch)).unwrap()
        );
        for secret in ["hunter2", "aHVudGVyMg==", "abcdefgh", "c2VjcmV0"] {
            assert!(!all.contains(&format!("\"{secret}\"")), "{secret} in {all}");
        }
        let contexts: Value = serde_json::from_str(&case.binding_context).unwrap();
        let item = &contexts[0]["objects"][0];
        assert_eq!(item["object"]["data"]["password"], REDACTED_BASE64);
        assert_eq!(item["filterResult"]["pw"], REDACTED);
        assert_eq!(case.expected.get(Output::ValuesPatch)[0]["value"], REDACTED);
        let recorded = case.case.recorded.unwrap();
        assert!(
            recorded
                .redacted
                .contains(&"binding-context.json#/0/objects/0/object/data/password".to_owned()),
            "{:?}",
            recorded.redacted
        );
        assert!(case.case.description.contains("redacted"));
        // What is not secret is kept.
        let values: Value = serde_json::from_str(&case.values).unwrap();
        assert_eq!(values["myModule"]["internal"]["count"], 1);
    }

    #[test]
    fn a_run_without_secrets_keeps_its_binding_context_text() {
        let g = guest();
        let contexts = json!([{"binding": "beforeHelm"}]);
        let inputs = inputs(contexts.clone(), json!({"global": {}}));
        let err = HostError::GuestFailed {
            guest: "my-hook".into(),
            message: "no \"state\" key".into(),
        };
        let run = Run {
            guest: &g,
            command: "hook run 0".into(),
            inputs: &inputs,
            outcome: Err(&err),
            write_error: None,
        };
        let case = case(&run, SystemTime::UNIX_EPOCH);
        assert_eq!(case.binding_context, contexts.to_string());
        assert_eq!(case.case.exit, 1);
        assert_eq!(case.case.stderr_contains, ["guest my-hook failed: no "]);
        assert!(case.expected.0.is_empty());
        assert!(case.case.recorded.unwrap().redacted.is_empty());
    }

    #[test]
    fn folders_are_unique_and_old_recordings_are_pruned() {
        let tmp = tempfile::tempdir().unwrap();
        let g = guest();
        let inputs = inputs(json!([]), json!({}));
        let output = RunOutput::default();
        let run = Run {
            guest: &g,
            command: "hook run 0".into(),
            inputs: &inputs,
            outcome: Ok(&output),
            write_error: None,
        };
        std::fs::create_dir(tmp.path().join("mine")).unwrap();
        let first = write(tmp.path(), &run).unwrap();
        let second = write(tmp.path(), &run).unwrap();
        assert_ne!(first, second);
        for _ in 0..KEEP_RECORDINGS + 3 {
            write(tmp.path(), &run).unwrap();
        }
        let count = std::fs::read_dir(tmp.path()).unwrap().count();
        assert_eq!(
            count,
            KEEP_RECORDINGS + 1,
            "recordings plus the foreign folder"
        );
        assert!(tmp.path().join("mine").is_dir());
    }

    #[test]
    fn staging_left_by_a_killed_recorder_is_removed_once_stale() {
        let tmp = tempfile::tempdir().unwrap();
        let stale = tmp.path().join(".old-case.partial-1");
        let fresh = tmp.path().join(".new-case.partial-2");
        std::fs::create_dir(&stale).unwrap();
        std::fs::create_dir(&fresh).unwrap();
        let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
        std::fs::File::open(&stale)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        prune(tmp.path());
        assert!(!stale.exists());
        assert!(fresh.exists(), "a recorder may still be writing it");
    }
}
