//! A golden case folder, read and written in one place: `wasm-hooks test` replays it
//! through the real binary, the SDK's test kit runs it natively and writes it from a YAML
//! description, and `hook run --record` writes one from a real run.
//!
//! ```text
//! <case>/case.yaml                 # description, hook, exit, stderr-contains (recorded: for recordings)
//! <case>/binding-context.json      # BINDING_CONTEXT_PATH (absent: [])
//! <case>/values.json               # VALUES_PATH (absent: {})
//! <case>/config-values.json        # CONFIG_VALUES_PATH (absent: {})
//! <case>/expected/{values-patch,config-values-patch,kubernetes-patch,metrics}.json
//! ```
//!
//! Each expected file is what the run must write, read as Deckhouse reads the output (a
//! JSON array or a stream of JSON values); an absent file means "nothing written".

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file naming the case.
pub const CASE_FILE: &str = "case.yaml";
/// The folder of expected outputs inside a case.
pub const EXPECTED_DIR: &str = "expected";

/// One of the files a hook run writes for Deckhouse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Output {
    /// `VALUES_JSON_PATCH_PATH`.
    ValuesPatch,
    /// `CONFIG_VALUES_JSON_PATCH_PATH`.
    ConfigValuesPatch,
    /// `KUBERNETES_PATCH_PATH`.
    KubernetesPatch,
    /// `METRICS_PATH`.
    Metrics,
}

impl Output {
    /// Every output, in the order Deckhouse names them.
    pub const ALL: [Output; 4] = [
        Output::ValuesPatch,
        Output::ConfigValuesPatch,
        Output::KubernetesPatch,
        Output::Metrics,
    ];

    /// The expected file's name.
    pub fn file(self) -> &'static str {
        match self {
            Output::ValuesPatch => "values-patch.json",
            Output::ConfigValuesPatch => "config-values-patch.json",
            Output::KubernetesPatch => "kubernetes-patch.json",
            Output::Metrics => "metrics.json",
        }
    }

    /// The environment variable Deckhouse names the file with.
    pub fn env_var(self) -> &'static str {
        match self {
            Output::ValuesPatch => "VALUES_JSON_PATCH_PATH",
            Output::ConfigValuesPatch => "CONFIG_VALUES_JSON_PATCH_PATH",
            Output::KubernetesPatch => "KUBERNETES_PATCH_PATH",
            Output::Metrics => "METRICS_PATH",
        }
    }
}

/// One of the files Deckhouse hands a hook run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// `BINDING_CONTEXT_PATH`.
    BindingContext,
    /// `VALUES_PATH`.
    Values,
    /// `CONFIG_VALUES_PATH`.
    ConfigValues,
}

impl Input {
    /// The file's name in a case folder.
    pub fn file(self) -> &'static str {
        match self {
            Input::BindingContext => "binding-context.json",
            Input::Values => "values.json",
            Input::ConfigValues => "config-values.json",
        }
    }

    /// What an absent file reads as.
    pub fn default_text(self) -> &'static str {
        match self {
            Input::BindingContext => "[]",
            Input::Values | Input::ConfigValues => "{}",
        }
    }
}

/// Reads one input file of a case (or any folder laid out alike, such as an example);
/// an absent file reads as [`Input::default_text`].
pub fn read_input(dir: &Path, input: Input) -> Result<String, FixtureError> {
    let path = dir.join(input.file());
    match std::fs::read_to_string(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(input.default_text().to_owned()),
        other => other.map_err(|source| FixtureError::Read { path, source }),
    }
}

/// A case's `case.yaml`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CaseMeta {
    /// What the case shows, for people.
    #[serde(default)]
    pub description: String,
    /// The hook's name in grants.yaml: its `hook list` index is looked up by name, and the
    /// readiness probe (which `hook list` leaves out) is run by `hook ready`.
    pub hook: String,
    /// The host's exit code: 0, or 1 for a failed run.
    #[serde(default)]
    pub exit: i32,
    /// Texts stderr must contain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stderr_contains: Vec<String>,
    /// Where a recorded case came from (`hook run --record`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<Recorded>,
}

impl CaseMeta {
    /// Reads only a folder's `case.yaml`.
    pub fn load(dir: &Path) -> Result<Self, FixtureError> {
        let path = dir.join(CASE_FILE);
        serde_yaml::from_str(&read(&path)?).map_err(|e| FixtureError::Yaml {
            path,
            problem: e.to_string(),
        })
    }
}

