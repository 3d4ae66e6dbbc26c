//! One file per command; [`run`] dispatches.

pub mod hook;
pub mod job;
pub mod plan;
pub mod precompile;
pub mod rbac;
pub mod shell;
pub mod test;

use crate::cli::{Cli, Command, HookCommand};
use crate::error::{HostError, Result};
use crate::manifest::Manifest;
use crate::runtime::cache::ComponentCache;
use crate::runtime::guest::Runtime;
use std::path::PathBuf;
use std::process::ExitCode;

/// The hooks folder: the flag or env, else `wasm-guests/` beside the binary.
pub fn hooks_dir(cli: &Cli) -> Result<PathBuf> {
    if let Some(dir) = &cli.hooks_dir {
        return Ok(dir.clone());
    }
    let exe = std::env::current_exe().map_err(|e| HostError::Other(format!("cannot find this binary's folder: {e}; pass --hooks-dir")))?;
    let dir = exe.parent().map(|p| p.join("wasm-guests")).unwrap_or_else(|| PathBuf::from("wasm-guests"));
    Ok(dir)
}

/// Loads the manifest and builds the runtime with its cache.
pub fn runtime(cli: &Cli) -> Result<Runtime> {
    let dir = hooks_dir(cli)?;
    let manifest = Manifest::load(&dir)?;
    let cache = cli.cache_dir.clone().unwrap_or_else(|| dir.join(".cache"));
    Runtime::new(manifest, ComponentCache::new(Some(cache)))
}

/// Runs the command the command line names.
pub fn run(cli: &Cli) -> Result<ExitCode> {
    match &cli.command {
        None if cli.config => shell::config(cli),
        None => shell::run(cli),
        Some(Command::Hook(HookCommand::List)) => hook::list(cli),
        Some(Command::Hook(HookCommand::Config)) => hook::config(cli),
        Some(Command::Hook(HookCommand::Run { index })) => hook::run(cli, *index),
        Some(Command::Hook(HookCommand::Ready)) => hook::ready(),
        Some(Command::Hook(HookCommand::Check)) => hook::check(),
        Some(Command::Precompile) => precompile::run(cli),
        Some(Command::Test { dir, update }) => test::run(cli, dir, *update),
        Some(Command::Plan { guest }) => plan::run(cli, guest.as_deref()),
        Some(Command::Job { name, kubeconfig, api_timeout }) => job::run(cli, name, kubeconfig.clone(), *api_timeout),
        Some(Command::Rbac { guest, crds, chart }) => rbac::run(cli, guest, crds, chart.as_deref()),
    }
}
