//! I1-I8: what must hold after every action, whatever the interleaving (README,
//! "Invariants"). Each check reads the world before and after one action.

use super::world::{Action, JobPhase, Outcome, Snapshots, World};
use serde_json::Value;

/// The state machine's ends, read from the render guest.
#[derive(Clone, Debug)]
pub struct States {
    pub all: Vec<String>,
}

impl States {
    pub fn first(&self) -> &str {
        self.all.first().map_or("", String::as_str)
    }
    pub fn second(&self) -> &str {
        self.all.get(1).map_or("", String::as_str)
    }
    pub fn last(&self) -> &str {
        self.all.last().map_or("", String::as_str)
    }
    fn position(&self, state: &str) -> Option<usize> {
        self.all.iter().position(|s| s == state)
    }
}

/// One broken invariant.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Violation {
    pub invariant: &'static str,
    pub message: String,
}

/// Checks I1-I7 after `action` took `before` to `after`. I8 needs a second run and is
/// checked by the explorer ([`i8_restart`]).
pub fn check(
    states: &States,
    key: &str,
    before: &World,
    action: &Action,
    outcome: &Outcome,
    after: &World,
) -> Vec<Violation> {
    let mut found = Vec::new();
    let mut fail = |invariant, message: String| found.push(Violation { invariant, message });
    let running = after.running();
    let runs = |c: &str| running.contains(&c);
    if runs("linstor") && (runs("agent") || runs("controller")) {
        fail(
            "I1",
            "LINSTOR runs together with the new agent or controller".into(),
        );
    }
    if runs("csi") && !(runs("linstor") || (runs("agent") && runs("controller"))) {
        fail("I2", "CSI runs without a live backend".into());
    }
    let applied = &after.applied;
    if applied.components.iter().any(|c| c == "migrationJob")
        && !(applied.new_control_plane && applied.state != states.last())
    {
        fail(
            "I3",
            format!(
                "the Job was rendered with newControlPlane={} in state {}",
                applied.new_control_plane, applied.state
            ),
        );
    }
    let state = after.state();
    if runs("linstor") {
        let allowed = match state.as_deref() {
            None => true,
            Some(s) if s == states.first() => true,
            Some(s) => s == states.second() && !after.linstor_stopped,
        };
        if !allowed {
            fail(
                "I4",
                format!(
                    "LINSTOR runs in state {} after it was stopped for the migration",
                    state.as_deref().unwrap_or("(none)")
                ),
            );
        }
    }
    if !matches!(action, Action::Restart) {
        let (from, to) = (before.internal(key), after.internal(key));
        if let (Some(from), Some(to)) = (&from, &to)
            && let (Some(f), Some(t)) = (states.position(from), states.position(to))
            && t < f
            && !(t == 0 && from != states.last())
        {
            fail(
                "I5",
                format!("internal state moved backwards: {from} -> {to}"),
            );
        }
        let current = matches!(
            action,
            Action::ModuleRun {
                snapshots: Snapshots::Full
            } | Action::HookEvent
        );
        if current && !outcome.failed && state.is_some() && to != state {
            fail(
                "I5",
                format!(
                    "internal state {} differs from the ConfigMap's {} after a run with current snapshots",
                    to.as_deref().unwrap_or("(absent)"),
                    state.as_deref().unwrap_or("(absent)")
                ),
            );
        }
    }
    if state.as_deref() == Some(states.last()) {
        for problem in migrated(after) {
            fail("I6", problem);
        }
    }
    if matches!(
        action,
        Action::ModuleRun {
            snapshots: Snapshots::Empty | Snapshots::Partial
        }
    ) && (before.running() != running
        || (before.job == JobPhase::Absent) != (after.job == JobPhase::Absent))
    {
        fail(
            "I7",
            format!(
                "a run with missing snapshots changed what runs: {:?} -> {:?}",
                before.running(),
                running
            ),
        );
    }
    found
}

/// I8: the module run after a restart must leave running what the same run without the
/// restart leaves running.
pub fn i8_restart(with_restart: &World, without: &World) -> Option<Violation> {
    let (a, b) = (with_restart.running(), without.running());
    let (ja, jb) = (
        with_restart.job == JobPhase::Absent,
        without.job == JobPhase::Absent,
    );
    (a != b || ja != jb).then(|| Violation {
        invariant: "I8",
        message: format!(
            "after a Deckhouse restart the module run leaves {a:?} (Job {}) running, without the restart {b:?} (Job {})",
            if ja { "absent" } else { "present" },
            if jb { "absent" } else { "present" }
        ),
    })
}