/// The provenance of a case written by `hook run --record`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Recorded {
    /// When the run happened (RFC 3339, UTC).
    pub at: String,
    /// The command that ran (`hook run 0`, or the shell protocol's bare run).
    pub command: String,
    /// The host's version.
    pub host: String,
    /// The component file the hook ran.
    pub component: String,
    /// What was redacted before writing, one line each (JSON pointers into the files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redacted: Vec<String>,
}

/// Output documents by file; an absent output is "nothing written" (the same as empty,
/// except that an expected file that exists is kept when the case is rewritten).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outputs(pub BTreeMap<Output, Vec<Value>>);

impl Outputs {
    /// The items of one output; empty when absent.
    pub fn get(&self, output: Output) -> &[Value] {
        self.0.get(&output).map(Vec::as_slice).unwrap_or_default()
    }

    /// Sets one output (present, even when empty).
    pub fn set(&mut self, output: Output, items: Vec<Value>) {
        self.0.insert(output, items);
    }

    /// `self` with one output set.
    pub fn with(mut self, output: Output, items: Vec<Value>) -> Self {
        self.set(output, items);
        self
    }

    /// Parses the files' texts as Deckhouse reads them; an empty text is an absent output.
    pub fn parse<'a>(
        texts: impl IntoIterator<Item = (Output, &'a str)>,
    ) -> Result<Self, FixtureError> {
        let mut outputs = Self::default();
        for (output, text) in texts {
            if text.trim().is_empty() {
                continue;
            }
            let items = parse_stream(text).map_err(|problem| FixtureError::Json {
                path: PathBuf::from(output.file()),
                problem,
            })?;
            outputs.set(output, items);
        }
        Ok(outputs)
    }
}

/// One case folder in memory: the run's inputs as the files Deckhouse writes (text,
/// handed to the hook unchanged) and the expected outputs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fixture {
    /// `case.yaml`.
    pub case: CaseMeta,
    /// `binding-context.json`.
    pub binding_context: String,
    /// `values.json`.
    pub values: String,
    /// `config-values.json`.
    pub config_values: String,
    /// `expected/*.json`.
    pub expected: Outputs,
}

/// Why a case folder could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `case.yaml` is not a case.
    #[error("{path}: {problem}")]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        problem: String,
    },
    /// A JSON file is not JSON of the right shape.
    #[error("{path}: {problem}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        problem: String,
    },
}

impl Fixture {
    /// Reads a case folder; missing input files read as `[]`/`{}`, missing expected
    /// files as absent outputs.
    pub fn load(dir: &Path) -> Result<Self, FixtureError> {
        let case = CaseMeta::load(dir)?;
        let mut expected = Outputs::default();
        for output in Output::ALL {
            let path = dir.join(EXPECTED_DIR).join(output.file());
            if !path.exists() {
                continue;
            }
            let items = parse_stream(&read(&path)?)
                .map_err(|problem| FixtureError::Json { path, problem })?;
            expected.set(output, items);
        }
        Ok(Self {
            case,
            binding_context: read_input(dir, Input::BindingContext)?,
            values: read_input(dir, Input::Values)?,
            config_values: read_input(dir, Input::ConfigValues)?,
            expected,
        })
    }

    /// The files of the folder, relative path and contents, `case.yaml` last.
    pub fn files(&self) -> Result<Vec<(PathBuf, String)>, FixtureError> {
        let mut files: Vec<(PathBuf, String)> = vec![
            (
                Input::BindingContext.file().into(),
                self.binding_context.clone(),
            ),
            (Input::Values.file().into(), self.values.clone()),
            (
                Input::ConfigValues.file().into(),
                self.config_values.clone(),
            ),
        ];
        for (output, items) in &self.expected.0 {
            files.push((
                Path::new(EXPECTED_DIR).join(output.file()),
                pretty_items(items),
            ));
        }
        let case = serde_yaml::to_string(&self.case).map_err(|e| FixtureError::Yaml {
            path: CASE_FILE.into(),
            problem: e.to_string(),
        })?;
        files.push((CASE_FILE.into(), case));
        Ok(files)
    }

    /// Bytes of every file of the folder.
    pub fn size(&self) -> Result<usize, FixtureError> {
        Ok(self.files()?.iter().map(|(_, text)| text.len()).sum())
    }

