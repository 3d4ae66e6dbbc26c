//! What the results must equal or satisfy: guest-migrate's golden objects, the CRDs,
//! and an uninterrupted run's end state.

use super::process::Exit;
use migration_data::Schemas;
use migration_data::snapshot::Difference;
use serde_json::Value;
use std::collections::BTreeMap;

/// The objects guest-migrate's native run creates from small-cluster.yaml.
pub fn golden_small_cluster() -> Vec<Value> {
    migration_data::golden::objects("small-cluster").expect("guest-migrate's golden run loads")
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
    if let Some(difference) = Difference::between(expected, actual) {
        panic!("{what}: the end state differs from an uninterrupted run\n{difference}");
    }
}

/// The `to` of every "migration state changed" line the guest logged.
pub fn state_changes(exit: &Exit) -> Vec<String> {
    exit.lines()
        .iter()
        .filter(|l| l["msg"] == "migration state changed")
        .filter_map(|l| l["fields"]["to"].as_str().map(str::to_owned))
        .collect()
}

/// Validates each object against the openAPIV3Schema of its kind's CRD in
/// tests/crds, and rejects fields the API server would prune.
pub fn assert_crd_valid(objects: &[Value]) {
    Schemas::load()
        .expect("the CRDs in tests/crds compile")
        .assert_all_valid(objects);
}
