//! The pure decisions and the bindings; whole runs are tested in `guest-hook` and by the
//! golden fixtures.

use crate::states::StateTable;
use crate::sync::{
    Evidence, Unproven, configmap_object, configmap_state, namespace_usable, seed_state,
};
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

/// Evidence of a complete snapshot: every listing arrived, with the module namespace.
const LISTED: Evidence = Evidence {
    configmaps_listed: true,
    namespaces_listed: true,
    namespace_present: true,
    crds_listed: true,
    linstor_seen: false,
};

#[test]
fn seed_state_prefers_kept_progress_then_linstor_then_a_proven_fresh_install() {
    let linstor = Evidence {
        linstor_seen: true,
        ..LISTED
    };
    assert_eq!(
        seed_state(&T, None, linstor),
        Ok(("new", "LINSTOR is installed, so its volumes need migrating"))
    );
    let fresh = seed_state(&T, None, LISTED).unwrap();
    assert_eq!(fresh.0, "done");
    assert!(fresh.1.starts_with("fresh install"), "{}", fresh.1);
    assert_eq!(seed_state(&T, Some("new"), LISTED).unwrap().0, "done");
    assert_eq!(
        seed_state(&T, Some("half"), LISTED),
        Ok(("half", "kept the state already in values"))
    );
    assert_eq!(seed_state(&T, Some("done"), linstor).unwrap().0, "done");
    assert_eq!(seed_state(&T, Some("bogus"), linstor).unwrap().0, "new");
}

#[test]
fn seed_state_refuses_an_unproven_configmap_absence() {
    let nothing = Evidence::default();
    for current in [None, Some("new"), Some("half"), Some("done")] {
        assert_eq!(
            seed_state(&T, current, nothing),
            Err(Unproven::ConfigMap),
            "{current:?}"
        );
    }
    // Proven by the ConfigMap listing, or by a Namespace listing without the namespace.
    let by_configmaps = Evidence {
        configmaps_listed: true,
        ..nothing
    };
    let by_namespaces = Evidence {
        namespaces_listed: true,
        ..nothing
    };
    assert!(by_configmaps.configmap_absent() && by_namespaces.configmap_absent());
    let namespace_there = Evidence {
        namespace_present: true,
        ..by_namespaces
    };
    assert!(!namespace_there.configmap_absent());
    assert_eq!(
        seed_state(&T, Some("half"), by_namespaces),
        Ok(("half", "kept the state already in values"))
    );
}

#[test]
fn seed_state_never_guesses_a_fresh_install() {
    let no_crds = Evidence {
        crds_listed: false,
        ..LISTED
    };
    for current in [None, Some("new"), Some("bogus")] {
        assert_eq!(seed_state(&T, current, no_crds), Err(Unproven::Linstor));
    }
    assert!(
        Unproven::Linstor
            .as_str()
            .contains("cannot tell a fresh install")
    );
    assert!(Unproven::ConfigMap.as_str().contains("kube-root-ca.crt"));
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
fn every_binding_watches_its_whole_object_and_canary_and_runs_on_synchronization() {
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
    // Each object with its canary, so an absence counts only from a listing that arrived.
    let selectors: Vec<&[String]> = config
        .kubernetes
        .iter()
        .map(|b| &b.name_selector[..])
        .collect();
    assert_eq!(
        selectors,
        [
            &["control-plane-migration", "kube-root-ca.crt"][..],
            &["d8-sds-replicated-volume", "kube-system"],
            &["linstor-controller"],
            &[
                "resourcedefinitions.internal.linstor.linbit.com",
                "moduleconfigs.deckhouse.io"
            ],
        ]
    );
    for b in &config.kubernetes {
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
