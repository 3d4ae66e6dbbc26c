//! Shared helpers for the integration tests: run the real host binary the way Deckhouse
//! does, with fresh files named by environment variables.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use wasm_hooks::deckhouse::invoke::{Inputs, Invocation};

/// A cargo command started from a test in `dir`, as a developer would run it there: without
/// the outer build's target folder and flags.
pub fn nested_cargo(dir: &Path) -> std::process::Command {
    let mut cargo =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    cargo
}

/// The host binary cargo built for these tests.
pub const HOST: &str = env!("CARGO_BIN_EXE_wasm-hooks");

/// What one `hook run` produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub values_patch: String,
    pub config_values_patch: String,
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
        self.values_patch.is_empty()
            && self.config_values_patch.is_empty()
            && self.kubernetes_patch.is_empty()
            && self.metrics.is_empty()
    }
}

/// Runs `hook run <index>` with the given inputs, as Deckhouse does (one implementation:
/// `wasm_hooks::deckhouse::invoke`).
pub fn hook_run(
    hooks_dir: &Path,
    index: usize,
    binding_context: &str,
    values: &Value,
    config_values: &Value,
) -> Run {
    let inputs = Inputs {
        binding_context: binding_context.to_owned(),
        values: values.to_string(),
        config_values: config_values.to_string(),
    };
    let out = Invocation::new(HOST)
        .hooks_dir(hooks_dir)
        .hook_run(index, &inputs)
        .unwrap();
    Run {
        code: out.code,
        stdout: out.stdout,
        stderr: out.stderr,
        values_patch: out.outputs.values_patch,
        config_values_patch: out.outputs.config_values_patch,
        kubernetes_patch: out.outputs.kubernetes_patch,
        metrics: out.outputs.metrics,
    }
}

/// Runs the host with arguments in a clean environment plus `env`; returns (exit code,
/// stdout, stderr).
pub fn host(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut invocation = Invocation::new(HOST);
    invocation.env = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let out = invocation.plain(args).unwrap();
    (out.code, out.stdout, out.stderr)
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
