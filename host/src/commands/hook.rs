//! Deckhouse's batch protocol: `hook list`, `hook config`, `hook run N`, `hook ready`,
//! `hook check`.

use crate::cli::Cli;
use crate::deckhouse::{config, run::RunInputs};
use crate::error::{HostError, Result};
use crate::logging;
use crate::manifest::{Guest, Manifest};
use crate::protocol::binding_context::BindingContexts;
use crate::protocol::env;
use serde_json::json;
use std::process::ExitCode;

/// `Found N items:` then `I - NAME`: works with an empty environment, as discovery runs
/// it, and reads nothing but the manifest.
pub fn list(cli: &Cli) -> Result<ExitCode> {
    let manifest = Manifest::load(&super::hooks_dir(cli)?)?;
    let hooks: Vec<&Guest> = manifest.hooks().collect();
    println!("Found {} items:", hooks.len());
    for (i, hook) in hooks.iter().enumerate() {
        println!("{i} - {}", hook.name);
    }
    Ok(ExitCode::SUCCESS)
}

/// Every hook's configuration, in `hook list` order, plus the readiness probe.
pub fn config(cli: &Cli) -> Result<ExitCode> {
    let runtime = super::runtime(cli)?;
    println!("{}", config::batch_document(&runtime)?);
    Ok(ExitCode::SUCCESS)
}

/// Runs hook `index` with the files Deckhouse named; writes outputs only on success.
pub fn run(cli: &Cli, index: usize) -> Result<ExitCode> {
    let runtime = super::runtime(cli)?;
    let hooks: Vec<&Guest> = runtime.manifest.hooks().collect();
    let guest = *hooks.get(index).ok_or(HostError::UnknownHook {
        index,
        count: hooks.len(),
    })?;
    let inputs = RunInputs::from_env()?;
    let result = super::run_and_write(cli, &runtime, guest, inputs, format!("hook run {index}"));
    // As in `run_and_write`: the process ends next, and the OS frees the engine faster.
    std::mem::forget(runtime);
    result
}

/// The readiness probe: runs the readiness guest (exit 1 when it fails), and records the
/// run as a `hook run` is recorded. Without one, the module has no probe and is ready.
pub fn ready(cli: &Cli) -> Result<ExitCode> {
    let runtime = super::runtime(cli)?;
    let Some(guest) = runtime.manifest.readiness() else {
        logging::info("no readiness probe is configured; ready", &[]);
        return Ok(ExitCode::SUCCESS);
    };
    let inputs = match env::path(env::BINDING_CONTEXT_PATH) {
        Some(_) => RunInputs::from_env()?,
        None => RunInputs {
            binding_context: BindingContexts::parse("[]").map_err(HostError::Other)?,
            values: json!({}),
            config_values: json!({}),
        },
    };
    super::run_and_write(cli, &runtime, guest, inputs, "hook ready".into())
}

/// No settings check is configured (`has_settings_check` is not set); if asked, the
/// settings are accepted when they are a JSON object.
pub fn check() -> Result<ExitCode> {
    let settings = env::read_json_var("settings", env::SETTINGS_PATH)?;
    if settings.is_object() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "{}",
        json!({"valid": false, "message": "settings must be a JSON object", "warnings": []})
    );
    Ok(ExitCode::from(1))
}