    /// Writes the folder `dir`: an existing folder has its files rewritten in place (as
    /// `UPDATE_FIXTURES` does); a new one appears whole or not at all ([`Fixture::write_new`]).
    pub fn write(&self, dir: &Path) -> Result<(), FixtureError> {
        if dir.exists() {
            return write_files(dir, &self.files()?);
        }
        self.write_new(dir)
    }

    /// Writes the new folder `dir` whole (staged in a hidden sibling `.NAME.partial-PID`,
    /// then renamed); never writes into a folder that exists.
    pub fn write_new(&self, dir: &Path) -> Result<(), FixtureError> {
        let files = self.files()?;
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        let staging = parent.join(format!(
            ".{}.partial-{}",
            name.unwrap_or_default(),
            std::process::id()
        ));
        let fail = |source| FixtureError::Write {
            path: staging.clone(),
            source,
        };
        std::fs::create_dir_all(parent).map_err(|source| FixtureError::Write {
            path: parent.to_path_buf(),
            source,
        })?;
        let written = write_files(&staging, &files).and_then(|()| {
            if dir.exists() {
                return Err(fail(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!("{} appeared meanwhile", dir.display()),
                )));
            }
            std::fs::rename(&staging, dir).map_err(fail)
        });
        if written.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        written
    }
}

fn write_files(dir: &Path, files: &[(PathBuf, String)]) -> Result<(), FixtureError> {
    for (file, text) in files {
        let path = dir.join(file);
        let parent = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent).map_err(|source| FixtureError::Write {
            path: parent.to_path_buf(),
            source,
        })?;
        std::fs::write(&path, text).map_err(|source| FixtureError::Write { path, source })?;
    }
    Ok(())
}

/// Rewrites a case's expected files from what a run wrote (`UPDATE_GOLDEN`): an output
/// the run left empty keeps an existing file as `[]` and creates none, so a case's
/// folder layout does not change.
pub fn write_expected(dir: &Path, got: &Outputs) -> Result<(), FixtureError> {
    for output in Output::ALL {
        let items = got.get(output);
        let path = dir.join(EXPECTED_DIR).join(output.file());
        if items.is_empty() && !path.exists() {
            continue;
        }
        let file = Path::new(EXPECTED_DIR).join(output.file());
        write_files(dir, &[(file, pretty_items(items))])?;
    }
    Ok(())
}

/// What a run did, to judge against a case.
#[derive(Clone, Copy, Debug)]
pub struct Ran<'a> {
    /// The exit code.
    pub code: i32,
    /// Everything written to stderr.
    pub stderr: &'a str,
    /// The output documents.
    pub outputs: &'a Outputs,
}

