//! The added states flow through like the seed's, and regressions across them are refused.

use crate::{NINE_STATES, NineStateHook};
use deckhouse_hooks_sdk::testkit::{HookTest, check_fixtures};
use guest_hook_logic::sync::REJECTED;
use serde_json::{Value, json};

fn cm(state: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "control-plane-migration", "namespace": "d8-sds-replicated-volume"},
           "data": {"state": state}})
}

/// The state added to values, and the rejection reason if any.
fn sync(configmap_state: &str, current: &str) -> (Option<Value>, Option<String>) {
    let run = HookTest::<NineStateHook>::new()
        .object(cm(configmap_state))
        .values(json!({"newControlPlane": true, "internal": {"controlPlaneMigration": current}}))
        .run();
    let added = run
        .output()
        .values_patch
        .first()
        .and_then(|_| run.value("internal.controlPlaneMigration"));
    let reason = run
        .metrics()
        .unwrap()
        .iter()
        .find(|m| m["name"] == REJECTED)
        .map(|m| {
            m["labels"]["reason"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        });
    (added, reason)
}

#[test]
fn every_step_of_the_nine_is_copied() {
    for pair in NINE_STATES.states().windows(2) {
        assert_eq!(
            sync(pair[1], pair[0]),
            (Some(json!(pair[1])), None),
            "{} -> {}",
            pair[0],
            pair[1]
        );
    }
}

#[test]
fn the_added_states_are_known_here() {
    for state in [
        "stage2_completed",
        "stage3_started",
        "stage3_completed",
        "stage4_started",
    ] {
        assert_eq!(sync(state, "stage2_started").1, None, "{state}");
    }
}

#[test]
fn regression_across_the_added_states_is_refused() {
    assert_eq!(
        sync("stage2_completed", "stage4_started"),
        (None, Some("regression".into()))
    );
    assert_eq!(
        sync("stage3_started", "stage3_completed"),
        (None, Some("regression".into()))
    );
}

#[test]
fn recovery_reset_works_from_the_added_states_but_not_from_the_end() {
    assert_eq!(
        sync("not_started", "stage4_started"),
        (Some(json!("not_started")), None)
    );
    assert_eq!(
        sync("not_started", "all_completed"),
        (None, Some("regression".into()))
    );
}

#[test]
fn a_state_outside_the_nine_is_unknown() {
    assert_eq!(
        sync("stage5_started", "stage4_started"),
        (None, Some("unknown_state".into()))
    );
}

#[test]
fn every_nine_state_fixture_passes_natively() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/nine-state/control-plane-migration-state-sync"
    );
    let passed = check_fixtures::<NineStateHook>(std::path::Path::new(dir))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(passed >= 7, "only {passed} cases");
}
