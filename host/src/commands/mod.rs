//! One file per command; [`run`] dispatches.

pub mod hook;
pub mod job;
pub mod new;
pub mod plan;
pub mod precompile;
pub mod rbac;
pub mod shell;
pub mod simulate;
pub mod test;
pub mod verify;

use crate::cli::{Cli, Command, HookCommand};
use crate::deckhouse::record;
use crate::deckhouse::run::{RunInputs, prepare, run_prepared};
use crate::error::{HostError, Result};
use crate::manifest::Guest;
use crate::protocol::output::OutputPaths;
use crate::runtime::cache::ComponentCache;
use crate::runtime::guest::Runtime;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The hooks folder: the flag or env, else `wasm-guests/` beside the binary.
///
/// Deckhouse runs an external module's hooks in a chroot without `/proc`, so the binary
/// finds itself from `argv[0]` (Deckhouse starts hooks by absolute path; a relative path
/// resolves against the working directory, a bare name against `PATH`), and asks
/// `/proc/self/exe` only when that fails.
pub fn hooks_dir(cli: &Cli) -> Result<PathBuf> {
    if let Some(dir) = &cli.hooks_dir {
        return Ok(dir.clone());
    }
    let exe = own_path().ok_or_else(|| HostError::Other("cannot find this binary's folder from argv[0] or /proc/self/exe; pass --hooks-dir (or set WASM_HOOKS_DIR)".into()))?;
    Ok(exe.parent().unwrap_or(Path::new(".")).join("wasm-guests"))
}

fn own_path() -> Option<PathBuf> {
    let argv0 = PathBuf::from(std::env::args_os().next()?);
    if argv0.is_absolute() {
        return Some(argv0);
    }
    if argv0.components().count() > 1 {
        return std::env::current_dir().ok().map(|cwd| cwd.join(argv0));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(&argv0))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| std::env::current_exe().ok())
}

/// Loads the manifest and builds the runtime with its cache.
pub fn runtime(cli: &Cli) -> Result<Runtime> {
    let dir = hooks_dir(cli)?;
    let cache = ComponentCache::new(Some(
        cli.cache_dir.clone().unwrap_or_else(|| dir.join(".cache")),
    ));
    let manifest = cache.manifest(&dir)?;
    Ok(Runtime::new(manifest, cache))
}

/// One hook run (or readiness probe) on `inputs` (Deckhouse's files): runs `guest`,
/// writes its outputs (all or nothing, only on success), then records the run when
/// `--record` / `WASM_HOOKS_RECORD_DIR` asks. The recording comes last and cannot change
/// the outputs or the result.
pub fn run_and_write(
    cli: &Cli,
    runtime: &Runtime,
    guest: &Guest,
    inputs: RunInputs,
    command: String,
) -> Result<ExitCode> {
    let (outcome, prepared) = match prepare(runtime, guest) {
        Ok(prepared) => (
            run_prepared(runtime, guest, &prepared, &inputs),
            Some(prepared),
        ),
        Err(e) => (Err(e), None),
    };
    let written = match &outcome {
        Ok(output) => output.write(&OutputPaths::from_env()),
        Err(_) => Ok(()),
    };
    if let Some(dir) = &cli.record {
        let run = record::Run {
            guest,
            command,
            inputs: &inputs,
            outcome: outcome.as_ref(),
            write_error: written.as_ref().err().map(ToString::to_string),
        };
        record::record(dir, &run);
    }
    // The process ends right after a hook run: the OS takes back the linked guest's code
    // and tables faster than their destructors would (a few percent of a warm run).
    std::mem::forget(prepared);
    outcome?;
    written?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the command the command line names.
pub fn run(cli: &Cli) -> Result<ExitCode> {
    match &cli.command {
        None if cli.config => shell::config(cli),
        None => shell::run(cli),
        Some(Command::Hook(HookCommand::List)) => hook::list(cli),
        Some(Command::Hook(HookCommand::Config)) => hook::config(cli),
        Some(Command::Hook(HookCommand::Run { index })) => hook::run(cli, *index),
        Some(Command::Hook(HookCommand::Ready)) => hook::ready(cli),
        Some(Command::Hook(HookCommand::Check)) => hook::check(),
        Some(Command::New(args)) => new::run(cli, args),
        Some(Command::Precompile) => precompile::run(cli),
        Some(Command::Test { dir, update }) => test::run(cli, dir, *update),
        Some(Command::Plan { guest }) => plan::run(cli, guest.as_deref()),
        Some(Command::Job(args)) => job::run(cli, args),
        Some(Command::Rbac { guest, crds, chart }) => rbac::run(cli, guest, crds, chart.as_deref()),
        Some(Command::Simulate { scenario, trace }) => {
            simulate::run(cli, scenario, trace.as_deref())
        }
        Some(Command::Verify {
            scenario,
            depth,
            faults,
            trace,
        }) => verify::run(
            cli,
            scenario,
            crate::simulate::explore::Bound {
                depth: *depth,
                faults: *faults,
            },
            trace.as_deref(),
        ),
    }
}
