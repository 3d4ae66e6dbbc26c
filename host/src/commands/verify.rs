//! `verify SCENARIO`: every interleaving from the scenario's initial state, up to a
//! depth and a fault budget; I1-I8 after every action. A violation prints the shortest
//! trace as a timeline and exits 1.

use super::simulate::{sim_error, write_trace};
use crate::cli::Cli;
use crate::error::Result;
use crate::simulate::explore::{Bound, explore};
use crate::simulate::scenario::Scenario;
use crate::simulate::{self as sim, timeline};
use std::path::Path;
use std::process::ExitCode;

pub fn run(cli: &Cli, path: &Path, bound: Bound, trace: Option<&Path>) -> Result<ExitCode> {
    let runtime = super::runtime(cli)?;
    let (guests, states) = sim::guests(&runtime).map_err(sim_error)?;
    let (scenario, dir) = Scenario::load(path).map_err(sim_error)?;
    let world = scenario
        .world(&dir, &guests.values_key)
        .map_err(sim_error)?;
    let report = explore(world, &guests, &states, bound, |depth, states, frontier| {
        eprintln!("depth {depth}: {states} states, {frontier} new");
    })
    .map_err(sim_error)?;
    if let Some(file) = trace {
        write_trace(file, &serde_json::to_value(&report).unwrap_or_default())?;
    }
    if let Some(lines) = &report.counterexample {
        println!(
            "VIOLATION after {} actions ({} states explored); shortest trace:",
            lines.len(),
            report.states
        );
        print!("{}", timeline::render(lines));
        return Ok(ExitCode::from(1));
    }
    println!(
        "verified: I1-I8 hold in {} states ({} transitions), depth {}, at most {} fault(s) per trace; {} states reach {} with the Job succeeded",
        report.states,
        report.transitions,
        report.depth,
        bound.faults,
        report.completed,
        states.last()
    );
    if report.completed == 0 {
        println!(
            "FAILED: no trace reaches {} within the bound: raise --depth",
            states.last()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