/// Judges a run against a case: the exit code first, then every `stderr-contains` and
/// every output; the error lists each difference with a readable diff.
pub fn judge(case: &CaseMeta, expected: &Outputs, ran: Ran<'_>) -> Result<(), String> {
    if ran.code != case.exit {
        return Err(format!(
            "exit {}, expected {} ({})\nstderr:\n{}",
            ran.code, case.exit, case.description, ran.stderr
        ));
    }
    let mut problems = Vec::new();
    for needle in &case.stderr_contains {
        if !ran.stderr.contains(needle.as_str()) {
            problems.push(format!(
                "stderr does not contain {needle:?}\nstderr:\n{}",
                ran.stderr
            ));
        }
    }
    for output in Output::ALL {
        let (want, got) = (expected.get(output), ran.outputs.get(output));
        if want != got {
            problems.push(format!(
                "{} differs (- expected, + got):\n{}",
                output.file(),
                diff(want, got)
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// A unified diff of two documents, pretty-printed.
pub fn diff(expected: &[Value], got: &[Value]) -> String {
    similar::TextDiff::from_lines(&pretty_items(expected), &pretty_items(got))
        .unified_diff()
        .context_radius(3)
        .to_string()
}

/// Every folder holding a `case.yaml` at or below `dir`, sorted. Hidden folders (a
/// recording still being staged, caches) are skipped.
pub fn find_cases(dir: &Path) -> Vec<PathBuf> {
    if dir.join(CASE_FILE).is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    entries.iter().flat_map(|d| find_cases(d)).collect()
}

/// Reads an output the way Deckhouse does: a JSON array, or a stream of JSON values
/// (NDJSON), arrays flattened.
pub fn parse_stream(text: &str) -> Result<Vec<Value>, String> {
    let mut items = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        match value.map_err(|e| e.to_string())? {
            Value::Array(list) => items.extend(list),
            other => items.push(other),
        }
    }
    Ok(items)
}

/// A JSON document as fixture files hold it: pretty, with a final newline.
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

fn pretty_items(items: &[Value]) -> String {
    serde_json::to_string_pretty(items).unwrap_or_default() + "\n"
}

fn read(path: &Path) -> Result<String, FixtureError> {
    std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Fixture {
        Fixture {
            case: CaseMeta {
                description: "a sample".into(),
                hook: "my-hook".into(),
                stderr_contains: vec!["ok".into()],
                ..CaseMeta::default()
            },
            binding_context: "[]".into(),
            values: "{\"global\": {}}\n".into(),
            config_values: "{}".into(),
            expected: Outputs::default()
                .with(
                    Output::ValuesPatch,
                    vec![json!({"op": "add", "path": "/a", "value": 1})],
                )
                .with(Output::Metrics, vec![]),
        }
    }

    #[test]
    fn a_written_case_reads_back_the_same() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cases/one");
        sample().write(&dir).unwrap();
        assert_eq!(Fixture::load(&dir).unwrap(), sample());
        assert_eq!(find_cases(tmp.path()), vec![dir.clone()]);
        // No staging folder is left behind, and rewriting in place works.
        assert_eq!(std::fs::read_dir(dir.parent().unwrap()).unwrap().count(), 1);
        sample().write(&dir).unwrap();
        assert_eq!(Fixture::load(&dir).unwrap(), sample());
    }

    #[test]
    fn missing_files_read_as_defaults_and_hidden_folders_are_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(CASE_FILE), "hook: h\n").unwrap();
        let loaded = Fixture::load(tmp.path()).unwrap();
        assert_eq!(
            (loaded.binding_context.as_str(), loaded.values.as_str()),
            ("[]", "{}")
        );
        assert!(loaded.expected.0.is_empty());
        let other = tempfile::tempdir().unwrap();
        let hidden = other.path().join(".staging/case");
        std::fs::create_dir_all(&hidden).unwrap();
        std::fs::write(hidden.join(CASE_FILE), "hook: h\n").unwrap();
        assert!(find_cases(other.path()).is_empty());
    }

    #[test]
    fn bad_files_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(CASE_FILE), "hook: h\nunknown: 1\n").unwrap();
        let err = Fixture::load(tmp.path()).unwrap_err().to_string();
        assert!(
            err.contains("case.yaml") && err.contains("unknown"),
            "{err}"
        );
        std::fs::write(tmp.path().join(CASE_FILE), "hook: h\n").unwrap();
        std::fs::create_dir(tmp.path().join(EXPECTED_DIR)).unwrap();
        std::fs::write(tmp.path().join("expected/metrics.json"), "{").unwrap();
        let err = Fixture::load(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("metrics.json"), "{err}");
    }

    #[test]
    fn judging_names_every_difference() {
        let case = sample();
        let got = Outputs::default().with(
            Output::ValuesPatch,
            vec![json!({"op": "add", "path": "/a", "value": 1})],
        );
        let ran = |code, stderr, outputs| Ran {
            code,
            stderr,
            outputs,
        };
        judge(&case.case, &case.expected, ran(0, "ok", &got)).unwrap();
        let err = judge(&case.case, &case.expected, ran(1, "ok", &got)).unwrap_err();
        assert!(err.starts_with("exit 1, expected 0"), "{err}");
        let err = judge(&case.case, &case.expected, ran(0, "", &Outputs::default())).unwrap_err();
        assert!(
            err.contains("stderr does not contain \"ok\"")
                && err.contains("values-patch.json differs")
                && err.contains("-    \"op\": \"add\""),
            "{err}"
        );
    }

    #[test]
    fn rewriting_expected_files_keeps_the_layout() {
        let tmp = tempfile::tempdir().unwrap();
        sample().write(tmp.path()).unwrap();
        write_expected(tmp.path(), &Outputs::default()).unwrap();
        let expected = Fixture::load(tmp.path()).unwrap().expected;
        assert_eq!(
            expected,
            Outputs::default()
                .with(Output::ValuesPatch, vec![])
                .with(Output::Metrics, vec![])
        );
    }

    #[test]
    fn streams_are_read_as_deckhouse_reads_them() {
        assert_eq!(
            parse_stream("[1, 2]\n{\"a\": 3}\n").unwrap(),
            vec![json!(1), json!(2), json!({"a": 3})]
        );
        assert!(parse_stream("{").is_err());
    }
}
