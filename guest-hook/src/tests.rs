//! Whole runs over the seed table: every row of the seed's summary table and every
//! edge case of the brief, against objects in memory.

use crate::run;
use guest_hook_logic::env::{HookEnv, KubeError, LogLevel, ObjectRef};
use guest_hook_logic::memory::MemoryEnv;
use guest_hook_logic::metrics::{GROUP, REJECTED, STATE};
use guest_hook_logic::{HookOutput, MetricAction, ValuesOpKind};
use serde_json::{Value, json};

const NS: &str = "d8-sds-replicated-volume";

fn values(new_control_plane: bool, current: Option<&str>) -> Value {
    let mut module = json!({"newControlPlane": new_control_plane, "internal": {}});
    if let Some(state) = current {
        module["internal"]["controlPlaneMigration"] = json!(state);
    }
    json!({"global": {}, "sdsReplicatedVolume": module})
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

/// `kube-root-ca.crt`: the ConfigMap listing arrived.
fn cm_canary() -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt", "namespace": NS}})
}

/// `kube-system`: the Namespace listing arrived.
fn ns_canary() -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}})
}

/// Deckhouse's ModuleConfig CRD: the CRD listing arrived.
fn crd_canary() -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "moduleconfigs.deckhouse.io"}})
}

fn run_with(objects: Vec<Value>, values: &Value) -> (HookOutput, MemoryEnv) {
    let mut env = MemoryEnv::new(objects);
    let out = run(&mut env, values).expect("the run succeeds");
    (out, env)
}

/// The single `add` of the internal state, if any; fails on anything else.
fn added_state(out: &HookOutput) -> Option<String> {
    assert!(out.values_patch.len() <= 1, "{:?}", out.values_patch);
    out.values_patch.first().map(|op| {
        assert_eq!(
            (op.op, op.path.as_str()),
            (ValuesOpKind::Add, "/internal/controlPlaneMigration")
        );
        op.value
            .as_ref()
            .and_then(Value::as_str)
            .expect("a string state")
            .to_owned()
    })
}

/// The `state` label of the info gauge and, if set, the rejection labels.
fn gauges(out: &HookOutput) -> (String, Option<Vec<(String, String)>>) {
    assert_eq!(
        (out.metrics[0].action, out.metrics[0].group.as_deref()),
        (MetricAction::Expire, Some(GROUP))
    );
    let info = out
        .metrics
        .iter()
        .find(|m| m.name == STATE)
        .expect("the info gauge");
    let rejected = out
        .metrics
        .iter()
        .find(|m| m.name == REJECTED)
        .map(|m| m.labels.clone());
    (info.labels[0].1.clone(), rejected)
}

fn created_states(env: &MemoryEnv) -> Vec<String> {
    env.created
        .iter()
        .map(|c| {
            assert!(c.if_absent, "the ConfigMap is created if absent");
            c.object["data"]["state"]
                .as_str()
                .expect("a state")
                .to_owned()
        })
        .collect()
}

// Rows of the seed's summary table.

#[test]
fn row_initial_new_control_plane_false_touches_nothing() {
    let (out, env) = run_with(
        vec![cm("not_started"), namespace()],
        &values(false, Some("not_started")),
    );
    assert_eq!(added_state(&out), None);
    assert_eq!(gauges(&out), ("not_started".into(), None));
    assert!(env.created.is_empty());
}

#[test]
fn row_fresh_install_all_completed_is_copied() {
    let (out, _) = run_with(
        vec![cm("all_completed"), namespace()],
        &values(true, Some("not_started")),
    );
    assert_eq!(added_state(&out).as_deref(), Some("all_completed"));
    assert_eq!(gauges(&out), ("all_completed".into(), None));
}

#[test]
fn rows_of_the_migration_are_copied_in_order() {
    let steps = [
        ("not_started", "stage1_started"),
        ("stage1_started", "stage1_completed"),
        ("stage1_completed", "stage2_started"),
        ("stage2_started", "all_completed"),
    ];
    for (from, to) in steps {
        let (out, env) = run_with(vec![cm(to), namespace()], &values(true, Some(from)));
        assert_eq!(added_state(&out).as_deref(), Some(to), "{from} -> {to}");
        assert_eq!(gauges(&out), (to.into(), None));
        assert!(env.logged(LogLevel::Info, "synced"));
    }
}

// Edge cases.

#[test]
fn state_already_in_values_writes_no_patch() {
    for state in crate::SEED_STATES.states() {
        let (out, _) = run_with(vec![cm(state)], &values(true, Some(state)));
        assert_eq!(added_state(&out), None, "{state}");
        assert_eq!(gauges(&out), ((*state).into(), None));
    }
}

