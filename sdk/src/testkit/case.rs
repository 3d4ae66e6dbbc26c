//! One test description, two runs: a YAML [`Case`] runs natively here, and writes the
//! fixture folder the real host binary runs (`wasm-hooks test`), with the same expectations.
//!
//! ```yaml
//! description: The ConfigMap says stage1_started: the state is copied into values.
//! hook: control-plane-migration-state-sync     # the hook's name in grants.yaml
//! cluster: |                                   # objects; every binding's snapshot is made from them
//!   apiVersion: v1
//!   kind: ConfigMap
//!   metadata: {name: control-plane-migration, namespace: d8-sds-replicated-volume}
//!   data: {state: stage1_started}
//! context: beforeHelm                          # or synchronization
//! values: {global: {}, sdsReplicatedVolume: {newControlPlane: true}}
//! exit: 0
//! stderr-contains: [synced]
//! expected:
//!   values-patch: [...]
//!   kubernetes-patch: []
//!   metrics: [...]
//! ```
//!
//! Instead of `cluster`, a case may give `binding-context` (the JSON array) directly, as
//! fixture folders do. A missing expectation means "nothing written".

use super::contexts;
use super::run::HookRun;
use crate::hook::Hook;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How the cluster state is delivered to the hook.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Delivery {
    /// One beforeHelm context with every binding's snapshot.
    #[default]
    BeforeHelm,
    /// One Synchronization context per binding.
    Synchronization,
}

/// What the run must write; each is the document's array of lines.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Expected {
    /// `VALUES_JSON_PATCH_PATH`.
    #[serde(default)]
    pub values_patch: Vec<Value>,
    /// `KUBERNETES_PATCH_PATH`.
    #[serde(default)]
    pub kubernetes_patch: Vec<Value>,
    /// `METRICS_PATH`.
    #[serde(default)]
    pub metrics: Vec<Value>,
}

/// One test case (see the module docs for the YAML).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Case {
    /// What the case shows, for people.
    #[serde(default)]
    pub description: String,
    /// The hook's name in grants.yaml.
    pub hook: String,
    /// The cluster's objects: multi-document YAML text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// How the cluster is delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Delivery>,
    /// The binding contexts, when given directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding_context: Option<Value>,
    /// All values (`{"global":..,"<module>":..}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Value>,
    /// All config values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_values: Option<Value>,
    /// The host's exit code: 0, or 1 for a failed run.
    #[serde(default)]
    pub exit: i32,
    /// Texts stderr must contain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stderr_contains: Vec<String>,
    /// The documents the run writes (exit 0 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expected>,
}

/// The three outputs: expected-file name, and how to read it from a run.
const OUTPUTS: [&str; 3] = ["values-patch.json", "kubernetes-patch.json", "metrics.json"];

