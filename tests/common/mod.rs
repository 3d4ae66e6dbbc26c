//! Shared helpers for the integration tests: run the real host binary the way Deckhouse
//! does, with fresh files named by environment variables.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The host binary cargo built for these tests.
pub const HOST: &str = env!("CARGO_BIN_EXE_wasm-hooks");

/// What one `hook run` produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub values_patch: String,
    pub kubernetes_patch: String,
    pub metrics: String,
}

impl Run {
    /// The values patch as JSON (empty file: empty list).
    pub fn values_ops(&self) -> Vec<Value> {
        if self.values_patch.trim().is_empty() {
            vec![]
        } else {
            serde_json::from_str(&self.values_patch).expect("values patch is JSON")
        }
    }
    /// The NDJSON object operations.
    pub fn object_ops(&self) -> Vec<Value> {
        self.kubernetes_patch
            .lines()
            .map(|l| serde_json::from_str(l).expect("NDJSON line"))
            .collect()
    }
    /// True when the run wrote nothing at all.
    pub fn wrote_nothing(&self) -> bool {
        self.values_patch.is_empty() && self.kubernetes_patch.is_empty() && self.metrics.is_empty()
    }
}

/// Runs `hook run <index>` with the given inputs in a clean environment.
pub fn hook_run(
    hooks_dir: &Path,
    index: usize,
    binding_context: &str,
    values: &Value,
    config_values: &Value,
) -> Run {
    let work = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let p = work.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let out = Command::new(HOST)
        .env_clear()
        .arg("--hooks-dir")
        .arg(hooks_dir)
        .args(["hook", "run", &index.to_string()])
        .env("BINDING_CONTEXT_PATH", file("bc.json", binding_context))
        .env("VALUES_PATH", file("values.json", &values.to_string()))
        .env(
            "CONFIG_VALUES_PATH",
            file("config.json", &config_values.to_string()),
        )
        .env("VALUES_JSON_PATCH_PATH", file("values-patch", ""))
        .env("KUBERNETES_PATCH_PATH", file("kube-patch", ""))
        .env("METRICS_PATH", file("metrics", ""))
        .output()
        .unwrap();
    let read = |n: &str| std::fs::read_to_string(work.path().join(n)).unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
        values_patch: read("values-patch"),
        kubernetes_patch: read("kube-patch"),
        metrics: read("metrics"),
    }
}

/// Runs the host with arguments; returns (exit code, stdout, stderr).
pub fn host(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(HOST)
        .env_clear()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A private copy of the built hooks folder, for tests that change files in it.
pub fn hooks_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("wasm-guests");
    guest_artifacts::copy_hooks_dir(&dir).unwrap();
    (tmp, dir)
}

/// The index of a hook in `hook list` of a hooks folder.
pub fn hook_index(hooks_dir: &Path, name: &str) -> usize {
    let (code, stdout, stderr) = host(
        &["--hooks-dir", hooks_dir.to_str().unwrap(), "hook", "list"],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    stdout
        .lines()
        .skip(1)
        .find_map(|l| {
            l.split_once(" - ")
                .filter(|(_, n)| *n == name)
                .map(|(i, _)| i.parse().unwrap())
        })
        .unwrap_or_else(|| panic!("hook {name} not in {stdout}"))
}

/// Validates `instance` against a JSON schema file of tests/schemas.
pub fn assert_valid(schema_file: &str, instance: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/schemas")
        .join(schema_file);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{schema_file}: {errors:#?}\n{instance:#}"
    );
}
