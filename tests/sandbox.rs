//! A guest can never exceed what it was granted: no filesystem, network or environment,
//! wall-clock time (sleeps included), memory and every output budget bounded, every trap
//! a clear error naming the guest and its cause, and no output written by a failed run.
//! Uses the hostile guests `tests/guests/misbehave-hook` (driven by `mode` in its input,
//! and for `config`, which has no input, by a marker patched into its bytes) and
//! `tests/guests/misbehave-render`, and components built here that a Rust guest cannot
//! emit (`common/hostile.rs`).

mod common;
#[path = "common/hostile.rs"]
mod hostile;

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
    metrics: { prefix: d8_probe_ }
    grants:
      - verbs: [get, list, create]
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

/// The `wasi` field of each "guest prepared" debug line of `hook config` over `dir`.
fn wasi_linked(dir: &Path) -> Vec<(String, String)> {
    let (code, _, stderr) = common::host(
        &["--hooks-dir", dir.to_str().unwrap(), "hook", "config"],
        &[("LOG_LEVEL", "debug")],
    );
    assert_eq!(code, 0, "{stderr}");
    stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["msg"] == "guest prepared")
        .map(|l| {
            (
                l["guest"].as_str().unwrap().into(),
                l["wasi"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn a_guest_is_linked_only_the_wasi_it_imports_unless_it_needs_files_or_sockets() {
    // The shipped Rust guests import only stdio, environment and exit (the render planner
    // nothing), so their linkers get just those interfaces.
    let shipped = wasi_linked(&guest_artifacts::hooks_dir());
    assert_eq!(shipped.len(), 2, "{shipped:?}");
    assert!(
        shipped.iter().all(|(_, wasi)| wasi == "Imported"),
        "{shipped:?}"
    );
    // The misbehaving guest imports the filesystem and sockets (to show they fail), so it
    // gets all of WASI, linked by wasmtime-wasi itself; no_filesystem and no_network show
    // that changes nothing it can reach.
    let (_t, dir) = hooks();
    assert_eq!(wasi_linked(&dir), [("misbehave".into(), "All".into())]);
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
        &["guest misbehave exceeded its wall-clock deadline of 500 ms"],
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

/// The error a guest's call returned, as the guest reported it in its probe.
fn probe_error(run: &Run) -> String {
    probe(run)["result"]["Err"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in the probe: {}", run.stderr))
        .to_owned()
}

#[test]
fn a_sleeping_guest_is_stopped_at_its_deadline() {
    // The guest asks for a 30 s WASI sleep; without the bound it would wake and succeed.
    let (_t, dir) = hooks();
    assert_failed(
        &run_mode(&dir, "sleep"),
        &[
            "guest misbehave exceeded its wall-clock deadline of 500 ms (limits.timeoutMs in grants.yaml; time blocked in host calls and sleeps counts too; raise limits.timeoutMs if the guest needs longer) (in run)",
        ],
    );
}

#[test]
fn trap_messages_keep_their_cause() {
    let (_t, dir) = hooks();
    for (mode, needle) in [
        ("stack-overflow", "guest misbehave overflowed its stack"),
        (
            "abort",
            "guest misbehave aborted (reached an `unreachable` instruction",
        ),
        // wasi:cli/exit of WASI 0.2 carries only success or failure: exit(3) arrives as 1.
        (
            "exit",
            "guest misbehave exited with status 1 instead of returning",
        ),
    ] {
        assert_failed(&run_mode(&dir, mode), &[needle]);
    }
}

#[test]
fn a_stdout_flood_is_cut_and_never_fails_the_guest_or_host() {
    let (_t, dir) = hooks();
    let run = run_mode(&dir, "stdout-flood");
    assert_eq!(probe(&run)["result"]["Ok"], "printed", "{}", run.stderr);
    for stream in ["stdout", "stderr"] {
        let marker = run
            .stderr
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| {
                l["stream"] == stream
                    && l["msg"]
                        .as_str()
                        .unwrap()
                        .starts_with("guest output truncated")
            })
            .unwrap_or_else(|| panic!("no truncation line for {stream}"));
        assert_eq!(
            marker["msg"],
            "guest output truncated: 983040 more bytes past the first 65536 were dropped"
        );
    }
    assert!(!run.stderr.contains("Broken pipe"));
}

#[test]
fn values_output_budgets_fail_the_run_naming_budget_and_limit() {
    let (_t, dir) = hooks();
    assert_failed(
        &run_mode(&dir, "deep-values-path"),
        &[
            "guest misbehave exceeded its values path length budget: 20000 characters in /a/a/a",
            "(limit 1024 characters, limits.maxValuesPathLength in grants.yaml)",
        ],
    );
    assert_failed(
        &run_mode(&dir, "many-values-ops"),
        &[
            "guest misbehave exceeded its values operations budget: 5000 (limit 1000, limits.maxValuesOps in grants.yaml)",
        ],
    );
    // A budget raised in grants.yaml is honoured.
    let raised = GRANTS.replace("memoryMiB: 32 }", "memoryMiB: 32, maxValuesOps: 6000 }");
    std::fs::write(dir.join("grants.yaml"), raised).unwrap();
    let run = run_mode(&dir, "many-values-ops");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.values_ops().len(), 5001, "the parent and every op");
}

#[test]
fn a_huge_guest_error_is_cut() {
    let (_t, dir) = hooks();
    let run = run_mode(&dir, "huge-error");
    assert_failed(
        &run,
        &["guest misbehave failed: eeee", "…[truncated 1044579 bytes]"],
    );
    assert!(
        !run.stderr.contains("eEND") && run.stderr.len() < 64 * 1024,
        "{} bytes",
        run.stderr.len()
    );
}

#[test]
fn guest_logs_are_bounded_and_nested() {
    let (_t, dir) = hooks();
    let run = run_mode(&dir, "log-flood");
    assert_eq!(probe(&run)["result"]["Ok"], "logged");
    let lines: Vec<Value> = run
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let pretender = lines
        .iter()
        .find(|l| l["msg"] == "pretender")
        .expect("pretender line");
    assert_eq!(
        pretender["fields"],
        json!({"audit": "true", "hook": "other", "level": "error"})
    );
    assert!(pretender.get("audit").is_none() && pretender.get("hook").is_none());
    assert_eq!(pretender["level"], "info");
    assert!(lines.iter().any(|l| l["msg"]
        == "guest log budget spent; its further lines in this run are dropped"
        && l["limit"] == "1048576 bytes (limits.maxLogBytes)"));
    let guest_lines = lines.iter().filter(|l| l["guest"] == "misbehave").count();
    assert!(guest_lines < 1100, "{guest_lines} guest lines got through");
    assert!(
        run.stderr.len() < 2 << 20,
        "{} bytes of log",
        run.stderr.len()
    );
}

#[test]
fn metrics_outside_the_grant_fail_the_run() {
    let (_t, dir) = hooks();
    assert_failed(
        &run_mode(&dir, "metric-outside-grant"),
        &[
            "guest misbehave returned an invalid metric: group",
            "kube_state",
            "is outside the guest's metrics grant (prefix",
        ],
    );
    let run = run_mode(&dir, "values-and-metric");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.metrics.contains("d8_probe_runs"));
}

#[test]
fn forbidden_calls_are_audited_up_to_a_budget() {
    let (_t, dir) = hooks();
    let run = run_mode(&dir, "forbidden-flood");
    assert_eq!(
        probe_error(&run),
        "limit-exceeded: misbehave made 100 forbidden calls in this run (limits.maxAuditLines); no further calls are answered"
    );
    let audits = run
        .stderr
        .lines()
        .filter(|l| l.contains("\"audit\":true"))
        .count();
    assert_eq!(audits, 100);
}

#[test]
fn oversized_names_are_invalid_before_the_audit_line() {
    let (_t, dir) = hooks();
    let run = run_mode(&dir, "huge-name");
    assert_eq!(
        probe_error(&run),
        "invalid: name is 1048576 characters long; Kubernetes allows at most 253"
    );
    assert!(
        run.stderr.len() < 16 * 1024,
        "{} bytes of log",
        run.stderr.len()
    );
}

#[test]
fn queued_writes_are_bounded() {
    let (_t, dir) = hooks();
    // 1,000 creates take longer than 500 ms in a debug build; only the write budget is tested.
    let slower = GRANTS.replace("timeoutMs: 500", "timeoutMs: 60000");
    std::fs::write(dir.join("grants.yaml"), slower).unwrap();
    let run = run_mode(&dir, "many-writes");
    assert_eq!(
        probe_error(&run),
        "limit-exceeded: a hook run may queue at most 1000 object operations (limits.maxObjectOps)"
    );
    assert_eq!(run.object_ops().len(), 1000);
}

#[test]
fn an_unwritable_metrics_path_leaves_the_values_patch_unwritten() {
    let (_t, dir) = hooks();
    let work = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let p = work.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let bc = json!([{"binding": "beforeHelm", "snapshots": {}}]).to_string();
    let values_patch = file("values-patch", "");
    let out = std::process::Command::new(common::HOST)
        .env_clear()
        .args(["--hooks-dir", dir.to_str().unwrap(), "hook", "run", "0"])
        .env("BINDING_CONTEXT_PATH", file("bc.json", &bc))
        .env("VALUES_PATH", file("values.json", r#"{"probe": {}}"#))
        .env(
            "CONFIG_VALUES_PATH",
            file(
                "config.json",
                r#"{"misbehave": {"mode": "values-and-metric"}}"#,
            ),
        )
        .env("VALUES_JSON_PATCH_PATH", &values_patch)
        .env("KUBERNETES_PATCH_PATH", file("kube-patch", ""))
        .env("METRICS_PATH", work.path().join("no-such-folder/metrics"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no-such-folder/metrics"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&values_patch).unwrap(),
        "",
        "values patch written"
    );
}

#[test]
fn an_oversized_binding_context_is_refused_naming_file_and_limit() {
    let (_t, dir) = hooks();
    let huge = format!("[{}]", " ".repeat(33 << 20));
    let run = hook_run(&dir, 0, &huge, &json!({"probe": {}}), &json!({}));
    assert_failed(
        &run,
        &[
            "cannot read binding context from",
            "binding-context.json: it is larger than the limit of 33554432 bytes",
        ],
    );
}

#[test]
fn grants_yaml_is_bounded_and_confines_components() {
    let (_t, dir) = hooks();
    let list =
        |dir: &Path| common::host(&["--hooks-dir", dir.to_str().unwrap(), "hook", "list"], &[]);
    std::fs::write(
        dir.join("grants.yaml"),
        format!("module: {}\n", "[".repeat(50_000)),
    )
    .unwrap();
    let (code, _, stderr) = list(&dir);
    assert_eq!(code, 1);
    assert!(stderr.contains("grants.yaml: line 1 nests "));
    assert!(
        stderr.contains("levels deep, beyond the limit of 32"),
        "{stderr}"
    );
    for (component, needle) in [
        (
            "../misbehave_hook.wasm",
            "component ../misbehave_hook.wasm leaves the hooks folder",
        ),
        ("/etc/passwd", "component /etc/passwd is absolute"),
    ] {
        std::fs::write(
            dir.join("grants.yaml"),
            GRANTS.replace("misbehave_hook.wasm", component),
        )
        .unwrap();
        let (code, _, stderr) = list(&dir);
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
    let outside = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.join("misbehave_hook.wasm"),
        outside.path().join("m.wasm"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path().join("m.wasm"), dir.join("link.wasm")).unwrap();
    std::fs::write(
        dir.join("grants.yaml"),
        GRANTS.replace("misbehave_hook.wasm", "link.wasm"),
    )
    .unwrap();
    let (code, _, stderr) = list(&dir);
    assert_eq!(code, 1);
    assert!(stderr.contains("(a symlink out)"), "{stderr}");
}

#[test]
fn an_untrusted_cache_is_not_loaded() {
    use std::os::unix::fs::PermissionsExt;
    let (_t, dir) = hooks();
    let cache = dir.join(".cache");
    let run = |dir: &Path| {
        let run = run_mode(dir, "ok");
        assert_eq!(run.code, 0, "{}", run.stderr);
        run
    };
    run(&dir); // fills the cache
    let entry = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .expect("a cache entry");
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
    let second = run(&dir);
    assert!(
        second
            .stderr
            .contains("precompiled component is not trusted; rebuilding it"),
        "{}",
        second.stderr
    );
    assert!(
        second
            .stderr
            .contains("is writable by group or others (mode 666)"),
        "{}",
        second.stderr
    );
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let third = run(&dir);
    assert!(
        third
            .stderr
            .contains("component cache folder is not trusted; compiling in memory"),
        "{}",
        third.stderr
    );
}

/// The message of the host's final error line (its log is JSON lines on stderr).
fn error_message(stderr: &str) -> String {
    stderr
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["level"] == "error")
        .and_then(|l| l["msg"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no error line in {stderr}"))
}

fn hook_config(dir: &Path) -> (i32, String, String) {
    common::host(
        &["--hooks-dir", dir.to_str().unwrap(), "hook", "config"],
        &[],
    )
}

/// Makes the misbehave component's `config` run in `mode`: overwrites the marker its
/// source keeps for that (`CONFIG_MODE` in tests/guests/misbehave-hook) in place.
fn patch_config_mode(dir: &Path, mode: &str) {
    const MARKER: &[u8] = b"misbehave-config-mode:ok________________________";
    let path = dir.join("misbehave_hook.wasm");
    let mut bytes = std::fs::read(&path).unwrap();
    let found: Vec<usize> = bytes
        .windows(MARKER.len())
        .enumerate()
        .filter(|(_, w)| *w == MARKER)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "the marker is in the component exactly once"
    );
    let mut patched = format!("misbehave-config-mode:{mode}").into_bytes();
    assert!(patched.len() <= MARKER.len(), "mode {mode} is too long");
    patched.resize(MARKER.len(), b'_');
    bytes[found[0]..found[0] + MARKER.len()].copy_from_slice(&patched);
    std::fs::write(&path, bytes).unwrap();
}

#[test]
fn a_busy_loop_spends_its_cpu_budget_before_its_deadline() {
    let (_t, dir) = hooks();
    let grants = GRANTS.replace("timeoutMs: 500", "timeoutMs: 60000, cpuMs: 300");
    std::fs::write(dir.join("grants.yaml"), grants).unwrap();
    let run = run_mode(&dir, "loop");
    assert_failed(
        &run,
        &[
            "guest misbehave exceeded its CPU budget of 300 ms (",
            "ms of CPU time used; limits.cpuMs in grants.yaml: CPU time of one call, apart from its wall-clock deadline limits.timeoutMs of 60000 ms; raise limits.cpuMs if the guest needs more, or make it do less per call) (in run)",
        ],
    );
    assert!(
        !run.stderr.contains("wall-clock deadline of"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_sleeping_guest_meets_its_deadline_not_its_cpu_budget() {
    let (_t, dir) = hooks();
    let grants = GRANTS.replace("timeoutMs: 500", "timeoutMs: 500, cpuMs: 100");
    std::fs::write(dir.join("grants.yaml"), grants).unwrap();
    let run = run_mode(&dir, "sleep");
    assert_failed(
        &run,
        &[
            "guest misbehave exceeded its wall-clock deadline of 500 ms (limits.timeoutMs in grants.yaml",
        ],
    );
    assert!(!run.stderr.contains("CPU budget"), "{}", run.stderr);
}

#[test]
fn guest_stdout_is_logged_once_per_call() {
    // `config` prints one line; `hook run` calls `config` and then `run`.
    let (_t, dir) = hooks();
    let run = run_mode(&dir, "ok");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed: Vec<Value> = run
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["msg"] == "misbehave-hook config called")
        .collect();
    assert_eq!(printed.len(), 1, "{}", run.stderr);
    assert_eq!(printed[0]["stream"], "stdout");
    assert_eq!(printed[0]["guest"], "misbehave");
}

#[test]
fn a_huge_hook_config_is_refused_by_the_result_budget() {
    let (_t, dir) = hooks();
    patch_config_mode(&dir, "huge-config");
    let budget = "guest misbehave exceeded its call result size budget: more than 1048576 bytes returned by config (limit 1048576 bytes, limits.maxResultBytes in grants.yaml)";
    let (code, stdout, stderr) = hook_config(&dir);
    assert_eq!((code, stdout.as_str()), (1, ""), "{stderr}");
    assert_eq!(error_message(&stderr), budget);
    let run = run_mode(&dir, "ok");
    assert_failed(&run, &[]);
    assert_eq!(error_message(&run.stderr), budget);
    // Raised in grants.yaml, the budget lets it through to the next check (its grants).
    let raised = GRANTS.replace(
        "memoryMiB: 32 }",
        "memoryMiB: 32, maxResultBytes: 8388608 }",
    );
    std::fs::write(dir.join("grants.yaml"), raised).unwrap();
    let (code, _, stderr) = hook_config(&dir);
    assert_eq!(code, 1);
    assert!(
        error_message(&stderr)
            .ends_with("beyond its grants; grant `list` on exactly those objects in grants.yaml"),
        "{stderr}"
    );
}

const RENDER_GRANTS: &str = r#"
module: { name: probe, valuesKey: probe }
guests:
  - name: misbehave-render
    component: misbehave_render.wasm
    world: render
"#;

#[test]
fn render_results_are_bounded() {
    let (_t, dir) = hooks();
    std::fs::write(dir.join("grants.yaml"), RENDER_GRANTS).unwrap();
    let bc = json!([{"binding": "beforeHelm"}]).to_string();
    let render = |mode: &str| {
        hook_run(
            &dir,
            0,
            &bc,
            &json!({"probe": {"misbehave": {"mode": mode}}}),
            &json!({}),
        )
    };
    let ok = render("ok");
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(
        ok.values_patch.contains("renderPlan"),
        "{}",
        ok.values_patch
    );
    for (mode, call) in [("huge-plan", "plan"), ("huge-input", "input-from-values")] {
        let run = render(mode);
        assert_failed(&run, &[]);
        assert_eq!(
            error_message(&run.stderr),
            format!(
                "guest misbehave-render exceeded its call result size budget: more than 1048576 bytes returned by {call} (limit 1048576 bytes, limits.maxResultBytes in grants.yaml)"
            )
        );
    }
}

#[test]
fn jq_filters_outside_the_policy_are_refused_through_every_entry() {
    for (mode, filter, reason) in [
        ("jq-env", "$ENV", "`$ENV` is not allowed"),
        ("jq-range", "[range(1e12)] | length", "1000000000000"),
        ("jq-input", "input", "`input` is not allowed"),
        ("jq-debug", "debug", "`debug` is not allowed"),
    ] {
        let (_t, dir) = hooks();
        patch_config_mode(&dir, mode);
        let dir_arg = dir.to_str().unwrap();
        let refused = format!(
            "guest misbehave: binding \"state\": jqFilter {filter:?} is outside the host's jq policy: "
        );
        let check = |what: &str, (code, stdout, stderr): (i32, String, String)| {
            assert_eq!((code, stdout.as_str()), (1, ""), "{what} {mode}: {stderr}");
            let message = error_message(&stderr);
            assert!(
                message.starts_with(&refused) && message.contains(reason),
                "{what} {mode}: {message}"
            );
        };
        check("hook config", hook_config(&dir));
        check(
            "--config",
            common::host(&["--hooks-dir", dir_arg, "--config"], &[]),
        );
        // `test` on a case that expects the hook to succeed: it must fail, showing why.
        let case = dir.join("case");
        std::fs::create_dir(&case).unwrap();
        for (file, text) in [
            ("case.yaml", "hook: misbehave\n".to_owned()),
            (
                "binding-context.json",
                json!([{"binding": "beforeHelm"}]).to_string(),
            ),
            ("values.json", json!({"probe": {}}).to_string()),
            ("config-values.json", json!({}).to_string()),
        ] {
            std::fs::write(case.join(file), text).unwrap();
        }
        let (code, stdout, stderr) = common::host(
            &["--hooks-dir", dir_arg, "test", case.to_str().unwrap()],
            &[],
        );
        assert_eq!(code, 1, "test {mode}: {stdout} {stderr}");
        assert!(
            stdout.contains("FAILED") && stdout.contains("0 passed, 1 failed"),
            "{stdout}"
        );
        let shown = serde_json::to_string(&refused).unwrap();
        assert!(
            stdout.contains(shown.trim_matches('"')),
            "test {mode} does not show {shown}: {stdout}"
        );
    }
}

/// Grants for a hostile component in place of the misbehave guest.
fn hostile_hooks(component: hostile::Hostile) -> (tempfile::TempDir, std::path::PathBuf) {
    let (t, dir) = hooks();
    std::fs::write(dir.join("hostile.wasm"), hostile::component(component)).unwrap();
    std::fs::write(
        dir.join("grants.yaml"),
        GRANTS.replace("misbehave_hook.wasm", "hostile.wasm"),
    )
    .unwrap();
    (t, dir)
}

/// `hook config` and `hook run` both fail with an error holding every needle, and write
/// nothing.
fn assert_refused_everywhere(dir: &Path, needles: &[&str]) {
    let (code, stdout, stderr) = hook_config(dir);
    assert_eq!((code, stdout.as_str()), (1, ""), "{stderr}");
    let run = run_mode(dir, "ok");
    assert_failed(&run, &[]);
    for (command, message) in [
        ("hook config", error_message(&stderr)),
        ("hook run", error_message(&run.stderr)),
    ] {
        for needle in needles {
            assert!(message.contains(needle), "{command}: {message}");
        }
    }
}

#[test]
fn a_benign_hostile_component_runs() {
    // The builder's baseline: the same component without hostility passes both commands,
    // so each refusal below is the limiter's doing.
    let (_t, dir) = hostile_hooks(hostile::Hostile::default());
    let (code, stdout, stderr) = hook_config(&dir);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"hooks\""), "{stdout}");
    let run = run_mode(&dir, "ok");
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn many_memories_share_one_memory_limit() {
    // Three 16 MiB memories besides the first: each within 32 MiB, together past it.
    let (_t, dir) = hostile_hooks(hostile::Hostile {
        extra_memories: 3,
        extra_memory_pages: 256,
        ..Default::default()
    });
    assert_refused_everywhere(
        &dir,
        &[
            "guest misbehave exceeded its memory limit of 32 MiB (limits.memoryMiB in grants.yaml: all memories and tables of the guest together; memory and tables of the whole store would reach ",
        ],
    );
}

#[test]
fn one_huge_table_grow_is_refused() {
    let (_t, dir) = hostile_hooks(hostile::Hostile {
        grow_table_in_config: 1 << 27,
        ..Default::default()
    });
    // 2^27 elements of 16 bytes, plus the one 64 KiB page of the first memory: far past
    // the 32 MiB that memories and tables share.
    assert_refused_everywhere(
        &dir,
        &[
            "guest misbehave exceeded its memory limit of 32 MiB (limits.memoryMiB in grants.yaml: all memories and tables of the guest together; memory and tables of the whole store would reach 2147549184 bytes, above 33554432 bytes) (in config)",
        ],
    );
}

#[test]
fn memory_and_table_counts_are_bounded() {
    for (hostile, needle) in [
        (
            hostile::Hostile {
                extra_memories: 16,
                ..Default::default()
            },
            "guest misbehave exceeded the host's memory count limit: it would create 17 (a guest may create at most 64 instances, 16 memories and 64 tables",
        ),
        (
            hostile::Hostile {
                tables: 65,
                ..Default::default()
            },
            "guest misbehave exceeded the host's table count limit: it would create ",
        ),
    ] {
        let (_t, dir) = hostile_hooks(hostile);
        assert_refused_everywhere(&dir, &[needle]);
    }
}
