//! The rules every plan must keep, whatever the table says. Guests run these over every
//! (switch, state) pair in their tests, so a table edit that breaks one fails the build.

use std::collections::HashSet;

use crate::plan::{Decision, PlanInput};
use crate::table::{Component, StateTable, TERMINAL};

/// Checks one plan: shape, LINSTOR vs. new control plane, CSI backend, Job window.
pub fn check_plan(table: &StateTable, input: &PlanInput, plan: &[Decision]) -> Result<(), String> {
    check_shape(plan)?;
    let on = |c: Component| plan.iter().any(|d| d.component == c && d.rendered);
    let (linstor, agent, controller) = (
        on(Component::Linstor),
        on(Component::Agent),
        on(Component::Controller),
    );
    if linstor && (agent || controller) {
        return Err("LINSTOR rendered together with the new agent or controller".into());
    }
    // I4: LINSTOR only before the migration left its first state, whatever the switch says.
    let first = table.states.first().map(|row| row.state);
    if linstor && first != Some(input.state.as_str()) {
        return Err(format!(
            "LINSTOR rendered in state {} (newControlPlane={}): only the first state may run it",
            input.state, input.new_control_plane
        ));
    }
    let finished = table.final_state() == Some(input.state.as_str());
    if on(Component::Csi) && !(linstor || (agent && controller && finished)) {
        return Err(format!(
            "CSI rendered without its backend in state {}",
            input.state
        ));
    }
    let migrating = input.new_control_plane && !finished;
    if on(Component::MigrationJob) && !migrating {
        return Err(format!(
            "migration Job rendered with newControlPlane={} in state {}",
            input.new_control_plane, input.state
        ));
    }
    Ok(())
}

/// Every component exactly once, in order, each with a one-line reason.
fn check_shape(plan: &[Decision]) -> Result<(), String> {
    let order: Vec<Component> = plan.iter().map(|d| d.component).collect();
    if order != Component::ALL {
        return Err(format!("plan lists {order:?}, want {:?}", Component::ALL));
    }
    match plan
        .iter()
        .find(|d| d.reason.trim().is_empty() || d.reason.contains('\n'))
    {
        Some(d) => Err(format!(
            "{} needs a one-line reason, got {:?}",
            d.component.key(),
            d.reason
        )),
        None => Ok(()),
    }
}

/// Checks the table itself: states unique and named, every state reachable in the documented
/// transitions, transitions naming only known states, values path a JSON pointer.
pub fn check_table(table: &StateTable) -> Result<(), String> {
    let names = table.state_names();
    if names.is_empty() {
        return Err("the table has no states".into());
    }
    let known: HashSet<&str> = names.iter().copied().collect();
    if known.len() != names.len() {
        return Err(format!("duplicate states in {names:?}"));
    }
    if let Some(bad) = names
        .iter()
        .find(|n| n.is_empty() || n.contains(char::is_whitespace))
    {
        return Err(format!("state name {bad:?} is empty or has whitespace"));
    }
    check_transitions(table, &known)?;
    if !table.values_path.starts_with('/') {
        return Err(format!(
            "values path {:?} is not a JSON pointer",
            table.values_path
        ));
    }
    Ok(())
}

fn check_transitions(table: &StateTable, known: &HashSet<&str>) -> Result<(), String> {
    for t in table.transitions {
        for end in [t.from, t.to] {
            if end != TERMINAL && !known.contains(end) {
                return Err(format!(
                    "transition {} -> {} names unknown state {end:?}",
                    t.from, t.to
                ));
            }
        }
        if t.trigger.trim().is_empty() {
            return Err(format!("transition {} -> {} has no trigger", t.from, t.to));
        }
    }
    let reached: HashSet<&str> = table.transitions.iter().map(|t| t.to).collect();
    match known.iter().find(|s| !reached.contains(*s)) {
        Some(orphan) => Err(format!("no transition leads to state {orphan:?}")),
        None => Ok(()),
    }
}

/// Runs [`check_plan`] over every (switch, state) pair of a table.
pub fn check_all_plans(table: &StateTable) -> Result<(), String> {
    for new_control_plane in [false, true] {
        for state in table.state_names() {
            let input = PlanInput {
                new_control_plane,
                state: state.to_owned(),
            };
            let plan = table.plan(&input).map_err(|e| e.to_string())?;
            check_plan(table, &input, &plan)
                .map_err(|e| format!("newControlPlane={new_control_plane}, {state}: {e}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
