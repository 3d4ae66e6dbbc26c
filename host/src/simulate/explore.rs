//! `verify`: breadth-first exploration of every interleaving of the system's actions up
//! to a depth and a fault budget, states deduplicated by a hash of the abstract state.
//! Breadth-first, so the first violation found has a shortest trace.

use super::SimError;
use super::cluster::CallFault;
use super::invariants::{self, States, Violation};
use super::scenario::restart_check;
use super::timeline::Line;
use super::world::{Action, Guests, JobPhase, World};
use serde_json::{Value, json};
use std::collections::HashSet;

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
    seen.insert(fingerprint(&start));
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
                if !seen.insert(fingerprint(&after)) {
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
    let objects: Vec<Value> = world.store.objects().map(normalized).collect();
    let last_seen = world.last_seen.as_ref().map(|seen| {
        seen.iter()
            .map(|(b, objects)| {
                (
                    b.clone(),
                    objects.iter().map(normalized).collect::<Vec<_>>(),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    });
    let abstract_state = json!({
        "objects": objects,
        "values": world.values,
        "switch": world.new_control_plane,
        "job": world.job,
        "applied": world.applied,
        "lastSeen": last_seen,
        "hookSaw": world.hook_saw,
        "beforeRestart": world.before_restart,
        "linstorStopped": world.linstor_stopped,
        "faults": world.faults,
    });
    *blake3::hash(abstract_state.to_string().as_bytes()).as_bytes()
}

/// An object without what the API server stamps on it.
fn normalized(object: &Value) -> Value {
    let mut o = object.clone();
    if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in [
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "generation",
            "managedFields",
        ] {
            meta.remove(field);
        }
    }
    o
}
