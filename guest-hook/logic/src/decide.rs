//! Pure decisions of one run: no I/O, so every case is a plain unit test.

use crate::bindings::CONFIG_MAP;
use crate::inputs::Inputs;
use crate::states::{Rejection, StateTable};
use serde_json::{Value, json};

/// What the run does with the candidate state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Take it over; `changed` says whether the values differ from it.
    Accepted { state: &'static str, changed: bool },
    /// Keep the current value; `state` is the refused candidate as read.
    Rejected { state: String, reason: Rejection },
}

/// Why a missing ConfigMap gets the state it gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedReason {
    /// The values already hold a state past the first: the ConfigMap was lost
    /// mid-migration (or after it), and starting over would redo a finished migration.
    KeepCurrent,
    /// LINSTOR is installed: its volumes must be migrated.
    LinstorInstalled,
    /// No LINSTOR: nothing to migrate.
    FreshInstall,
}

impl SeedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KeepCurrent => "kept the state already in values",
            Self::LinstorInstalled => "LINSTOR is installed, so its volumes need migrating",
            Self::FreshInstall => {
                "fresh install without LINSTOR, nothing to migrate (the CRD listing arrived without LINSTOR's CRD)"
            }
        }
    }
}

/// The state a ConfigMap holds, as read: `data.state` without surrounding whitespace
/// (a `kubectl create --from-file` leaves a newline); empty or absent is the first state.
/// A non-string value comes back as its JSON text, which no table knows.
pub fn configmap_state(table: &StateTable, configmap: &Value) -> String {
    match configmap.pointer("/data/state") {
        None | Some(Value::Null) => table.first().to_owned(),
        Some(Value::String(s)) if s.trim().is_empty() => table.first().to_owned(),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(other) => other.to_string(),
    }
}

/// What this run's snapshots prove when the ConfigMap is not in them.
///
/// An empty snapshot proves nothing: a monitor not yet synchronized, a lost one, or a
/// filter that drops everything all deliver nothing. So absence counts only inside a
/// listing known to have arrived, which each binding shows with its canary (an object
/// that always exists, see [`crate::bindings`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    /// The ConfigMap listing arrived (`kube-root-ca.crt` is in it).
    pub configmaps_listed: bool,
    /// The Namespace listing arrived (`kube-system` is in it).
    pub namespaces_listed: bool,
    /// The module namespace is in the snapshot.
    pub namespace_present: bool,
    /// The CRD listing arrived (`moduleconfigs.deckhouse.io` is in it).
    pub crds_listed: bool,
    /// LINSTOR's database CRD or its controller is in the snapshot: LINSTOR is installed.
    pub linstor_seen: bool,
}

impl Evidence {
    /// Whether the ConfigMap is really absent: its listing arrived without it, or the
    /// namespace that would hold it does not exist.
    pub fn configmap_absent(&self) -> bool {
        self.configmaps_listed || (self.namespaces_listed && !self.namespace_present)
    }
}

/// Why a run cannot decide without guessing; the run fails, so nothing is rendered from
/// a guess, and Deckhouse retries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unproven {
    /// The ConfigMap is not in the snapshot, and nothing shows it is really absent.
    ConfigMap,
    /// No LINSTOR in the snapshot, but the CRD listing did not arrive either.
    Linstor,
}

impl Unproven {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfigMap => {
                "ConfigMap d8-sds-replicated-volume/control-plane-migration is not in this run's snapshot, and the snapshot does not show it absent (no kube-root-ca.crt in the ConfigMap listing, no kube-system in the Namespace listing): the snapshots are empty or incomplete"
            }
            Self::Linstor => {
                "LINSTOR is not in this run's snapshot, and the CRD listing did not arrive (no moduleconfigs.deckhouse.io in it): cannot tell a fresh install from a LINSTOR cluster"
            }
        }
    }
}

/// The state to create a missing ConfigMap with, decided only on positive evidence:
/// progress already in the values, LINSTOR seen, or a CRD listing without LINSTOR.
pub fn seed_state(
    table: &StateTable,
    current: Option<&str>,
    evidence: Evidence,
) -> Result<(&'static str, SeedReason), Unproven> {
    if !evidence.configmap_absent() {
        return Err(Unproven::ConfigMap);
    }
    match current.and_then(|c| table.canonical(c)) {
        Some(kept) if kept != table.first() => Ok((kept, SeedReason::KeepCurrent)),
        _ if evidence.linstor_seen => Ok((table.first(), SeedReason::LinstorInstalled)),
        _ if evidence.crds_listed => Ok((table.last(), SeedReason::FreshInstall)),
        _ => Err(Unproven::Linstor),
    }
}

/// Whether objects can be created in this namespace: it exists and is not being deleted
/// (a create there fails, and a failing hook blocks the module's queue).
pub fn namespace_usable(namespace: Option<&Value>) -> bool {
    let Some(ns) = namespace else { return false };
    let deleting = ns
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null());
    let terminating = ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating");
    !deleting && !terminating
}

