//! `test DIR`: golden fixture cases, each run through this very binary exactly as
//! Deckhouse runs a hook (see [`crate::deckhouse::invoke`]), so a module's CI can test its
//! guests with no Rust at all.
//!
//! A case is a folder with `case.yaml` (`hook`, `exit`, optional `stderr-contains`),
//! `binding-context.json`, `values.json`, optional `config-values.json`, and (for exit 0)
//! `expected/{values-patch,config-values-patch,kubernetes-patch,metrics}.json`, each a JSON
//! array; a missing expected file means "nothing written".

use crate::cli::Cli;
use crate::deckhouse::invoke::{Invocation, inputs_from_folder, parse_stream};
use crate::error::{HostError, Result};
use crate::manifest::Manifest;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// One case's `case.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Case {
    #[serde(default)]
    pub description: String,
    pub hook: String,
    #[serde(default)]
    pub exit: i32,
    #[serde(default)]
    pub stderr_contains: Vec<String>,
}

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

/// Every folder holding a `case.yaml` at or below `dir`, sorted.
pub fn find_cases(dir: &Path) -> Vec<PathBuf> {
    if dir.join("case.yaml").is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    entries.iter().flat_map(|d| find_cases(d)).collect()
}

fn run_case(
    invocation: &Invocation,
    manifest: &Manifest,
    dir: &Path,
    update: bool,
) -> Result<(), String> {
    let case: Case = serde_yaml::from_str(&read(&dir.join("case.yaml"))?)
        .map_err(|e| format!("case.yaml: {e}"))?;
    let index = manifest
        .hooks()
        .position(|g| g.name == case.hook)
        .ok_or_else(|| {
            format!(
                "case.yaml names hook {:?}, which `hook list` does not show",
                case.hook
            )
        })?;
    let inputs = inputs_from_folder(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out = invocation
        .hook_run(index, &inputs)
        .map_err(|e| format!("cannot run the host: {e}"))?;
    if out.code != case.exit {
        return Err(format!(
            "exit {}, expected {} ({})\nstderr:\n{}",
            out.code, case.exit, case.description, out.stderr
        ));
    }
    for needle in &case.stderr_contains {
        if !out.stderr.contains(needle.as_str()) {
            return Err(format!(
                "stderr does not contain {needle:?}\nstderr:\n{}",
                out.stderr
            ));
        }
    }
    let mut problems = Vec::new();
    for (file, text) in out.outputs.by_file() {
        let got = parse_stream(text).map_err(|e| format!("{file} written by the host: {e}"))?;
        let expected_path = dir.join("expected").join(file);
        if update && case.exit == 0 {
            write_expected(&expected_path, &got)?;
            continue;
        }
        let expected = if expected_path.exists() {
            parse_stream(&read(&expected_path)?)
                .map_err(|e| format!("{}: {e}", expected_path.display()))?
        } else {
            vec![]
        };
        if got != expected {
            problems.push(format!(
                "{file} differs (- expected, + got):\n{}",
                diff(&expected, &got)
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Rewrites an expected file; an empty output keeps an existing file as `[]` and creates
/// none, so a case's folder layout does not change under `UPDATE_GOLDEN`.
fn write_expected(path: &Path, items: &[Value]) -> Result<(), String> {
    if items.is_empty() && !path.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(items).map_err(|e| e.to_string())? + "\n";
    std::fs::write(path, text).map_err(|e| e.to_string())
}

fn diff(expected: &[Value], got: &[Value]) -> String {
    let pretty = |v: &[Value]| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
    similar::TextDiff::from_lines(&pretty(expected), &pretty(got))
        .unified_diff()
        .context_radius(3)
        .to_string()
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("        {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
