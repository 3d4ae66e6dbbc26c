//! What the results must equal or satisfy: guest-migrate's golden objects, the CRDs,
//! and an uninterrupted run's end state.

use super::cluster::{repo, yaml_documents};
use super::process::Exit;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// The objects guest-migrate's native run creates from small-cluster.yaml.
pub fn golden_small_cluster() -> Vec<Value> {
    let path = repo("guest-migrate/tests/golden/small-cluster.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Fails naming the first objects that differ, not dumping hundreds of lines.
pub fn assert_same_objects(actual: &[Value], expected: &[Value]) {
    let name = |o: &Value| format!("{} {}", o["kind"], o["metadata"]["name"]);
    let differing: Vec<String> = actual
        .iter()
        .zip(expected)
        .filter(|(a, e)| a != e)
        .map(|(a, e)| format!("{}:\n  got      {a}\n  expected {e}", name(e)))
        .take(3)
        .collect();
    assert!(
        actual.len() == expected.len() && differing.is_empty(),
        "created objects differ from guest-migrate's golden run ({} vs {} objects):\n{}",
        actual.len(),
        expected.len(),
        differing.join("\n")
    );
}

/// Fails naming what is missing, extra or different.
pub fn assert_same_state(
    what: &str,
    expected: &BTreeMap<String, Value>,
    actual: &BTreeMap<String, Value>,
) {
    if expected == actual {
        return;
    }
    let missing: Vec<&String> = expected
        .keys()
        .filter(|k| !actual.contains_key(*k))
        .collect();
    let extra: Vec<&String> = actual
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    let differ: Vec<&String> = expected
        .keys()
        .filter(|k| actual.get(*k).is_some_and(|a| a != &expected[*k]))
        .collect();
    panic!(
        "{what}: the end state differs from an uninterrupted run\n missing: {missing:?}\n extra: {extra:?}\n differ: {differ:?}"
    );
}

/// The `to` of every "migration state changed" line the guest logged.
pub fn state_changes(exit: &Exit) -> Vec<String> {
    exit.lines()
        .iter()
        .filter(|l| l["msg"] == "migration state changed")
        .filter_map(|l| l["to"].as_str().map(str::to_owned))
        .collect()
}

/// Validates each object against the openAPIV3Schema of its kind's CRD in
/// tests/crds, and rejects fields the API server would prune.
pub fn assert_crd_valid(objects: &[Value]) {
    let schemas = schemas();
    let mut problems = Vec::new();
    for object in objects {
        let kind = object["kind"].as_str().unwrap_or_default();
        let name = format!("{kind} {}", object["metadata"]["name"]);
        let Some((schema, validator)) = schemas.get(kind) else {
            problems.push(format!("{name}: no CRD in tests/crds"));
            continue;
        };
        problems.extend(
            validator
                .iter_errors(object)
                .map(|e| format!("{name}: {e} at {}", e.instance_path())),
        );
        pruned(
            &name,
            "spec",
            &object["spec"],
            &schema["properties"]["spec"],
            &mut problems,
        );
    }
    assert!(
        problems.is_empty(),
        "objects fail their CRDs:\n{}",
        problems.join("\n")
    );
}

/// Kind -> (v1alpha1 schema, its validator), for the storage.deckhouse.io CRDs.
fn schemas() -> HashMap<String, (Value, jsonschema::Validator)> {
    let mut out = HashMap::new();
    for entry in std::fs::read_dir(repo("tests/crds")).expect("tests/crds") {
        let path = entry.expect("tests/crds entry").path();
        if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("storage.deckhouse.io_"))
        {
            continue;
        }
        for crd in yaml_documents(&path) {
            let kind = crd["spec"]["names"]["kind"]
                .as_str()
                .expect("CRD names its kind")
                .to_owned();
            let versions = crd["spec"]["versions"]
                .as_array()
                .expect("CRD has versions");
            let Some(version) = versions.iter().find(|v| v["name"] == "v1alpha1") else {
                continue;
            };
            let schema = version["schema"]["openAPIV3Schema"].clone();
            let validator = jsonschema::draft4::new(&schema)
                .unwrap_or_else(|e| panic!("{}: schema: {e}", path.display()));
            out.insert(kind, (schema, validator));
        }
    }
    out
}

/// Fields the schema does not declare (a real API server drops them silently).
fn pruned(name: &str, path: &str, value: &Value, schema: &Value, problems: &mut Vec<String>) {
    if schema["x-kubernetes-preserve-unknown-fields"] == true {
        return;
    }
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let declared = &schema["properties"][key];
                let field_schema = if declared.is_null() {
                    &schema["additionalProperties"]
                } else {
                    declared
                };
                if field_schema.is_null() || *field_schema == false {
                    problems.push(format!(
                        "{name}: {path}.{key} is not in the CRD schema and would be pruned"
                    ));
                } else {
                    pruned(
                        name,
                        &format!("{path}.{key}"),
                        field,
                        field_schema,
                        problems,
                    );
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pruned(
                    name,
                    &format!("{path}[{i}]"),
                    item,
                    &schema["items"],
                    problems,
                );
            }
        }
        _ => {}
    }
}
