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
//! fixture folders do. A missing expectation means "nothing written"; `config-values-patch`
//! may be expected too. Fixture folders are read, written and judged by
//! [`hooks_manifest::fixture`], the same code `wasm-hooks test` uses.

use super::contexts;
use super::run::HookRun;
use crate::hook::Hook;
use hooks_manifest::fixture::{CaseMeta, Fixture, Output, Outputs, Ran, find_cases, judge, pretty};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

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
    /// `CONFIG_VALUES_JSON_PATCH_PATH` (written only when the run changes config values).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_values_patch: Vec<Value>,
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

impl Case {
    /// Parses a case description.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        serde_yaml::from_str(text).map_err(|e| format!("case: {e}"))
    }

    /// Reads a fixture folder (`case.yaml`, `binding-context.json`, `values.json`,
    /// `config-values.json`, `expected/*.json`) as a case, with the one reader the host's
    /// `wasm-hooks test` uses ([`hooks_manifest::fixture`]).
    pub fn load_fixture(dir: &Path) -> Result<Self, String> {
        let fixture = Fixture::load(dir).map_err(|e| e.to_string())?;
        let json = |file: &str, text: &str| -> Result<Option<Value>, String> {
            if text.trim().is_empty() {
                return Ok(None);
            }
            serde_json::from_str(text)
                .map(Some)
                .map_err(|e| format!("{}: {e}", dir.join(file).display()))
        };
        let meta = fixture.case;
        let expected = &fixture.expected;
        Ok(Case {
            description: meta.description,
            hook: meta.hook,
            exit: meta.exit,
            stderr_contains: meta.stderr_contains,
            binding_context: json("binding-context.json", &fixture.binding_context)?,
            values: json("values.json", &fixture.values)?,
            config_values: json("config-values.json", &fixture.config_values)?,
            expected: Some(Expected {
                values_patch: expected.get(Output::ValuesPatch).to_vec(),
                config_values_patch: expected.get(Output::ConfigValuesPatch).to_vec(),
                kubernetes_patch: expected.get(Output::KubernetesPatch).to_vec(),
                metrics: expected.get(Output::Metrics).to_vec(),
            }),
            cluster: None,
            context: None,
        })
    }

    /// The case's `case.yaml` part.
    fn meta(&self) -> CaseMeta {
        CaseMeta {
            description: self.description.clone(),
            hook: self.hook.clone(),
            exit: self.exit,
            stderr_contains: self.stderr_contains.clone(),
            recorded: None,
        }
    }

    /// The expected documents as fixture outputs.
    fn expected_outputs(&self) -> Outputs {
        let expected = self.expected.clone().unwrap_or_default();
        let mut outputs = Outputs::default()
            .with(Output::ValuesPatch, expected.values_patch)
            .with(Output::KubernetesPatch, expected.kubernetes_patch)
            .with(Output::Metrics, expected.metrics);
        if !expected.config_values_patch.is_empty() {
            outputs.set(Output::ConfigValuesPatch, expected.config_values_patch);
        }
        outputs
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

    /// Runs the case natively and checks every expectation, exactly as `wasm-hooks test`
    /// judges the host's run ([`hooks_manifest::fixture::judge`]); the error lists each
    /// difference with a readable diff.
    pub fn check<H: Hook>(&self) -> Result<(), String> {
        let run = self.run::<H>()?;
        let got = Outputs::default()
            .with(Output::ValuesPatch, run.values_patch()?)
            .with(Output::ConfigValuesPatch, run.config_values_patch()?)
            .with(Output::KubernetesPatch, run.kubernetes_patch())
            .with(Output::Metrics, run.metrics()?);
        let ran = Ran {
            code: run.exit_code(),
            stderr: &run.stderr(),
            outputs: &got,
        };
        judge(&self.meta(), &self.expected_outputs(), ran)
    }

    /// Writes the case as a fixture folder `dir` for the host's `wasm-hooks test`, with
    /// the binding contexts made from the cluster and the expected files from the case.
    pub fn write_fixture<H: Hook>(&self, dir: &Path) -> Result<(), String> {
        let fixture = Fixture {
            case: self.meta(),
            binding_context: pretty(&self.contexts::<H>()?),
            values: pretty(&self.values()),
            config_values: pretty(&self.config_values()),
            expected: if self.exit == 0 {
                self.expected_outputs()
            } else {
                Outputs::default()
            },
        };
        fixture.write(dir).map_err(|e| e.to_string())
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
