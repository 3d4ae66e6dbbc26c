//! `simulate SCENARIO`: the whole migration on one machine with the real guests; prints
//! the timeline, writes the JSON trace, exits 1 when an invariant broke or the scenario's
//! expectations were not met.

use crate::cli::Cli;
use crate::error::{HostError, Result};
use crate::simulate::scenario::{self, Scenario};
use crate::simulate::{self as sim, SimError, timeline};
use std::path::Path;
use std::process::ExitCode;

pub fn run(cli: &Cli, path: &Path, trace: Option<&Path>) -> Result<ExitCode> {
    let runtime = super::runtime(cli)?;
    let (guests, states) = sim::guests(&runtime).map_err(other)?;
    let (scenario, dir) = Scenario::load(path).map_err(other)?;
    let world = scenario.world(&dir, &guests.values_key).map_err(other)?;
    let run = scenario::run(&scenario, world, &guests, &states).map_err(other)?;
    println!(
        "scenario {}: {}",
        path.display(),
        scenario.description.trim()
    );
    print!("{}", timeline::render(&run.lines));
    if let Some(file) = trace {
        write_trace(
            file,
            &serde_json::json!({"scenario": path, "timeline": run.lines, "problems": run.problems}),
        )?;
    }
    if run.problems.is_empty() {
        println!("ok: every invariant held and the expectations were met");
        Ok(ExitCode::SUCCESS)
    } else {
        for problem in &run.problems {
            println!("FAILED: {problem}");
        }
        Ok(ExitCode::from(1))
    }
}

/// Writes a JSON trace file.
pub fn write_trace(file: &Path, trace: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(trace).map_err(|e| HostError::Other(e.to_string()))?;
    std::fs::write(file, text + "\n").map_err(|source| HostError::Output {
        path: file.to_path_buf(),
        source,
    })
}

fn other(e: SimError) -> HostError {
    match e {
        SimError::Host(e) => e,
        other => HostError::Other(other.to_string()),
    }
}

pub(super) fn sim_error(e: SimError) -> HostError {
    other(e)
}