#[test]
fn empty_or_absent_state_key_means_not_started() {
    for data in [json!({"state": ""}), json!({}), json!({"state": "  "})] {
        let (out, _) = run_with(
            vec![configmap(data.clone())],
            &values(true, Some("not_started")),
        );
        assert_eq!(added_state(&out), None, "{data}");
        let (out, _) = run_with(vec![configmap(data.clone())], &values(true, None));
        assert_eq!(added_state(&out).as_deref(), Some("not_started"), "{data}");
    }
}

#[test]
fn surrounding_whitespace_is_ignored() {
    let (out, _) = run_with(
        vec![cm("stage1_started\n")],
        &values(true, Some("not_started")),
    );
    assert_eq!(added_state(&out).as_deref(), Some("stage1_started"));
}

#[test]
fn forward_jumps_are_accepted() {
    let (out, _) = run_with(
        vec![cm("stage2_started")],
        &values(true, Some("not_started")),
    );
    assert_eq!(added_state(&out).as_deref(), Some("stage2_started"));
}

#[test]
fn missing_configmap_with_linstor_crd_is_created_not_started() {
    let (out, env) = run_with(
        vec![namespace(), cm_canary(), linstor_crd()],
        &values(true, Some("not_started")),
    );
    assert_eq!(created_states(&env), ["not_started"]);
    assert_eq!(env.created[0].object["metadata"]["namespace"], NS);
    assert_eq!(
        added_state(&out),
        None,
        "the values already say not_started"
    );
    assert!(env.logged(LogLevel::Info, "LINSTOR is installed"));
}

#[test]
fn missing_configmap_with_linstor_controller_only_is_created_not_started() {
    let (out, env) = run_with(
        vec![namespace(), cm_canary(), linstor_controller()],
        &values(true, None),
    );
    assert_eq!(created_states(&env), ["not_started"]);
    assert_eq!(added_state(&out).as_deref(), Some("not_started"));
}

#[test]
fn missing_configmap_on_a_fresh_install_is_created_all_completed() {
    let (out, env) = run_with(
        vec![namespace(), cm_canary(), crd_canary()],
        &values(true, Some("not_started")),
    );
    assert_eq!(created_states(&env), ["all_completed"]);
    assert_eq!(added_state(&out).as_deref(), Some("all_completed"));
    assert_eq!(gauges(&out), ("all_completed".into(), None));
}

#[test]
fn missing_namespace_sets_the_value_without_creating() {
    let (out, env) = run_with(
        vec![ns_canary(), crd_canary()],
        &values(true, Some("not_started")),
    );
    assert!(env.created.is_empty());
    assert_eq!(added_state(&out).as_deref(), Some("all_completed"));
    assert!(env.logged(LogLevel::Info, "does not exist yet"));
    let (out, env) = run_with(
        vec![ns_canary(), linstor_crd()],
        &values(true, Some("not_started")),
    );
    assert!(env.created.is_empty());
    assert_eq!(
        added_state(&out),
        None,
        "LINSTOR data means not_started, as the values already say"
    );
}

#[test]
fn terminating_namespace_is_not_written_into() {
    let mut ns = namespace();
    ns["metadata"]["deletionTimestamp"] = json!("2025-11-01T10:00:00Z");
    ns["status"]["phase"] = json!("Terminating");
    let (out, env) = run_with(
        vec![ns, cm_canary(), crd_canary()],
        &values(true, Some("not_started")),
    );
    assert!(env.created.is_empty());
    assert_eq!(added_state(&out).as_deref(), Some("all_completed"));
}

#[test]
fn configmap_lost_mid_migration_is_recreated_with_the_kept_state() {
    let (out, env) = run_with(
        vec![namespace(), cm_canary(), linstor_crd()],
        &values(true, Some("stage1_completed")),
    );
    assert_eq!(created_states(&env), ["stage1_completed"]);
    assert_eq!(added_state(&out), None);
    let (_, env) = run_with(
        vec![namespace(), cm_canary(), linstor_crd()],
        &values(true, Some("all_completed")),
    );
    assert_eq!(
        created_states(&env),
        ["all_completed"],
        "a finished migration is not restarted"
    );
}

#[test]
fn unknown_state_is_refused_and_alerted() {
    let (out, env) = run_with(
        vec![cm("stage3_started")],
        &values(true, Some("stage1_started")),
    );
    assert_eq!(added_state(&out), None);
    let (info, rejected) = gauges(&out);
    assert_eq!(info, "stage1_started");
    let labels = rejected.expect("the rejection gauge");
    assert_eq!(labels[0], ("state".into(), "stage3_started".into()));
    assert_eq!(labels[1], ("current".into(), "stage1_started".into()));
    assert_eq!(labels[2], ("reason".into(), "unknown_state".into()));
    assert!(env.logged(LogLevel::Warn, "not a known state"));
}

