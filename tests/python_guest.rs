//! A second language: the state-sync hook written in Python (`guests-py/state-sync`, built
//! with componentize-py) against the same `wit/hooks.wit`, run by the same host binary
//! with the same grants, passes the Rust guest's golden fixtures and declares the same
//! bindings. The contract is the product, not the Rust.
//!
//! The component is built by `guests-py/build.sh`, which installs its toolchain on first
//! use. A machine that cannot install it fails these tests: they never skip.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const HOOK: &str = "control-plane-migration-state-sync";

fn root() -> PathBuf {
    guest_artifacts::root()
}

/// Runs `guests-py/build.sh` with `args`, failing the test with its output.
fn build_script(args: &[&str]) -> String {
    let out = Command::new("bash")
        .arg(root().join("guests-py/build.sh"))
        .args(args)
        .output()
        .expect("cannot run bash");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "guests-py/build.sh {args:?} failed; the Python guest's toolchain (python3 with venv, componentize-py from PyPI) must install here, this test does not skip\n{stdout}\n{stderr}"
    );
    format!("{stdout}{stderr}")
}

/// The Python component, built once per test binary.
fn component() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("guests-py/state_sync_py.wasm");
        build_script(&[out.to_str().unwrap()]);
        out
    })
}

/// The component cache the tests share: the Python component is compiled once (a debug
/// host compiles its ~20 MB for tens of seconds), and kept across runs (keyed by content).
fn cache() -> &'static Path {
    static FILLED: OnceLock<PathBuf> = OnceLock::new();
    FILLED.get_or_init(|| {
        let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("guests-py/cache");
        let (_tmp, dir) = python_hooks_dir();
        let (ok, _, stderr) = host_in(&dir, &cache, &["precompile"]);
        assert!(ok, "precompiling the Python guest failed:\n{stderr}");
        cache
    })
}

/// A hooks folder whose state-sync entry runs the Python component: the repository's
/// grants.yaml with `guests-py/state-sync/grants-entry.yaml` applied, and the Rust
/// component removed, so nothing can fall back to it.
fn python_hooks_dir() -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = common::hooks_copy();
    let grants = std::fs::read_to_string(dir.join("grants.yaml")).unwrap();
    let entry =
        std::fs::read_to_string(root().join("guests-py/state-sync/grants-entry.yaml")).unwrap();
    std::fs::write(dir.join("grants.yaml"), apply_entry(&grants, &entry)).unwrap();
    let entry: serde_yaml::Value = serde_yaml::from_str(&entry).unwrap();
    let file = entry["component"]
        .as_str()
        .expect("grants-entry.yaml names the component");
    std::fs::copy(component(), dir.join(file)).unwrap();
    std::fs::remove_file(dir.join("guest_hook.wasm")).unwrap();
    (tmp, dir)
}

/// Replaces the keys of the guest entry named like `entry`'s `name` with `entry`'s.
fn apply_entry(grants: &str, entry: &str) -> String {
    let mut manifest: serde_yaml::Value = serde_yaml::from_str(grants).unwrap();
    let entry: serde_yaml::Mapping = serde_yaml::from_str(entry).unwrap();
    let guests = manifest["guests"]
        .as_sequence_mut()
        .expect("grants.yaml has a guests list");
    let target = guests
        .iter_mut()
        .find(|g| g["name"] == entry["name"])
        .expect("grants.yaml has the entry's guest");
    for (key, value) in entry {
        target[key] = value;
    }
    serde_yaml::to_string(&manifest).unwrap()
}

/// Runs the host on `hooks_dir` with the shared cache.
fn host(hooks_dir: &Path, args: &[&str]) -> (bool, String, String) {
    host_in(hooks_dir, cache(), args)
}

fn host_in(hooks_dir: &Path, cache: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(common::HOST)
        .arg("--hooks-dir")
        .arg(hooks_dir)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .env("UPDATE_GOLDEN", "false")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn python_guest_passes_the_rust_guests_golden_fixtures() {
    let (_tmp, dir) = python_hooks_dir();
    let cases = root().join("tests/fixtures/hooks").join(HOOK);
    let count = std::fs::read_dir(&cases)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("case.yaml").is_file())
        .count();
    assert!(
        count >= 20,
        "expected the state-sync hook's fixture cases in {}",
        cases.display()
    );
    let (ok, stdout, stderr) = host(&dir, &["test", cases.to_str().unwrap()]);
    assert!(
        ok,
        "the Python guest fails golden cases:\n{stdout}\n{stderr}"
    );
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{count} passed, 0 failed").as_str()),
        "{stdout}"
    );
}

#[test]
fn python_guest_declares_the_same_bindings_as_the_rust_guest() {
    let (_tmp, dir) = python_hooks_dir();
    let config = |dir: &Path| {
        let (ok, stdout, stderr) = host(dir, &["hook", "config"]);
        assert!(ok, "hook config failed:\n{stderr}");
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()
    };
    let (python, rust) = (config(&dir), config(&guest_artifacts::hooks_dir()));
    assert_eq!(
        python, rust,
        "hook config differs between the Python and the Rust guest"
    );
    assert!(python.to_string().contains(HOOK), "{python}");
}

#[test]
fn python_guest_memory_limit_is_enforced() {
    let (_tmp, dir) = python_hooks_dir();
    let grants = std::fs::read_to_string(dir.join("grants.yaml")).unwrap();
    let tight = apply_entry(
        &grants,
        &format!("name: {HOOK}\nlimits: {{timeoutMs: 2000, memoryMiB: 8}}\n"),
    );
    std::fs::write(dir.join("grants.yaml"), tight).unwrap();
    let case = root()
        .join("tests/fixtures/hooks")
        .join(HOOK)
        .join("row-stage1-started");
    let (ok, stdout, _) = host(&dir, &["test", case.to_str().unwrap()]);
    // CPython starts with ~13 MiB of linear memory, so 8 MiB cannot even instantiate it.
    assert!(
        !ok && stdout
            .contains("exceeded its memory limit of 8 MiB (limits.memoryMiB in grants.yaml")
            && stdout.ends_with("0 passed, 1 failed\n"),
        "{stdout}"
    );
}

#[test]
fn python_unit_tests_pass() {
    let out = build_script(&["--test"]);
    assert!(out.contains("\nOK"), "{out}");
}
