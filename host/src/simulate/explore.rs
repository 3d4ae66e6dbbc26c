//! `verify`: breadth-first exploration of every interleaving of the system's actions up
//! to a depth and a fault budget, states deduplicated by a hash of the abstract state.
//! Breadth-first, so the first violation found has a shortest trace.

use super::SimError;
use super::cluster::CallFault;
use super::invariants::{self, States, Violation};
use super::scenario::restart_check;
use super::timeline::Line;
use super::world::{Action, Guests, JobPhase, World};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};

/// How far to look.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    /// Actions per trace.
    pub depth: u32,
    /// Faults per trace (non-full snapshots, API errors, kills, restarts, forced or
    /// refused switches, recovery resets, deleted Jobs).
    pub faults: u32,
}

/// What an exploration saw.
#[derive(Debug, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub states: usize,
    pub transitions: usize,
    /// States in which the migration is finished and the Job succeeded.
    pub completed: usize,
    pub depth: u32,
    /// The shortest trace to a violation, if any.
    pub counterexample: Option<Vec<Line>>,
}

struct Node {
    parent: Option<usize>,
    line: Option<Line>,
}

/// Explores from `start`; stops at the first violation.
pub fn explore(
    start: World,
    guests: &Guests,
    states: &States,
    bound: Bound,
    mut progress: impl FnMut(u32, usize, usize),
) -> Result<Report, SimError> {
    let key = guests.values_key.clone();
    let mut report = Report::default();
    let mut seen = HashSet::new();
    let mut fingerprints = Fingerprints::default();
    seen.insert(fingerprints.of(&start));
    let mut nodes = vec![Node {
        parent: None,
        line: None,
    }];
    let mut frontier = vec![(start, 0usize)];
    report.states = 1;
    for depth in 1..=bound.depth {
        let mut next = Vec::new();
        for (world, node) in frontier {
            for (action, after, outcome, violations) in successors(&world, guests, states, bound)? {
                report.transitions += 1;
                let line = Line::new(depth as usize, action, outcome, &after, &key, violations);
                if !line.violations.is_empty() {
                    nodes.push(Node {
                        parent: Some(node),
                        line: Some(line),
                    });
                    report.counterexample = Some(trace(&nodes, nodes.len() - 1));
                    report.depth = depth;
                    return Ok(report);
                }
                if !seen.insert(fingerprints.of(&after)) {
                    continue;
                }
                if after.job == JobPhase::Succeeded
                    && after.state().as_deref() == Some(states.last())
                {
                    report.completed += 1;
                }
                nodes.push(Node {
                    parent: Some(node),
                    line: Some(line),
                });
                next.push((after, nodes.len() - 1));
            }
        }
        report.states = seen.len();
        report.depth = depth;
        progress(depth, report.states, next.len());
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    Ok(report)
}

type Successor = (Action, World, super::world::Outcome, Vec<Violation>);

/// Every action enabled in `world`, applied to a copy, with its checks.
fn successors(
    world: &World,
    guests: &Guests,
    states: &States,
    bound: Bound,
) -> Result<Vec<Successor>, SimError> {
    let mut out = Vec::new();
    let mut actions = world.enabled(bound.faults);
    let mut i = 0;
    while i < actions.len() {
        let action = actions[i];
        i += 1;
        let mut after = world.clone();
        let (outcome, calls) = after.apply(guests, action)?;
        if action == (Action::JobStep { fault: None }) && world.faults < bound.faults {
            // One fault at each call the fault-free step made, of each kind.
            for at in 0..calls {
                for kind in [CallFault::Unavailable, CallFault::Invalid, CallFault::Kill] {
                    actions.push(Action::JobStep {
                        fault: Some((at, kind)),
                    });
                }
            }
        }
        let mut violations =
            invariants::check(states, &guests.values_key, world, &action, &outcome, &after);
        if let Some(v) = restart_check(world, guests, action, &after)? {
            violations.push(v);
        }
        out.push((action, after, outcome, violations));
    }
    Ok(out)
}

fn trace(nodes: &[Node], mut at: usize) -> Vec<Line> {
    let mut lines = Vec::new();
    loop {
        let node = &nodes[at];
        if let Some(line) = &node.line {
            lines.push(line.clone());
        }
        match node.parent {
            Some(parent) => at = parent,
            None => break,
        }
    }
    lines.reverse();
    for (i, line) in lines.iter_mut().enumerate() {
        line.step = i + 1;
    }
    lines
}

/// A hash of the abstract state: objects without server-owned metadata, values, the
/// switch, the Job, the last render, what the hook last saw, and the fault count.
pub fn fingerprint(world: &World) -> [u8; 32] {
    Fingerprints::default().of(world)
}

/// [`fingerprint`] for many states, each object's digest computed once while it is
/// unchanged: a state differs from its parent in a few objects, and the store shares the
/// others (`Arc`) across every state that holds them. Hashing every object of every state
/// through borrowed views was still most of `verify`.
#[derive(Default)]
pub struct Fingerprints {
    /// Digest by the object's allocation. The `Weak` keeps that allocation (not the
    /// object) alive, so its address cannot be reused by another object while the entry
    /// exists.
    objects: HashMap<*const Value, (Weak<Value>, [u8; 32])>,
    /// Entries whose object is gone are dropped when the map grows past this.
    sweep_at: usize,
}

impl Fingerprints {
    /// The state's hash.
    pub fn of(&mut self, world: &World) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&(world.store.len() as u64).to_le_bytes());
        for object in world.store.shared_objects() {
            hasher.update(&self.object(object));
        }
        let last_seen = world.last_seen.as_ref().map(|seen| {
            seen.iter()
                .map(|(binding, objects)| (binding, objects.iter().map(Normalized).collect()))
                .collect::<Vec<(&String, Vec<Normalized<'_>>)>>()
        });
        let rest = AbstractState {
            values: &world.values,
            switch: world.new_control_plane,
            job: &world.job,
            applied: &world.applied,
            last_seen,
            hook_saw: &world.hook_saw,
            before_restart: &world.before_restart,
            linstor_stopped: world.linstor_stopped,
            faults: world.faults,
        };
        serde_json::to_writer(&mut hasher, &rest).expect("serializing to a hasher cannot fail");
        *hasher.finalize().as_bytes()
    }

    /// One object's digest, without its server-owned metadata.
    fn object(&mut self, object: &Arc<Value>) -> [u8; 32] {
        // An entry at this address is this object's: its `Weak` has kept the allocation.
        let key = Arc::as_ptr(object);
        if let Some((_, digest)) = self.objects.get(&key) {
            return *digest;
        }
        let mut hasher = blake3::Hasher::new();
        serde_json::to_writer(&mut hasher, &Normalized(object))
            .expect("serializing to a hasher cannot fail");
        let digest = *hasher.finalize().as_bytes();
        if self.objects.len() >= self.sweep_at {
            self.objects.retain(|_, (weak, _)| weak.strong_count() > 0);
            self.sweep_at = (2 * self.objects.len()).max(4096);
        }
        self.objects.insert(key, (Arc::downgrade(object), digest));
        digest
    }
}

