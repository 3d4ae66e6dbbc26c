//! The pure decisions and the bindings; whole runs are tested in `guest-hook` and by the
//! golden fixtures.

use crate::states::StateTable;
use crate::sync::{configmap_object, configmap_state, namespace_usable, seed_state};
use crate::{StateSync, Table};
use deckhouse_hooks_sdk::{Hook, ObjectRef};
use serde_json::json;

const T: StateTable = StateTable::new(&["new", "half", "done"]);

struct Three;

impl Table for Three {
    const TABLE: StateTable = T;
}

#[test]
fn configmap_state_reads_trims_and_defaults() {
    assert_eq!(
        configmap_state(&T, &json!({"data": {"state": "half"}})),
        "half"
    );
    assert_eq!(
        configmap_state(&T, &json!({"data": {"state": " half\n"}})),
        "half"
    );
    assert_eq!(configmap_state(&T, &json!({"data": {"state": ""}})), "new");
    assert_eq!(configmap_state(&T, &json!({"data": {"other": "x"}})), "new");
    assert_eq!(configmap_state(&T, &json!({"metadata": {}})), "new");
    assert_eq!(configmap_state(&T, &json!({"data": {"state": 7}})), "7");
}

#[test]
fn seed_state_prefers_kept_progress_then_linstor() {
    assert_eq!(seed_state(&T, None, true).0, "new");
    assert!(
        seed_state(&T, None, true)
            .1
            .contains("LINSTOR is installed")
    );
    assert_eq!(seed_state(&T, None, false).0, "done");
    assert!(seed_state(&T, None, false).1.contains("fresh install"));
    assert_eq!(seed_state(&T, Some("new"), false).0, "done");
    assert_eq!(
        seed_state(&T, Some("half"), false),
        ("half", "kept the state already in values")
    );
    assert_eq!(seed_state(&T, Some("done"), true).0, "done");
    assert_eq!(seed_state(&T, Some("bogus"), true).0, "new");
}

#[test]
fn namespace_usable_only_when_present_and_live() {
    assert!(!namespace_usable(None));
    assert!(namespace_usable(Some(
        &json!({"metadata": {"name": "x"}, "status": {"phase": "Active"}})
    )));
    assert!(!namespace_usable(Some(
        &json!({"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}})
    )));
    assert!(!namespace_usable(Some(
        &json!({"metadata": {}, "status": {"phase": "Terminating"}})
    )));
}

#[test]
fn the_created_configmap_is_the_watched_one() {
    let object = configmap_object("new");
    let config = StateSync::<Three>::config();
    let binding = config.binding(crate::binding::CONFIG_MAP).unwrap();
    let id = ObjectRef::of(&object).unwrap();
    assert_eq!(
        (id.kind.as_str(), id.name.as_str()),
        (binding.kind.as_str(), binding.name_selector[0].as_str())
    );
    assert_eq!(id.namespace.as_deref(), Some(crate::NAMESPACE));
    assert_eq!(object["data"]["state"], "new");
}

#[test]
fn every_binding_watches_one_whole_object_and_runs_on_synchronization() {
    let config = StateSync::<Three>::config();
    assert_eq!(config.before_helm, Some(5));
    assert!(config.problems().is_empty(), "{:?}", config.problems());
    let names: Vec<&str> = config.kubernetes.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "control-plane-migration",
            "module-namespace",
            "linstor-controller",
            "linstor-database"
        ]
    );
    for b in &config.kubernetes {
        assert_eq!(b.name_selector.len(), 1, "{}", b.name);
        assert_eq!(
            (
                b.keep_full_objects_in_memory,
                b.execute_hook_on_synchronization
            ),
            (Some(true), Some(true)),
            "{}",
            b.name
        );
        assert_eq!(
            (b.jq_filter.as_ref(), b.execute_hook_on_event.as_ref()),
            (None, None),
            "{}",
            b.name
        );
        let namespaced = ["ConfigMap", "Deployment"].contains(&b.kind.as_str());
        let namespaces = b.namespace.as_ref().map(|n| n.match_names.clone());
        assert_eq!(
            namespaces,
            namespaced.then(|| vec![crate::NAMESPACE.to_owned()]),
            "{}",
            b.name
        );
    }
}
