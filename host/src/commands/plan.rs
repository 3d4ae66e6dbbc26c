//! `plan`: the gating table and the state diagram, produced by running the render guest
//! itself, so the documentation cannot drift from the logic.

use crate::bindings::{Decision, PlanInput, StateMachine};
use crate::cli::Cli;
use crate::error::{HostError, Result};
use crate::manifest::{Guest, World};
use std::fmt::Write;
use std::process::ExitCode;

pub fn run(cli: &Cli, name: Option<&str>) -> Result<ExitCode> {
    let runtime = super::runtime(cli)?;
    let guest = render_guest(&runtime.manifest.guests, name)?;
    let mut instance = runtime.prepare_render(guest)?.instantiate()?;
    let machine = instance.call_bounded("describe", |b, s| {
        b.deckhouse_hooks_render().call_describe(s)
    })?;
    let mut rows = Vec::new();
    for new_control_plane in [false, true] {
        for state in &machine.states {
            let input = PlanInput {
                new_control_plane,
                state: state.clone(),
            };
            let plan = instance
                .call_bounded("plan", |b, s| {
                    b.deckhouse_hooks_render().call_plan(s, &input)
                })?
                .map_err(|message| HostError::GuestFailed {
                    guest: guest.name.clone(),
                    message,
                })?;
            rows.push((new_control_plane, state.clone(), plan));
        }
    }
    print!("{}", markdown(&guest.name, &machine, &rows));
    Ok(ExitCode::SUCCESS)
}

fn render_guest<'a>(guests: &'a [Guest], name: Option<&str>) -> Result<&'a Guest> {
    let renders: Vec<&Guest> = guests.iter().filter(|g| g.world == World::Render).collect();
    let found = match name {
        Some(n) => renders.iter().find(|g| g.name == n).copied(),
        None if renders.len() == 1 => Some(renders[0]),
        None => None,
    };
    found.ok_or_else(|| HostError::UnknownGuest {
        name: name.unwrap_or("(the only render guest)").into(),
        world: "render-guest",
        known: renders
            .iter()
            .map(|g| g.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// The table (one row per switch and state) and the Mermaid diagram.
pub fn markdown(
    guest: &str,
    machine: &StateMachine,
    rows: &[(bool, String, Vec<Decision>)],
) -> String {
    let components: Vec<String> = rows
        .first()
        .map(|(_, _, p)| p.iter().map(|d| d.component.clone()).collect())
        .unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!-- produced by `wasm-hooks plan` from guest {guest}; do not edit by hand -->\n"
    );
    let _ = writeln!(
        out,
        "| newControlPlane | state | {} |",
        components.join(" | ")
    );
    let _ = writeln!(out, "|---|---|{}", "---|".repeat(components.len()));
    for (switch, state, plan) in rows {
        let cells: Vec<&str> = components
            .iter()
            .map(|c| match plan.iter().find(|d| &d.component == c) {
                Some(d) if d.rendered => "rendered",
                Some(_) => "—",
                None => "?",
            })
            .collect();
        let _ = writeln!(out, "| {switch} | {state} | {} |", cells.join(" | "));
    }
    let _ = writeln!(out, "\n```mermaid\nstateDiagram-v2");
    for t in &machine.transitions {
        let from = if t.from.is_empty() {
            "[*]"
        } else {
            t.from.as_str()
        };
        let to = if t.to.is_empty() {
            "[*]"
        } else {
            t.to.as_str()
        };
        let _ = writeln!(
            out,
            "    {from} --> {to} : {}",
            t.trigger.replace(':', " -")
        );
    }
    let _ = writeln!(out, "```");
    out
}
