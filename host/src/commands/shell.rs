//! Deckhouse's shell protocol, for an install with a single hook: `--config` prints its
//! v1 config, a bare run runs it.

use crate::cli::Cli;
use crate::error::{HostError, Result};
use crate::manifest::Guest;
use crate::protocol::hook_config::{self, Form};
use crate::protocol::output::OutputPaths;
use crate::runtime::guest::Runtime;
use std::process::ExitCode;

fn single(runtime: &Runtime) -> Result<&Guest> {
    let hooks: Vec<&Guest> = runtime.manifest.hooks().collect();
    match hooks.as_slice() {
        [one] => Ok(one),
        _ => Err(HostError::Other(format!(
            "the shell protocol runs exactly one hook, but grants.yaml lists {}; use the batch protocol (`hook list`, `hook run N`)",
            hooks.len()
        ))),
    }
}

/// `--config`: the v1 config on stdout, nothing else.
pub fn config(cli: &Cli) -> Result<ExitCode> {
    let runtime = super::runtime(cli)?;
    let guest = single(&runtime)?;
    let config = super::hook::guest_config(&runtime, guest)?;
    println!("{}", hook_config::render(&guest.name, &config, Form::Shell));
    Ok(ExitCode::SUCCESS)
}

/// A bare run.
pub fn run(cli: &Cli) -> Result<ExitCode> {
    let runtime = super::runtime(cli)?;
    let guest = single(&runtime)?;
    super::hook::run_guest(&runtime, guest)?.write(&OutputPaths::from_env())?;
    Ok(ExitCode::SUCCESS)
}
