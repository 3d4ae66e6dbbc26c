//! Whole runs over the seed table on the SDK's test kit: every row of the seed's summary
//! table and every edge case of the brief, against a cluster in memory; then every golden
//! fixture case, run natively as the host runs it.

use crate::{SEED_STATES, SeedHook};
use deckhouse_hooks_sdk::testkit::{HookRun, HookTest, check_fixtures};
use deckhouse_hooks_sdk::{LogLevel, ObjectOperation};
use guest_hook_logic::sync::{GROUP, REJECTED, STATE};
use serde_json::{Value, json};

const NS: &str = "d8-sds-replicated-volume";

fn run(objects: Vec<Value>, new_control_plane: bool, current: Option<&str>) -> HookRun {
    let mut module = json!({"newControlPlane": new_control_plane, "internal": {}});
    if let Some(state) = current {
        module["internal"]["controlPlaneMigration"] = json!(state);
    }
    let test = objects
        .into_iter()
        .fold(HookTest::<SeedHook>::new().values(module), HookTest::object);
    let run = test.run();
    assert_eq!(run.error(), None, "{}", run.stderr());
    run
}

fn configmap(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "control-plane-migration", "namespace": NS}, "data": data})
}

fn cm(state: &str) -> Value {
    configmap(json!({"state": state}))
}

fn namespace() -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}, "status": {"phase": "Active"}})
}

fn linstor_crd() -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "resourcedefinitions.internal.linstor.linbit.com"}})
}

fn linstor_controller() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "linstor-controller", "namespace": NS}})
}

/// The single `add` of the internal state, if any; fails on anything else.
fn added_state(run: &HookRun) -> Option<String> {
    let changes = &run.output().values_patch;
    assert!(changes.len() <= 1, "{changes:?}");
    let added = run.value("internal.controlPlaneMigration");
    changes.first().map(|_| {
        added
            .and_then(|v| v.as_str().map(str::to_owned))
            .expect("a string state")
    })
}

/// The `state` label of the info gauge and, if set, the rejection labels.
fn gauges(run: &HookRun) -> (String, Option<Value>) {
    let metrics = run.metrics().unwrap();
    assert_eq!(metrics[0], json!({"group": GROUP, "action": "expire"}));
    let info = metrics
        .iter()
        .find(|m| m["name"] == STATE)
        .expect("the info gauge");
    let rejected = metrics
        .iter()
        .find(|m| m["name"] == REJECTED)
        .map(|m| m["labels"].clone());
    (
        info["labels"]["state"].as_str().unwrap().to_owned(),
        rejected,
    )
}

fn created_states(run: &HookRun) -> Vec<String> {
    run.operations()
        .iter()
        .map(|op| match op {
            ObjectOperation::Create { object, mode } => {
                assert_eq!(*mode, deckhouse_hooks_sdk::CreateMode::IfNotExists);
                object["data"]["state"]
                    .as_str()
                    .expect("a state")
                    .to_owned()
            }
            other => panic!("only creates expected, got {other:?}"),
        })
        .collect()
}

#[test]
fn row_initial_new_control_plane_false_touches_nothing() {
    let run = run(
        vec![cm("not_started"), namespace()],
        false,
        Some("not_started"),
    );
    assert_eq!(added_state(&run), None);
    assert_eq!(gauges(&run), ("not_started".into(), None));
    assert!(run.operations().is_empty());
}

#[test]
fn rows_of_the_migration_are_copied_in_order() {
    for pair in SEED_STATES.states().windows(2) {
        let (from, to) = (pair[0], pair[1]);
        let run = run(vec![cm(to), namespace()], true, Some(from));
        assert_eq!(added_state(&run).as_deref(), Some(to), "{from} -> {to}");
        assert_eq!(gauges(&run), (to.into(), None));
        assert!(run.logged(LogLevel::Info, "synced"));
    }
}

#[test]
fn state_already_in_values_writes_no_patch() {
    for state in SEED_STATES.states() {
        let run = run(vec![cm(state)], true, Some(state));
        assert_eq!(added_state(&run), None, "{state}");
        assert_eq!(gauges(&run), ((*state).into(), None));
    }
}

#[test]
fn empty_or_absent_state_key_means_not_started() {
    for data in [json!({"state": ""}), json!({}), json!({"state": "  "})] {
        let in_sync = run(vec![configmap(data.clone())], true, Some("not_started"));
        assert_eq!(added_state(&in_sync), None, "{data}");
        let absent = run(vec![configmap(data.clone())], true, None);
        assert_eq!(
            added_state(&absent).as_deref(),
            Some("not_started"),
            "{data}"
        );
    }
}

#[test]
fn surrounding_whitespace_is_ignored_and_forward_jumps_accepted() {
    let run1 = run(vec![cm("stage1_started\n")], true, Some("not_started"));
    assert_eq!(added_state(&run1).as_deref(), Some("stage1_started"));
    let run2 = run(vec![cm("stage2_started")], true, Some("not_started"));
    assert_eq!(added_state(&run2).as_deref(), Some("stage2_started"));
}

