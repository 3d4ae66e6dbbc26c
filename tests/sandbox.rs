//! A guest can never exceed what it was granted: no filesystem, network or environment,
//! CPU and memory bounded, every trap a clear error naming the guest, and no output
//! written by a failed run. Uses the hostile guest `tests/guests/misbehave-hook`.

mod common;

use common::{Run, hook_run};
use serde_json::{Value, json};
use std::path::Path;

const GRANTS: &str = r#"
module: { name: probe, valuesKey: probe }
guests:
  - name: misbehave
    component: misbehave_hook.wasm
    world: hook
    limits: { timeoutMs: 500, memoryMiB: 32 }
    grants:
      - verbs: [get, list]
        apiVersion: v1
        kind: ConfigMap
        namespace: probe-ns
        names: [probe]
"#;

fn hooks() -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, dir) = common::hooks_copy();
    std::fs::write(dir.join("grants.yaml"), GRANTS).unwrap();
    (tmp, dir)
}

fn run_mode(dir: &Path, mode: &str) -> Run {
    let bc = json!([{"binding": "beforeHelm", "snapshots": {"state": [{"object": {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe", "namespace": "probe-ns"}, "data": {"state": "x"}}}]}}]);
    hook_run(
        dir,
        0,
        &bc.to_string(),
        &json!({"probe": {}}),
        &json!({"misbehave": {"mode": mode}}),
    )
}

/// The probe the guest reported through its values patch.
fn probe(run: &Run) -> Value {
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ops = run.values_ops();
    let op = ops
        .iter()
        .find(|o| o["path"] == "/probe/internal/probe")
        .expect("probe op");
    op["value"].clone()
}

fn assert_failed(run: &Run, needles: &[&str]) {
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    for n in needles {
        assert!(run.stderr.contains(n), "stderr lacks {n:?}: {}", run.stderr);
    }
    assert!(run.wrote_nothing(), "a failed run wrote output");
}

#[test]
fn a_well_behaved_run_writes_its_outputs() {
    let (_t, dir) = hooks();
    let run = run_mode(&dir, "ok");
    assert_eq!(probe(&run)["result"]["Ok"], "fine");
    assert_eq!(
        run.values_ops()[0],
        json!({"op": "add", "path": "/probe/internal", "value": {}})
    );
}

#[test]
fn no_filesystem() {
    let (_t, dir) = hooks();
    for mode in ["read-file", "list-dir"] {
        let p = probe(&run_mode(&dir, mode));
        assert!(p["result"].get("Err").is_some(), "{mode}: {p}");
    }
}

#[test]
fn no_environment_or_args() {
    let (_t, dir) = hooks();
    let p = probe(&run_mode(&dir, "env"));
    assert_eq!(p["result"]["Ok"], "[] []", "{p}");
}

#[test]
fn no_network() {
    let (_t, dir) = hooks();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let p = probe(&run_mode(&dir, "network"));
    assert!(p["result"].get("Err").is_some(), "{p}");
    drop(listener);
}

#[test]
fn kubernetes_beyond_grants_is_forbidden_and_audited() {
    let (_t, dir) = hooks();
    let run = run_mode(&dir, "forbidden-get");
    let p = probe(&run);
    let msg = p["result"]["Ok"]
        .as_str()
        .or(p["result"]["Err"].as_str())
        .unwrap();
    assert!(
        msg.starts_with("forbidden: misbehave may not get Secret kube-system/admin-token"),
        "{p}"
    );
    let audit = run
        .stderr
        .lines()
        .find(|l| l.contains("\"audit\":true"))
        .expect("audit line");
    let audit: Value = serde_json::from_str(audit).unwrap();
    assert_eq!(audit["guest"], "misbehave");
    assert_eq!(audit["verb"], "get");
}

#[test]
fn granted_reads_are_served_from_the_snapshots() {
    let (_t, dir) = hooks();
    let p = probe(&run_mode(&dir, "granted-get"));
    let object: Value = serde_json::from_str(p["result"]["Ok"].as_str().unwrap()).unwrap();
    assert_eq!(object["data"]["state"], "x");
}

#[test]
fn a_cpu_hog_hits_its_deadline() {
    let (_t, dir) = hooks();
    assert_failed(
        &run_mode(&dir, "loop"),
        &["guest misbehave exceeded its CPU deadline of 500 ms"],
    );
}

#[test]
fn a_memory_hog_hits_its_limit() {
    let (_t, dir) = hooks();
    assert_failed(
        &run_mode(&dir, "oom"),
        &["guest misbehave exceeded its memory limit of 32 MiB"],
    );
}

#[test]
fn a_panic_shows_its_message() {
    let (_t, dir) = hooks();
    assert_failed(
        &run_mode(&dir, "panic"),
        &[
            "guest misbehave panicked",
            "deliberate panic in misbehave-hook",
        ],
    );
}

#[test]
fn a_guest_error_fails_the_run_without_output() {
    let (_t, dir) = hooks();
    assert_failed(
        &run_mode(&dir, "error"),
        &["guest misbehave failed: the guest says no"],
    );
}

#[test]
fn invalid_guest_output_is_rejected() {
    let (_t, dir) = hooks();
    assert_failed(
        &run_mode(&dir, "bad-values-op"),
        &[
            "guest misbehave returned an invalid values op",
            "/internal/x",
        ],
    );
}

#[test]
fn a_file_that_is_not_a_component_is_a_clear_error() {
    let (_t, dir) = hooks();
    std::fs::write(dir.join("misbehave_hook.wasm"), b"\0asm not really").unwrap();
    assert_failed(
        &run_mode(&dir, "ok"),
        &[
            "guest misbehave: cannot load component",
            "misbehave_hook.wasm",
        ],
    );
}

#[test]
fn a_binding_beyond_read_grants_is_refused_at_config_time() {
    let (_t, dir) = hooks();
    let narrowed = GRANTS.replace("names: [probe]", "names: [something-else]");
    std::fs::write(dir.join("grants.yaml"), narrowed).unwrap();
    let (code, _, stderr) = common::host(
        &["--hooks-dir", dir.to_str().unwrap(), "hook", "config"],
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("binding \\\"state\\\" watches ConfigMap (v1) beyond its grants"),
        "{stderr}"
    );
}
