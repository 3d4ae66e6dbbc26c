//! The new controller's side of the adoption, as far as the migration Job can see it
//! (from migrator-parity: the rvr-controller labels the DRBDResources it takes over
//! `sds-replicated-volume.deckhouse.io/replicated-volume=<rv>`; the rv-controller runs
//! the Formation transition of plan `adopt/v1` on a ReplicatedVolume marked
//! `adopt-rvr`, waits at step 3 "Exit maintenance" until no DRBDResource is in
//! maintenance, then removes the transition). Tests call [`adopt`] between Job steps
//! while the new control plane runs; [`Behaviour`] makes chosen volumes misbehave.

use std::collections::{BTreeSet, HashMap};

use guest_migrate::well_known::{ADOPT_RVR, DRBDR, REPLICATED_VOLUME_LABEL, RV, STORAGE_V1ALPHA1};
use kube_memstore::{Key, Store};
use serde_json::{Value, json};

/// How the simulated controller treats some volumes; the rest adopt normally.
#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// Volumes whose formation never passes step 2 (the gate never opens).
    pub stuck: BTreeSet<String>,
    /// Volumes whose DRBDResources the rvr-controller does not label.
    pub unlabelled: BTreeSet<String>,
}

/// The three steps of adopt/v1 with these statuses.
fn formation(statuses: [&str; 3]) -> Value {
    let names = [
        "Verify prerequisites",
        "Populate and verify datamesh",
        "Exit maintenance",
    ];
    let steps: Vec<Value> = names
        .iter()
        .zip(statuses)
        .map(|(name, status)| json!({"name": name, "status": status}))
        .collect();
    json!([{"type": "Formation", "group": "Formation", "planID": "adopt/v1", "steps": steps}])
}

fn key(kind: &str, name: &str) -> Key {
    Key {
        api_version: STORAGE_V1ALPHA1.into(),
        kind: kind.into(),
        namespace: None,
        name: name.into(),
    }
}

/// One reconciliation of every ReplicatedVolume: a marked one starts adopt/v1, and
/// one at "Exit maintenance" finishes once none of its DRBDResources is in
/// maintenance (whether or not it is still marked).
pub fn adopt(store: &mut Store, behaviour: &Behaviour) {
    let volumes: Vec<Value> = store
        .list(STORAGE_V1ALPHA1, RV, None, None)
        .unwrap_or_default();
    // Volume -> its DRBDResources (name, in maintenance).
    let mut by_volume: HashMap<String, Vec<(String, bool)>> = HashMap::new();
    for drbd in store.objects().filter(|o| o["kind"] == DRBDR) {
        let text = |p: &str| {
            drbd.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        by_volume
            .entry(text("/spec/actualNameOnTheNode"))
            .or_default()
            .push((
                text("/metadata/name"),
                !drbd["spec"]["maintenance"].is_null(),
            ));
    }
    for rv in volumes {
        let marked = rv["metadata"]["annotations"].get(ADOPT_RVR).is_some();
        let name = rv["metadata"]["name"].as_str().unwrap_or("").to_owned();
        let drbds = by_volume.remove(&name).unwrap_or_default();
        let transitions = &rv["status"]["datameshTransitions"];
        let started = transitions.as_array().is_some_and(|t| !t.is_empty());
        let formed = rv["status"]["datameshRevision"].as_i64().unwrap_or(0) > 1;
        if formed {
            continue;
        }
        if !started && marked {
            if !behaviour.unlabelled.contains(&name) {
                for (drbd, _) in &drbds {
                    let label = json!({"metadata": {"labels": {REPLICATED_VOLUME_LABEL: name}}});
                    drop(store.merge_patch(&key(DRBDR, drbd), &label));
                }
            }
            let steps = if behaviour.stuck.contains(&name) {
                ["Completed", "Active", "Pending"]
            } else {
                ["Completed", "Completed", "Active"]
            };
            let status =
                json!({"status": {"datameshTransitions": formation(steps), "datameshRevision": 1}});
            drop(store.merge_patch(&key(RV, &name), &status));
            continue;
        }
        if !started {
            continue;
        }
        let at_exit = *transitions == formation(["Completed", "Completed", "Active"]);
        let maintenance = drbds.iter().any(|(_, in_maintenance)| *in_maintenance);
        if at_exit && !maintenance {
            let done = json!({"status": {"datameshTransitions": [], "datameshRevision": 2}});
            drop(store.merge_patch(&key(RV, &name), &done));
        }
    }
}