#[test]
fn missing_configmap_is_created_by_what_linstor_left() {
    let crd = run(vec![namespace(), linstor_crd()], true, Some("not_started"));
    assert_eq!(created_states(&crd), ["not_started"]);
    assert_eq!(
        added_state(&crd),
        None,
        "the values already say not_started"
    );
    assert!(crd.logged(LogLevel::Info, "LINSTOR is installed"));
    let controller = run(vec![namespace(), linstor_controller()], true, None);
    assert_eq!(created_states(&controller), ["not_started"]);
    assert_eq!(added_state(&controller).as_deref(), Some("not_started"));
    let fresh = run(vec![namespace()], true, Some("not_started"));
    assert_eq!(created_states(&fresh), ["all_completed"]);
    assert_eq!(gauges(&fresh), ("all_completed".into(), None));
    let created = fresh.object(&deckhouse_hooks_sdk::ObjectRef::namespaced(
        "v1",
        "ConfigMap",
        NS,
        "control-plane-migration",
    ));
    assert_eq!(created.unwrap()["data"]["state"], "all_completed");
}

#[test]
fn missing_or_terminating_namespace_sets_the_value_without_creating() {
    let missing = run(vec![], true, Some("not_started"));
    assert!(missing.operations().is_empty());
    assert_eq!(added_state(&missing).as_deref(), Some("all_completed"));
    assert!(missing.logged(LogLevel::Info, "does not exist yet"));
    let mut ns = namespace();
    ns["metadata"]["deletionTimestamp"] = json!("2025-11-01T10:00:00Z");
    ns["status"]["phase"] = json!("Terminating");
    let terminating = run(vec![ns, linstor_crd()], true, Some("not_started"));
    assert!(terminating.operations().is_empty());
    assert_eq!(
        added_state(&terminating),
        None,
        "LINSTOR data means not_started"
    );
}

#[test]
fn configmap_lost_mid_migration_is_recreated_with_the_kept_state() {
    let mid = run(
        vec![namespace(), linstor_crd()],
        true,
        Some("stage1_completed"),
    );
    assert_eq!(created_states(&mid), ["stage1_completed"]);
    assert_eq!(added_state(&mid), None);
    let done = run(
        vec![namespace(), linstor_crd()],
        true,
        Some("all_completed"),
    );
    assert_eq!(
        created_states(&done),
        ["all_completed"],
        "a finished migration is not restarted"
    );
}

#[test]
fn unknown_and_backward_states_are_refused_and_alerted() {
    let unknown = run(vec![cm("stage3_started")], true, Some("stage1_started"));
    assert_eq!(added_state(&unknown), None);
    let labels =
        json!({"state": "stage3_started", "current": "stage1_started", "reason": "unknown_state"});
    assert_eq!(gauges(&unknown), ("stage1_started".into(), Some(labels)));
    assert!(unknown.logged(LogLevel::Warn, "not a known state"));
    let back = run(vec![cm("stage1_started")], true, Some("stage2_started"));
    assert_eq!(gauges(&back).1.unwrap()["reason"], "regression");
    assert!(back.logged(LogLevel::Warn, "backwards"));
    let reset_after_done = run(vec![cm("not_started")], true, Some("all_completed"));
    assert_eq!(gauges(&reset_after_done).1.unwrap()["reason"], "regression");
}

#[test]
fn recovery_reset_to_not_started_is_accepted_mid_migration() {
    for from in ["stage1_started", "stage1_completed", "stage2_started"] {
        let run = run(vec![cm("not_started")], true, Some(from));
        assert_eq!(
            added_state(&run).as_deref(),
            Some("not_started"),
            "reset from {from}"
        );
    }
}

#[test]
fn unknown_current_value_is_repaired_without_a_warning() {
    let run = run(vec![cm("stage1_started")], true, Some("stage3_started"));
    assert_eq!(added_state(&run).as_deref(), Some("stage1_started"));
    assert!(run.logs().iter().all(|l| l.level != LogLevel::Warn));
}

#[test]
fn switch_off_ignores_even_a_bad_or_missing_configmap() {
    let bad = run(vec![cm("bogus")], false, Some("stage1_started"));
    assert_eq!(
        (added_state(&bad), gauges(&bad)),
        (None, ("stage1_started".into(), None))
    );
    let missing = run(vec![namespace()], false, None);
    assert_eq!(
        (added_state(&missing), gauges(&missing)),
        (None, ("not_started".into(), None))
    );
    assert!(bad.operations().is_empty() && missing.operations().is_empty());
}

#[test]
fn non_bool_switch_and_undelivered_bindings_fail_the_run() {
    let bad = HookTest::<SeedHook>::new()
        .values(json!({"newControlPlane": "yes"}))
        .run();
    assert!(
        bad.error().unwrap().contains("newControlPlane"),
        "{:?}",
        bad.error()
    );
    let partial = HookTest::<SeedHook>::new()
        .values(json!({"newControlPlane": true}))
        .binding_contexts(json!([{"binding": "control-plane-migration", "type": "Synchronization", "objects": []}]))
        .run();
    let err = partial.error().expect("the run fails");
    assert!(
        err.contains("CustomResourceDefinition") && err.contains("bindings"),
        "{err}"
    );
}

#[test]
fn every_golden_fixture_passes_natively() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/hooks/control-plane-migration-state-sync"
    );
    let passed =
        check_fixtures::<SeedHook>(std::path::Path::new(dir)).unwrap_or_else(|e| panic!("{e}"));
    assert!(passed >= 28, "only {passed} cases");
}