impl Case {
    /// Parses a case description.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        serde_yaml::from_str(text).map_err(|e| format!("case: {e}"))
    }

    /// Reads a fixture folder (`case.yaml`, `binding-context.json`, `values.json`,
    /// `config-values.json`, `expected/*.json`) as a case.
    pub fn load_fixture(dir: &Path) -> Result<Self, String> {
        let mut case = Self::from_yaml(&read(&dir.join("case.yaml"))?)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let json = |file: &str| -> Result<Option<Value>, String> {
            let path = dir.join(file);
            if !path.exists() {
                return Ok(None);
            }
            let text = read(&path)?;
            if text.trim().is_empty() {
                return Ok(None);
            }
            serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display()))
        };
        case.binding_context = json("binding-context.json")?;
        case.values = json("values.json")?;
        case.config_values = json("config-values.json")?;
        let mut expected = Expected::default();
        for (file, slot) in OUTPUTS.iter().zip([
            &mut expected.values_patch,
            &mut expected.kubernetes_patch,
            &mut expected.metrics,
        ]) {
            *slot = match json(&format!("expected/{file}"))? {
                None => Vec::new(),
                Some(Value::Array(items)) => items,
                Some(other) => vec![other],
            };
        }
        case.expected = Some(expected);
        Ok(case)
    }

    /// The binding contexts the case delivers: given, or made from the cluster.
    pub fn contexts<H: Hook>(&self) -> Result<Value, String> {
        if let Some(given) = &self.binding_context {
            return Ok(given.clone());
        }
        let objects = self.objects()?;
        let config = H::config();
        let made = match self.context.unwrap_or_default() {
            Delivery::BeforeHelm => contexts::before_helm(&config, &objects, &BTreeMap::new()),
            Delivery::Synchronization => {
                contexts::synchronization(&config, &objects, &BTreeMap::new())
            }
        }?;
        serde_json::to_value(made).map_err(|e| e.to_string())
    }

    fn objects(&self) -> Result<Vec<Value>, String> {
        match &self.cluster {
            Some(yaml) => super::cluster::objects_from_yaml(yaml),
            None => Ok(Vec::new()),
        }
    }

    fn values(&self) -> Value {
        self.values
            .clone()
            .unwrap_or_else(|| Value::Object(Default::default()))
    }

    fn config_values(&self) -> Value {
        self.config_values
            .clone()
            .unwrap_or_else(|| Value::Object(Default::default()))
    }

    /// Runs the case natively.
    pub fn run<H: Hook>(&self) -> Result<HookRun, String> {
        let contexts = self.contexts::<H>()?;
        Ok(HookRun::new::<H>(
            &contexts.to_string(),
            &self.values(),
            &self.config_values(),
            &self.objects()?,
        ))
    }

    /// Runs the case natively and checks every expectation; the error lists each
    /// difference with a readable diff.
    pub fn check<H: Hook>(&self) -> Result<(), String> {
        let run = self.run::<H>()?;
        let stderr = run.stderr();
        if run.exit_code() != self.exit {
            return Err(format!(
                "exit {}, expected {} ({})\nstderr:\n{stderr}",
                run.exit_code(),
                self.exit,
                self.description
            ));
        }
        let mut problems = Vec::new();
        for needle in &self.stderr_contains {
            if !stderr.contains(needle.as_str()) {
                problems.push(format!(
                    "stderr does not contain {needle:?}\nstderr:\n{stderr}"
                ));
            }
        }
        let expected = self.expected.clone().unwrap_or_default();
        let got = [run.values_patch()?, run.kubernetes_patch(), run.metrics()?];
        let want = [
            expected.values_patch,
            expected.kubernetes_patch,
            expected.metrics,
        ];
        for ((file, got), want) in OUTPUTS.iter().zip(got).zip(want) {
            if got != want {
                problems.push(format!(
                    "{file} differs (- expected, + got):\n{}",
                    diff(&want, &got)
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// Writes the case as a fixture folder `dir` for the host's `wasm-hooks test`, with
    /// the binding contexts made from the cluster and the expected files from the case.
    pub fn write_fixture<H: Hook>(&self, dir: &Path) -> Result<(), String> {
        let fixture = Case {
            description: self.description.clone(),
            hook: self.hook.clone(),
            exit: self.exit,
            stderr_contains: self.stderr_contains.clone(),
            ..Case::default()
        };
        let expected = self.expected.clone().unwrap_or_default();
        let mut files: Vec<(PathBuf, String)> = vec![
            (
                "case.yaml".into(),
                serde_yaml::to_string(&fixture).map_err(|e| e.to_string())?,
            ),
            (
                "binding-context.json".into(),
                pretty(&self.contexts::<H>()?),
            ),
            ("values.json".into(), pretty(&self.values())),
            ("config-values.json".into(), pretty(&self.config_values())),
        ];
        if self.exit == 0 {
            for (file, items) in OUTPUTS.iter().zip([
                expected.values_patch,
                expected.kubernetes_patch,
                expected.metrics,
            ]) {
                files.push((
                    Path::new("expected").join(file),
                    pretty(&Value::Array(items)),
                ));
            }
        }
        for (file, text) in files {
            let path = dir.join(file);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }
}

/// Runs every fixture case below `dir` (folders holding `case.yaml`) natively with hook `H`,
/// as `wasm-hooks test` runs them through the host. Returns how many passed; the error
/// names every failed case and why.
pub fn check_fixtures<H: Hook>(dir: &Path) -> Result<usize, String> {
    let cases = find_cases(dir);
    if cases.is_empty() {
        return Err(format!("no case.yaml found below {}", dir.display()));
    }
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case_dir| {
            Case::load_fixture(case_dir)
                .and_then(|case| case.check::<H>())
                .err()
                .map(|why| format!("FAILED {}\n{why}", case_dir.display()))
        })
        .collect();
    if failures.is_empty() {
        Ok(cases.len())
    } else {
        Err(format!(
            "{} of {} cases failed:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        ))
    }
}

fn find_cases(dir: &Path) -> Vec<PathBuf> {
    if dir.join("case.yaml").is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    entries.iter().flat_map(|d| find_cases(d)).collect()
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

fn diff(expected: &[Value], got: &[Value]) -> String {
    let pretty = |v: &[Value]| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
    similar::TextDiff::from_lines(&pretty(expected), &pretty(got))
        .unified_diff()
        .context_radius(3)
        .to_string()
}
