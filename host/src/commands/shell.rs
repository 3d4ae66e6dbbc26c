//! Deckhouse's shell protocol, for an install with a single hook: `--config` prints its
//! v1 config, a bare run runs it.

use crate::cli::Cli;
use crate::deckhouse::config;
use crate::deckhouse::run::RunInputs;
use crate::error::{HostError, Result};
use crate::manifest::Guest;
use crate::protocol::hook_config::Form;
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
    println!("{}", config::render(&runtime, guest, Form::Shell)?);
    Ok(ExitCode::SUCCESS)
}

/// A bare run.
pub fn run(cli: &Cli) -> Result<ExitCode> {
    let runtime = super::runtime(cli)?;
    let guest = single(&runtime)?;
    let inputs = RunInputs::from_env()?;
    super::run_and_write(
        cli,
        &runtime,
        guest,
        inputs,
        "wasm-hooks (shell protocol)".into(),
    )
}