/// Compares the candidate with the current value.
pub fn outcome(table: &StateTable, inputs: &Inputs, candidate: &str) -> Outcome {
    match table.judge(inputs.current_state(), candidate) {
        Ok(()) => {
            let state = table.canonical(candidate).unwrap_or_else(|| table.first());
            let changed = inputs.current_state() != Some(state);
            Outcome::Accepted { state, changed }
        }
        Err(reason) => Outcome::Rejected {
            state: candidate.to_owned(),
            reason,
        },
    }
}

/// The ConfigMap as the hook creates it.
pub fn configmap_object(state: &str) -> Value {
    json!({
        "apiVersion": CONFIG_MAP.api_version,
        "kind": CONFIG_MAP.kind,
        "metadata": {
            "name": CONFIG_MAP.name,
            "namespace": CONFIG_MAP.namespace,
            "labels": {"heritage": "deckhouse", "module": "sds-replicated-volume"},
        },
        "data": {"state": state},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: StateTable = StateTable::new(&["new", "half", "done"]);

    fn inputs(current: Option<Value>) -> Inputs {
        Inputs {
            new_control_plane: true,
            current,
        }
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

    const LISTED: Evidence = Evidence {
        configmaps_listed: true,
        namespaces_listed: true,
        namespace_present: true,
        crds_listed: true,
        linstor_seen: false,
    };

    #[test]
    fn seed_state_prefers_kept_progress_then_linstor() {
        let linstor = Evidence {
            linstor_seen: true,
            ..LISTED
        };
        assert_eq!(
            seed_state(&T, None, linstor),
            Ok(("new", SeedReason::LinstorInstalled))
        );
        assert_eq!(
            seed_state(&T, None, LISTED),
            Ok(("done", SeedReason::FreshInstall))
        );
        assert_eq!(
            seed_state(&T, Some("new"), LISTED),
            Ok(("done", SeedReason::FreshInstall))
        );
        assert_eq!(
            seed_state(&T, Some("half"), LISTED),
            Ok(("half", SeedReason::KeepCurrent))
        );
        assert_eq!(
            seed_state(&T, Some("done"), linstor),
            Ok(("done", SeedReason::KeepCurrent))
        );
        assert_eq!(
            seed_state(&T, Some("bogus"), linstor),
            Ok(("new", SeedReason::LinstorInstalled))
        );
    }

    #[test]
    fn absence_is_not_evidence() {
        // Empty snapshots: nothing is decided, whatever the values hold.
        for current in [None, Some("new"), Some("half"), Some("done")] {
            assert_eq!(
                seed_state(&T, current, Evidence::default()),
                Err(Unproven::ConfigMap),
                "{current:?}"
            );
        }
        // The ConfigMap listing arrived, the CRD listing did not: no fresh install.
        let no_crds = Evidence {
            crds_listed: false,
            ..LISTED
        };
        assert_eq!(seed_state(&T, None, no_crds), Err(Unproven::Linstor));
        // LINSTOR seen is positive evidence even without the CRD listing's canary.
        let linstor = Evidence {
            linstor_seen: true,
            ..no_crds
        };
        assert_eq!(
            seed_state(&T, None, linstor),
            Ok(("new", SeedReason::LinstorInstalled))
        );
    }

    #[test]
    fn configmap_absence_needs_its_listing_or_a_missing_namespace() {
        assert!(!Evidence::default().configmap_absent());
        let first_install = Evidence {
            namespaces_listed: true,
            ..Evidence::default()
        };
        assert!(first_install.configmap_absent());
        let namespace_only = Evidence {
            namespaces_listed: true,
            namespace_present: true,
            ..Evidence::default()
        };
        assert!(!namespace_only.configmap_absent());
        let listed = Evidence {
            configmaps_listed: true,
            ..Evidence::default()
        };
        assert!(listed.configmap_absent());
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
    fn outcome_accepts_and_reports_change() {
        let same = outcome(&T, &inputs(Some(json!("half"))), "half");
        assert_eq!(
            same,
            Outcome::Accepted {
                state: "half",
                changed: false
            }
        );
        let ahead = outcome(&T, &inputs(Some(json!("half"))), "done");
        assert_eq!(
            ahead,
            Outcome::Accepted {
                state: "done",
                changed: true
            }
        );
        let absent = outcome(&T, &inputs(None), "new");
        assert_eq!(
            absent,
            Outcome::Accepted {
                state: "new",
                changed: true
            }
        );
        let non_string = outcome(&T, &inputs(Some(json!(1))), "half");
        assert_eq!(
            non_string,
            Outcome::Accepted {
                state: "half",
                changed: true
            }
        );
    }

    #[test]
    fn outcome_rejects_with_reason() {
        let back = outcome(&T, &inputs(Some(json!("done"))), "half");
        assert_eq!(
            back,
            Outcome::Rejected {
                state: "half".into(),
                reason: Rejection::Regression
            }
        );
        let unknown = outcome(&T, &inputs(Some(json!("half"))), "Half");
        assert_eq!(
            unknown,
            Outcome::Rejected {
                state: "Half".into(),
                reason: Rejection::UnknownState
            }
        );
    }

    #[test]
    fn configmap_object_names_the_watched_configmap() {
        let object = configmap_object("new");
        assert!(CONFIG_MAP.matches(&object));
        assert_eq!(object["data"]["state"], "new");
    }
}
