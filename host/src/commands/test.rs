//! `test DIR`: golden fixture cases, each run through this very binary exactly as
//! Deckhouse runs a hook (fresh files, environment variables, `hook run N`), so a
//! module's CI can test its guests with no Rust at all.
//!
//! A case is a folder with `case.yaml` (`hook`, `exit`, optional `stderr-contains`),
//! `binding-context.json`, `values.json`, optional `config-values.json`, and (for exit 0)
//! `expected/{values-patch,kubernetes-patch,metrics}.json`, each a JSON array; a missing
//! expected file means "nothing written".

use crate::cli::Cli;
use crate::error::{HostError, Result};
use crate::manifest::Manifest;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Case {
    #[serde(default)]
    description: String,
    hook: String,
    #[serde(default)]
    exit: i32,
    #[serde(default)]
    stderr_contains: Vec<String>,
}

/// The three outputs, by expected-file name and environment variable.
const OUTPUTS: [(&str, &str); 3] = [
    ("values-patch.json", "VALUES_JSON_PATCH_PATH"),
    ("kubernetes-patch.json", "KUBERNETES_PATCH_PATH"),
    ("metrics.json", "METRICS_PATH"),
];

pub fn run(cli: &Cli, dir: &Path, update: bool) -> Result<ExitCode> {
    let hooks_dir = super::hooks_dir(cli)?;
    let manifest = Manifest::load(&hooks_dir)?;
    let cases = find_cases(dir);
    if cases.is_empty() {
        return Err(HostError::Other(format!("no case.yaml found below {}", dir.display())));
    }
    let (mut passed, mut failed) = (0, 0);
    for case_dir in &cases {
        match run_case(cli, &hooks_dir, &manifest, case_dir, update) {
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
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn find_cases(dir: &Path) -> Vec<PathBuf> {
    if dir.join("case.yaml").is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    entries.sort();
    entries.iter().flat_map(|d| find_cases(d)).collect()
}

fn run_case(cli: &Cli, hooks_dir: &Path, manifest: &Manifest, dir: &Path, update: bool) -> Result<(), String> {
    let case: Case = serde_yaml::from_str(&read(&dir.join("case.yaml"))?).map_err(|e| format!("case.yaml: {e}"))?;
    let index = manifest
        .hooks()
        .position(|g| g.name == case.hook)
        .ok_or_else(|| format!("case.yaml names hook {:?}, which `hook list` does not show", case.hook))?;
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    cmd.env_clear().arg("--hooks-dir").arg(hooks_dir).args(["hook", "run", &index.to_string()]);
    if let Some(cache) = &cli.cache_dir {
        cmd.arg("--cache-dir").arg(cache);
    }
    for (file, var) in [("binding-context.json", "BINDING_CONTEXT_PATH"), ("values.json", "VALUES_PATH"), ("config-values.json", "CONFIG_VALUES_PATH")] {
        let src = dir.join(file);
        let dst = work.path().join(file);
        let text = if src.exists() { read(&src)? } else { "{}".into() };
        std::fs::write(&dst, text).map_err(|e| e.to_string())?;
        cmd.env(var, &dst);
    }
    for (file, var) in OUTPUTS {
        let dst = work.path().join(format!("out-{file}"));
        std::fs::write(&dst, "").map_err(|e| e.to_string())?;
        cmd.env(var, dst);
    }
    let out = cmd.output().map_err(|e| format!("cannot run the host: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    if code != case.exit {
        return Err(format!("exit {code}, expected {} ({})\nstderr:\n{stderr}", case.exit, case.description));
    }
    for needle in &case.stderr_contains {
        if !stderr.contains(needle.as_str()) {
            return Err(format!("stderr does not contain {needle:?}\nstderr:\n{stderr}"));
        }
    }
    let mut problems = Vec::new();
    for (file, _) in OUTPUTS {
        let got = parse_stream(&read(&work.path().join(format!("out-{file}")))?).map_err(|e| format!("{file} written by the host: {e}"))?;
        let expected_path = dir.join("expected").join(file);
        if update && case.exit == 0 {
            write_expected(&expected_path, &got)?;
            continue;
        }
        let expected = if expected_path.exists() { parse_stream(&read(&expected_path)?).map_err(|e| format!("{}: {e}", expected_path.display()))? } else { vec![] };
        if got != expected {
            problems.push(format!("{file} differs (- expected, + got):\n{}", diff(&expected, &got)));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
}

/// Reads a JSON array, or a stream of JSON values (NDJSON), flattening arrays.
fn parse_stream(text: &str) -> Result<Vec<Value>, String> {
    let mut items = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        match value.map_err(|e| e.to_string())? {
            Value::Array(list) => items.extend(list),
            other => items.push(other),
        }
    }
    Ok(items)
}

fn write_expected(path: &Path, items: &[Value]) -> Result<(), String> {
    if items.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
            _ => Ok(()),
        };
    }
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(items).map_err(|e| e.to_string())? + "\n";
    std::fs::write(path, text).map_err(|e| e.to_string())
}

fn diff(expected: &[Value], got: &[Value]) -> String {
    let pretty = |v: &[Value]| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
    similar::TextDiff::from_lines(&pretty(expected), &pretty(got)).unified_diff().context_radius(3).to_string()
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("        {l}")).collect::<Vec<_>>().join("\n")
}