/// I6: every LINSTOR volume has its ReplicatedVolume and one replica per LINSTOR
/// resource, and no DRBDResource is left in maintenance.
fn migrated(world: &World) -> Vec<String> {
    let list = |api: &str, kind: &str| world.store.list(api, kind, None, None).unwrap_or_default();
    let linstor_api = world
        .store
        .objects()
        .find(|o| o["kind"] == "ResourceDefinitions")
        .and_then(|o| o["apiVersion"].as_str().map(str::to_owned));
    let Some(api) = linstor_api else {
        return Vec::new();
    };
    let rvs = list("storage.deckhouse.io/v1alpha1", "ReplicatedVolume");
    let rvrs = list("storage.deckhouse.io/v1alpha1", "ReplicatedVolumeReplica");
    let resources = list(&api, "Resources");
    let name = |o: &Value| {
        o["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let mut problems = Vec::new();
    for rd in list(&api, "ResourceDefinitions") {
        let volume = rd["spec"]["resource_dsp_name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let upper = rd["spec"]["resource_name"].as_str().unwrap_or_default();
        if !rvs.iter().any(|rv| name(rv) == volume) {
            problems.push(format!("LINSTOR volume {volume} has no ReplicatedVolume"));
            continue;
        }
        let want = resources
            .iter()
            .filter(|r| r["spec"]["resource_name"].as_str() == Some(upper))
            .count();
        let have = rvrs
            .iter()
            .filter(|r| name(r).starts_with(&format!("{volume}-")))
            .count();
        if have < want {
            problems.push(format!(
                "LINSTOR volume {volume} has {have} ReplicatedVolumeReplicas, LINSTOR has {want} resources"
            ));
        }
    }
    for drbd in list("storage.deckhouse.io/v1alpha1", "DRBDResource") {
        if drbd["spec"]["maintenance"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
        {
            problems.push(format!(
                "DRBDResource {} is still in maintenance",
                name(&drbd)
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    //! Each invariant fed a world that breaks it, so none passes vacuously.
    use super::*;
    use crate::simulate::world::{Applied, workload_key};
    use kube_memstore::Store;
    use serde_json::json;

    const KEY: &str = "sdsReplicatedVolume";

    fn states() -> States {
        States {
            all: [
                "not_started",
                "stage1_started",
                "stage1_completed",
                "all_completed",
            ]
            .map(String::from)
            .to_vec(),
        }
    }

    fn world(state: Option<&str>, internal: &str, running: &[(&str, &str)]) -> World {
        let mut store = Store::new();
        if let Some(state) = state {
            store
                .create(json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "control-plane-migration", "namespace": "d8-sds-replicated-volume"},
                    "data": {"state": state}}))
                .unwrap();
        }
        for (kind, name) in running {
            let key = workload_key(kind, name);
            store
                .create(json!({"apiVersion": "apps/v1", "kind": kind,
                    "metadata": {"name": key.name, "namespace": key.namespace}}))
                .unwrap();
        }
        World::switched_on(
            store,
            json!({KEY: {"newControlPlane": true, "internal": {"controlPlaneMigration": internal}}}),
        )
    }

    const FULL: Action = Action::ModuleRun {
        snapshots: Snapshots::Full,
    };
    const LINSTOR: (&str, &str) = ("Deployment", "linstor-controller");
    const AGENT: (&str, &str) = ("DaemonSet", "agent");
    const CONTROLLER: (&str, &str) = ("Deployment", "controller");
    const CSI: (&str, &str) = ("Deployment", "csi-controller");

    fn broken(before: &World, action: Action, after: &World) -> Vec<&'static str> {
        check(&states(), KEY, before, &action, &Outcome::default(), after)
            .into_iter()
            .map(|v| v.invariant)
            .collect()
    }

    #[test]
    fn a_consistent_world_breaks_nothing() {
        let w = world(Some("not_started"), "not_started", &[LINSTOR, CSI]);
        assert!(broken(&w, FULL, &w).is_empty());
    }

    #[test]
    fn i1_and_i2_watch_what_runs() {
        let w = world(None, "not_started", &[LINSTOR, AGENT]);
        assert!(broken(&w, FULL, &w).contains(&"I1"));
        let w = world(None, "not_started", &[CSI, AGENT]);
        assert!(broken(&w, FULL, &w).contains(&"I2"));
    }

    #[test]
    fn i3_watches_the_rendered_job() {
        let mut w = world(Some("all_completed"), "all_completed", &[]);
        w.applied = Applied {
            components: vec!["migrationJob".into()],
            new_control_plane: true,
            state: "all_completed".into(),
        };
        assert!(broken(&w, FULL, &w).contains(&"I3"));
    }

    #[test]
    fn i4_allows_linstor_only_before_it_was_stopped() {
        let mut w = world(Some("stage1_started"), "stage1_started", &[LINSTOR]);
        assert!(!broken(&w, FULL, &w).contains(&"I4"));
        w.linstor_stopped = true;
        assert!(broken(&w, FULL, &w).contains(&"I4"));
        let w = world(Some("stage1_completed"), "stage1_completed", &[LINSTOR]);
        assert!(broken(&w, FULL, &w).contains(&"I4"));
    }

    #[test]
    fn i5_refuses_backward_moves_and_stale_values() {
        let before = world(Some("stage1_completed"), "stage1_completed", &[]);
        let after = world(Some("stage1_completed"), "stage1_started", &[]);
        assert!(broken(&before, FULL, &after).contains(&"I5"));
        let reset = world(Some("not_started"), "not_started", &[]);
        assert!(!broken(&before, FULL, &reset).contains(&"I5"));
        let done = world(Some("all_completed"), "all_completed", &[]);
        assert!(broken(&done, FULL, &reset).contains(&"I5"));
        assert!(!broken(&done, Action::Restart, &reset).contains(&"I5"));
    }

    #[test]
    fn i6_wants_every_volume_migrated() {
        let mut w = world(Some("all_completed"), "all_completed", &[]);
        w.store
            .create(json!({"apiVersion": "internal.linstor.linbit.com/v1-19-1", "kind": "ResourceDefinitions",
                "metadata": {"name": "x"}, "spec": {"resource_name": "PVC-1", "resource_dsp_name": "pvc-1"}}))
            .unwrap();
        assert!(broken(&w, FULL, &w).contains(&"I6"));
    }

    #[test]
    fn i7_and_i8_compare_what_runs() {
        let before = world(
            Some("stage1_completed"),
            "stage1_completed",
            &[AGENT, CONTROLLER],
        );
        let after = world(Some("stage1_completed"), "stage1_completed", &[]);
        let empty = Action::ModuleRun {
            snapshots: Snapshots::Empty,
        };
        assert!(broken(&before, empty, &after).contains(&"I7"));
        assert!(i8_restart(&after, &before).is_some());
        assert!(i8_restart(&before, &before).is_none());
    }
}