#[test]
fn backward_jump_is_refused_as_a_regression() {
    let (out, env) = run_with(
        vec![cm("stage1_started")],
        &values(true, Some("stage2_started")),
    );
    assert_eq!(added_state(&out), None);
    let (info, rejected) = gauges(&out);
    assert_eq!(info, "stage2_started");
    assert_eq!(rejected.expect("the rejection gauge")[2].1, "regression");
    assert!(env.logged(LogLevel::Warn, "backwards"));
}

#[test]
fn recovery_reset_to_not_started_is_accepted_mid_migration() {
    for from in ["stage1_started", "stage1_completed", "stage2_started"] {
        let (out, _) = run_with(vec![cm("not_started")], &values(true, Some(from)));
        assert_eq!(
            added_state(&out).as_deref(),
            Some("not_started"),
            "reset from {from}"
        );
    }
}

#[test]
fn reset_out_of_all_completed_is_refused() {
    let (out, _) = run_with(
        vec![cm("not_started")],
        &values(true, Some("all_completed")),
    );
    assert_eq!(added_state(&out), None);
    assert_eq!(
        gauges(&out).1.expect("the rejection gauge")[2].1,
        "regression"
    );
}

#[test]
fn unknown_current_value_is_repaired() {
    let (out, env) = run_with(
        vec![cm("stage1_started")],
        &values(true, Some("stage3_started")),
    );
    assert_eq!(added_state(&out).as_deref(), Some("stage1_started"));
    assert!(env.logs.iter().all(|l| l.level != LogLevel::Warn));
}

#[test]
fn switch_off_still_follows_the_configmap_but_never_creates_it() {
    // After a switch back (or a Deckhouse restart resetting the value to its default),
    // the state still reaches the render plan, which keeps the new control plane.
    let (out, env) = run_with(
        vec![cm("all_completed")],
        &values(false, Some("not_started")),
    );
    assert_eq!(added_state(&out).as_deref(), Some("all_completed"));
    assert!(env.created.is_empty());
    let (out, _) = run_with(vec![cm("bogus")], &values(false, Some("stage1_started")));
    assert_eq!(added_state(&out), None);
    assert_eq!(
        gauges(&out).1.expect("the rejection gauge")[2].1,
        "unknown_state"
    );
    let (out, env) = run_with(vec![namespace(), cm_canary()], &values(false, None));
    assert_eq!(
        (added_state(&out), gauges(&out)),
        (None, ("not_started".into(), None))
    );
    assert!(env.created.is_empty());
}

#[test]
fn empty_snapshots_decide_nothing() {
    for switch in [false, true] {
        for current in [
            None,
            Some("not_started"),
            Some("stage1_started"),
            Some("all_completed"),
        ] {
            let mut env = MemoryEnv::new(vec![]);
            let err = run(&mut env, &values(switch, current)).unwrap_err();
            assert!(
                err.contains("not deciding the migration state from missing objects"),
                "{err}"
            );
            assert!(env.created.is_empty());
        }
    }
    // The ConfigMap listing arrived but the CRD listing did not: no fresh install guessed.
    let mut env = MemoryEnv::new(vec![namespace(), cm_canary()]);
    let err = run(&mut env, &values(true, Some("not_started"))).unwrap_err();
    assert!(err.contains("cannot tell a fresh install"), "{err}");
}

#[test]
fn non_bool_switch_fails_the_run() {
    let mut env = MemoryEnv::default();
    let bad = json!({"sdsReplicatedVolume": {"newControlPlane": "yes"}});
    assert!(run(&mut env, &bad).unwrap_err().contains("newControlPlane"));
}

/// An environment whose reads fail: the run cannot decide and must say so.
struct Unreadable;

impl HookEnv for Unreadable {
    fn get(&mut self, target: &ObjectRef) -> Result<Value, KubeError> {
        Err(KubeError::Unavailable(format!(
            "no snapshot of {}",
            target.kind
        )))
    }
    fn create(&mut self, _: Value, _: bool) -> Result<Value, KubeError> {
        Err(KubeError::Forbidden("create".into()))
    }
    fn log(&mut self, _: LogLevel, _: &str, _: &[(&str, &str)]) {}
}

#[test]
fn unreadable_objects_fail_the_run_with_a_pointer_to_bindings() {
    let err = run(&mut Unreadable, &values(true, None)).unwrap_err();
    assert!(
        err.contains("ConfigMap d8-sds-replicated-volume/control-plane-migration"),
        "{err}"
    );
    assert!(err.contains("bindings"), "{err}");
}
