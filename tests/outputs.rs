//! Every output Deckhouse reads is valid by its runners' own rules, encoded in
//! `tests/schemas/` from their documented behaviour: every fixture's expected outputs pass;
//! each rule rejects a document that breaks it; and a guest whose output would be
//! rejected fails its run with an error naming the guest and the operation, writing nothing.

mod common;

use common::hook_run;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use wasm_hooks::deckhouse::invoke::parse_stream;
use wasm_hooks::protocol::object_ops;

fn schema(file: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/schemas")
        .join(file);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn expected_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            expected_files(&path, found);
        } else if path.parent().is_some_and(|p| p.ends_with("expected")) {
            found.push(path);
        }
    }
}

#[test]
fn every_fixture_output_passes_the_runner_rules() {
    let (operation, metric, values) = (
        schema("object-operation-v0.json"),
        schema("metric-operation.json"),
        schema("values-patch.json"),
    );
    let mut files = Vec::new();
    expected_files(&guest_artifacts::root().join("tests/fixtures"), &mut files);
    let mut checked = [0usize; 3];
    for file in &files {
        let items = parse_stream(&std::fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let name = file.file_name().unwrap().to_string_lossy();
        for item in &items {
            let problems = match name.as_ref() {
                "kubernetes-patch.json" => {
                    checked[0] += 1;
                    let mut p = errors(&operation, item);
                    p.extend(object_ops::check(item).err());
                    p
                }
                "metrics.json" => {
                    checked[1] += 1;
                    errors(&metric, item)
                }
                "values-patch.json" | "config-values-patch.json" => {
                    checked[2] += 1;
                    errors(&values, &json!([item]))
                }
                other => panic!("{}: unknown expected file {other}", file.display()),
            };
            assert!(
                problems.is_empty(),
                "{}: {item}\n{problems:#?}",
                file.display()
            );
        }
    }
    assert!(
        checked.iter().all(|n| *n > 0),
        "every kind of output must be checked at least once: {checked:?}"
    );
}

#[test]
fn each_rule_rejects_a_document_that_breaks_it() {
    let operation = schema("object-operation-v0.json");
    for (bad, why) in [
        (
            json!({"operation": "MergePatch", "kind": "ConfigMap", "name": "x", "mergePatch": {}}),
            "empty merge patch",
        ),
        (
            json!({"operation": "JSONPatch", "kind": "ConfigMap", "name": "x", "jsonPatch": [{"op": "remove", "path": "/a"}]}),
            "first JSON patch item without value",
        ),
        (
            json!({"operation": "Delete", "name": "x"}),
            "delete without kind",
        ),
        (
            json!({"operation": "Replace", "kind": "ConfigMap", "name": "x"}),
            "unknown operation",
        ),
        (
            json!({"operation": "Create", "object": {"kind": "ConfigMap"}, "ignoreMissing": true}),
            "unknown key",
        ),
    ] {
        assert!(
            !errors(&operation, &bad).is_empty(),
            "the schema accepts a {why}: {bad}"
        );
        assert!(
            object_ops::check(&bad).is_err(),
            "the host accepts a {why}: {bad}"
        );
    }
    let metric = schema("metric-operation.json");
    for (bad, why) in [
        (
            json!({"name": "1x", "action": "set", "value": 1}),
            "bad name",
        ),
        (
            json!({"name": "x", "action": "observe", "value": 1}),
            "observe without buckets",
        ),
        (
            json!({"name": "x", "action": "set", "value": 1, "labels": {"hook": "h"}}),
            "reserved label",
        ),
        (
            json!({"name": "x", "action": "replace", "value": 1}),
            "unknown action",
        ),
    ] {
        assert!(
            !errors(&metric, &bad).is_empty(),
            "the schema accepts a {why}: {bad}"
        );
    }
    let values = schema("values-patch.json");
    for (bad, why) in [
        (
            json!([{"op": "replace", "path": "/sdsReplicatedVolume/x", "value": 1}]),
            "replace",
        ),
        (
            json!([{"op": "add", "path": "/sdsReplicatedVolume", "value": 1}]),
            "path replacing the module key",
        ),
        (
            json!([{"op": "add", "path": "/sdsReplicatedVolume/x"}]),
            "add without value",
        ),
    ] {
        assert!(
            !errors(&values, &bad).is_empty(),
            "the schema accepts a {why}: {bad}"
        );
    }
}

const GRANTS: &str = r#"
module: { name: probe, valuesKey: probe }
guests:
  - name: misbehave
    component: misbehave_hook.wasm
    world: hook
    limits: { timeoutMs: 2000, memoryMiB: 32 }
    # The badly named metric is granted, so that Prometheus' rule is what refuses it.
    metrics: { prefix: probe, names: ["1-not-prometheus"] }
    grants:
      - verbs: [get, list, patch, delete]
        apiVersion: v1
        kind: ConfigMap
        namespace: probe-ns
        names: [probe]
"#;

fn run_mode(mode: &str) -> common::Run {
    let (_tmp, dir) = common::hooks_copy();
    std::fs::write(dir.join("grants.yaml"), GRANTS).unwrap();
    let bc = json!([{"binding": "beforeHelm", "snapshots": {"state": [{"object": {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe", "namespace": "probe-ns"}, "data": {"state": "x"}}}]}}]);
    hook_run(
        &dir,
        0,
        &bc.to_string(),
        &json!({"probe": {}}),
        &json!({"probe": {}, "misbehave": {"mode": mode}}),
    )
}

#[test]
fn a_guest_whose_output_deckhouse_would_reject_fails_naming_the_operation() {
    for (mode, needles) in [
        (
            "empty-merge-patch",
            [
                "object operation",
                "operation 0 (MergePatch)",
                "non-empty `mergePatch`",
            ],
        ),
        (
            "remove-first-json-patch",
            [
                "object operation",
                "operation 0 (JSONPatch)",
                "first operation",
            ],
        ),
        (
            "bad-metric",
            ["metric", "1-not-prometheus", "Prometheus name"],
        ),
    ] {
        let run = run_mode(mode);
        assert_eq!(run.code, 1, "{mode}: {}", run.stderr);
        assert!(
            run.stderr.contains("guest misbehave returned an invalid"),
            "{mode}: {}",
            run.stderr
        );
        for needle in needles {
            assert!(
                run.stderr.contains(needle),
                "{mode}: no {needle:?} in\n{}",
                run.stderr
            );
        }
        assert!(
            run.wrote_nothing(),
            "{mode}: a rejected run must write nothing"
        );
    }
}

#[test]
fn every_output_kind_is_written_and_valid() {
    let run = run_mode("all-outputs");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ops = run.object_ops();
    assert_eq!(ops[0]["operation"], "MergePatch");
    assert_eq!(ops[0]["ignoreMissingObject"], true);
    assert_eq!(ops[1]["operation"], "DeleteNonCascading");
    let config_values: Value = serde_json::from_str(&run.config_values_patch).unwrap();
    assert_eq!(
        config_values,
        json!([{"op": "add", "path": "/probe/enabled", "value": true}])
    );
    let metrics = parse_stream(&run.metrics).unwrap();
    assert_eq!(
        metrics,
        vec![
            json!({"name": "probe_seconds", "group": "probe", "action": "observe", "value": 0.5, "buckets": [0.1, 1.0], "labels": {"phase": "run"}})
        ]
    );
    let (operation, metric) = (
        schema("object-operation-v0.json"),
        schema("metric-operation.json"),
    );
    for op in &ops {
        assert!(errors(&operation, op).is_empty(), "{op}");
    }
    assert!(errors(&metric, &metrics[0]).is_empty());
}
