//! `test DIR`: golden fixture cases, each run through this very binary exactly as
//! Deckhouse runs a hook (see [`crate::deckhouse::invoke`]), so a module's CI can test its
//! guests with no Rust at all.
//!
//! A case is a folder with `case.yaml` (`hook`, `exit`, optional `stderr-contains`),
//! `binding-context.json`, `values.json`, optional `config-values.json`, and (for exit 0)
//! `expected/{values-patch,config-values-patch,kubernetes-patch,metrics}.json`, each a JSON
//! array; a missing expected file means "nothing written".

use crate::cli::Cli;
use crate::deckhouse::invoke::{Inputs, Invocation};
use crate::error::{HostError, Result};
use crate::manifest::Manifest;
use hooks_manifest::fixture::{self, Fixture, Ran, find_cases};
use std::path::Path;
use std::process::ExitCode;

pub fn run(cli: &Cli, dir: &Path, update: bool) -> Result<ExitCode> {
    let hooks_dir = super::hooks_dir(cli)?;
    let manifest = Manifest::load(&hooks_dir)?;
    let cases = find_cases(dir);
    if cases.is_empty() {
        return Err(HostError::Other(format!(
            "no case.yaml found below {}",
            dir.display()
        )));
    }
    let exe = std::env::current_exe().map_err(|e| {
        HostError::Other(format!(
            "cannot find this binary to run the cases with: {e}"
        ))
    })?;
    let invocation = Invocation::new(exe)
        .hooks_dir(&hooks_dir)
        .cache_dir(cli.cache_dir.clone());
    let (mut passed, mut failed) = (0, 0);
    for case_dir in &cases {
        match run_case(&invocation, &manifest, case_dir, update) {
            Ok(()) => {
                passed += 1;
                println!("ok      {}", case_dir.display());
            }
            Err(why) => {
                failed += 1;
                println!("FAILED  {}\n{}", case_dir.display(), indent(&why));
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run_case(
    invocation: &Invocation,
    manifest: &Manifest,
    dir: &Path,
    update: bool,
) -> Result<(), String> {
    let Fixture {
        case,
        binding_context,
        values,
        config_values,
        expected,
    } = Fixture::load(dir).map_err(|e| e.to_string())?;
    // A hook by its `hook list` index; the readiness probe, which `hook list` leaves out,
    // by `hook ready`, as Deckhouse runs each.
    let index = manifest.hooks().position(|g| g.name == case.hook);
    let readiness = manifest.readiness().is_some_and(|g| g.name == case.hook);
    if index.is_none() && !readiness {
        return Err(format!(
            "case.yaml names hook {:?}, which is neither in `hook list` nor the readiness probe",
            case.hook
        ));
    }
    let inputs = Inputs {
        binding_context,
        values,
        config_values,
    };
    let out = match index {
        Some(index) => invocation.hook_run(index, &inputs),
        None => invocation.hook_ready(&inputs),
    }
    .map_err(|e| format!("cannot run the host: {e}"))?;
    let got = out
        .outputs
        .parsed()
        .map_err(|e| format!("written by the host: {e}"))?;
    // UPDATE_GOLDEN: a run that exits as expected rewrites the expected files; only its
    // exit code and stderr are still judged.
    let expected = if update && case.exit == 0 && out.code == 0 {
        fixture::write_expected(dir, &got).map_err(|e| e.to_string())?;
        got.clone()
    } else {
        expected
    };
    let ran = Ran {
        code: out.code,
        stderr: &out.stderr,
        outputs: &got,
    };
    fixture::judge(&case, &expected, ran)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("        {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