/// What [`Fingerprints::of`] hashes after the objects' digests, borrowed from the world.
#[derive(serde::Serialize)]
struct AbstractState<'w> {
    values: &'w Value,
    switch: bool,
    job: &'w JobPhase,
    applied: &'w super::world::Applied,
    last_seen: Option<Vec<(&'w String, Vec<Normalized<'w>>)>>,
    hook_saw: &'w Option<String>,
    before_restart: &'w Option<Value>,
    linstor_stopped: bool,
    faults: u32,
}

/// What the API server stamps on an object, left out of the abstract state.
const SERVER_OWNED: [&str; 5] = [
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "managedFields",
];

/// An object serialized without what the API server stamps on it (`metadata`'s
/// [`SERVER_OWNED`] fields), without copying it.
struct Normalized<'o>(&'o Value);

impl serde::Serialize for Normalized<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Some(object) = self.0.as_object() else {
            return self.0.serialize(serializer);
        };
        let mut map = serializer.serialize_map(Some(object.len()))?;
        for (key, value) in object {
            match value.as_object() {
                Some(meta) if key == "metadata" => {
                    map.serialize_entry(key, &WithoutServerOwned(meta))?
                }
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

/// An object's `metadata` without [`SERVER_OWNED`] fields.
struct WithoutServerOwned<'o>(&'o serde_json::Map<String, Value>);

impl serde::Serialize for WithoutServerOwned<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.0
                .iter()
                .filter(|(key, _)| !SERVER_OWNED.contains(&key.as_str())),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_memstore::{Store, key_of};
    use serde_json::json;

    fn world(objects: &[Value]) -> World {
        let mut store = Store::new();
        for object in objects {
            store.create(object.clone()).unwrap();
        }
        World::switched_on(
            store,
            json!({"sdsReplicatedVolume": {"newControlPlane": true}}),
        )
    }

    fn config_map(name: &str, state: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "d8-sds-replicated-volume"},
            "data": {"state": state}})
    }

    #[test]
    fn a_cached_digest_is_reused_only_while_its_object_is_unchanged() {
        let mut fingerprints = Fingerprints::default();
        let start = world(&[config_map("a", "not_started"), config_map("b", "x")]);
        let before = fingerprints.of(&start);
        assert_eq!(before, fingerprint(&start), "the cache changes no hash");

        // A copy shares its objects and hashes the same.
        let mut after = start.clone();
        assert_eq!(fingerprints.of(&after), before);

        // A write replaces the object: the copy's hash moves, the original's does not.
        let key = key_of(&config_map("a", "")).unwrap();
        after
            .store
            .merge_patch(&key, &json!({"data": {"state": "stage1_started"}}))
            .unwrap();
        let changed = fingerprints.of(&after);
        assert_ne!(changed, before);
        assert_eq!(changed, fingerprint(&after));
        assert_eq!(fingerprints.of(&start), before);

        // Written back, the content is the start's again: only server-owned metadata
        // (resourceVersion) differs, and the abstract state is the same.
        after
            .store
            .merge_patch(&key, &json!({"data": {"state": "not_started"}}))
            .unwrap();
        assert_eq!(fingerprints.of(&after), before);
    }

    #[test]
    fn digests_of_dropped_objects_are_swept() {
        let mut fingerprints = Fingerprints::default();
        for i in 0..5000 {
            fingerprints.of(&world(&[config_map("a", &i.to_string())]));
        }
        assert!(
            fingerprints.objects.len() <= 4096,
            "{} entries for one live object",
            fingerprints.objects.len()
        );
    }
}
