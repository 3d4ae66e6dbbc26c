//! What a person reads: one line per action, and the same as a JSON trace.

use super::invariants::Violation;
use super::world::{Action, JobPhase, Outcome, World};
use serde::Serialize;
use std::fmt::Write as _;

/// One action and the system right after it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub step: usize,
    pub actor: &'static str,
    pub action: Action,
    pub what: String,
    /// `data.state` of the ConfigMap, if it exists.
    pub configmap: Option<String>,
    /// `internal.controlPlaneMigration`.
    pub internal: Option<String>,
    pub new_control_plane: bool,
    /// The chart's components whose workloads exist.
    pub running: Vec<&'static str>,
    pub job: JobPhase,
    pub notes: Vec<String>,
    pub violations: Vec<Violation>,
}

impl Line {
    pub fn new(
        step: usize,
        action: Action,
        outcome: Outcome,
        world: &World,
        key: &str,
        violations: Vec<Violation>,
    ) -> Self {
        Self {
            step,
            actor: action.actor(),
            what: action.describe(),
            action,
            configmap: world.state(),
            internal: world.internal(key),
            new_control_plane: world.new_control_plane,
            running: world.running(),
            job: world.job,
            notes: outcome.notes,
            violations,
        }
    }
}

/// The timeline as text: a header, then each step with its notes and violations.
pub fn render(lines: &[Line]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>4}  {:<11}  {:<16}  {:<16}  {:<5}  {:<28}  {:<9}  action",
        "step", "actor", "configmap", "internal", "newCP", "running", "job"
    );
    for line in lines {
        let running = if line.running.is_empty() {
            "-".to_owned()
        } else {
            line.running.join("+")
        };
        let _ = writeln!(
            out,
            "{:>4}  {:<11}  {:<16}  {:<16}  {:<5}  {:<28}  {:<9}  {}",
            line.step,
            line.actor,
            line.configmap.as_deref().unwrap_or("-"),
            line.internal.as_deref().unwrap_or("-"),
            line.new_control_plane,
            running,
            format!("{:?}", line.job),
            line.what
        );
        for note in &line.notes {
            let _ = writeln!(out, "{:>6}- {note}", "");
        }
        for v in &line.violations {
            let _ = writeln!(out, "{:>6}!! {} violated: {}", "", v.invariant, v.message);
        }
    }
    out
}
