//! `cargo xtask <task>`: builds that cargo alone cannot express.
//!
//! - `dist [--precompile] [--out DIR]`: a ready-to-ship module `hooks/` folder in `dist/hooks/`
//!   (or DIR: the tests lay out their own, so running them leaves a developer's dist alone).
//! - `example [NAME]`: builds dist and runs the hooks on a bundled example, as Deckhouse would.
//! - `bench`: one hook run, warm / cold / native (see `bench.rs`).
//! - `bench-migrate`: Pass 1 objects per second vs a plain kube-rs loop (see `bench_migrate.rs`).
//! - `rbac`: rewrites the Job's generated RBAC rules in the chart from grants.yaml.

mod bench;
mod bench_migrate;
mod example;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Link flags for the shipped host binary (the final crate only; dependencies are unchanged).
const STATIC: [&str; 4] = [
    "-C",
    "target-feature=+crt-static",
    "-C",
    "relocation-model=static",
];

/// The guests that ship; test guests stay out of dist.
const SHIPPED_GUESTS: [&str; 3] = ["guest-hook", "guest-render", "guest-migrate"];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("dist") => dist_command(&args[1..]),
        Some("example") => example::run(args.get(1).map(String::as_str)),
        Some("bench") => bench::run(&args[1..]),
        Some("bench-migrate") => bench_migrate::run(&args[1..]),
        Some("rbac") => rbac(),
        _ => bail!(
            "usage: cargo xtask dist [--precompile] [--out DIR] | example [NAME] | bench [--runs N] | bench-migrate | rbac"
        ),
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs a command in the root, failing with its name when it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .current_dir(root())
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// The job guest the chart's Job runs (templates/migration/job.yaml) and its RBAC template.
const JOB_GUEST: &str = "control-plane-migrator";
const JOB_RBAC_TEMPLATE: &str = "templates/migration/rbac.yaml";

/// Rewrites the generated rule blocks of the Job's RBAC template from grants.yaml, resolving
/// custom kinds from tests/crds (`wasm-hooks rbac --chart`); tests/helm.rs fails until this ran.
fn rbac() -> Result<()> {
    run(cargo()
        .args([
            "run",
            "--quiet",
            "--locked",
            "-p",
            "wasm-hooks",
            "--",
            "--hooks-dir",
            ".",
        ])
        .args([
            "rbac",
            JOB_GUEST,
            "--crds",
            "tests/crds",
            "--chart",
            JOB_RBAC_TEMPLATE,
        ]))?;
    println!("{JOB_RBAC_TEMPLATE}: rules regenerated for guest {JOB_GUEST} from grants.yaml");
    Ok(())
}

/// `dist [--precompile] [--out DIR]`.
fn dist_command(args: &[String]) -> Result<()> {
    let mut precompile = false;
    let mut out = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--precompile" => precompile = true,
            "--out" => match args.next() {
                Some(dir) => out = Some(PathBuf::from(dir)),
                None => bail!("--out needs a folder: cargo xtask dist --out DIR"),
            },
            other => {
                bail!("unknown argument {other:?}: cargo xtask dist [--precompile] [--out DIR]")
            }
        }
    }
    match out {
        Some(dir) => dist_into(&std::env::current_dir()?.join(dir), precompile),
        None => dist(precompile),
    }
    .map(|_| ())
}

/// Builds the host and the shipped guests (release) and lays out `dist/hooks/`.
pub fn dist(precompile: bool) -> Result<PathBuf> {
    dist_into(&root().join("dist/hooks"), precompile)
}

/// Builds the host and the shipped guests (release) and lays out a hooks folder in `hooks`,
/// replacing an earlier layout there.
pub fn dist_into(hooks: &Path, precompile: bool) -> Result<PathBuf> {
    for name in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"] {
        keeps_config_rustflags(name, std::env::var_os(name))?;
    }
    let root = root();
    // A static, non-PIE binary: Deckhouse may run hooks chrooted with little but the hooks
    // folder visible, and skipping the dynamic loader's relocations saves ~1 ms per run.
    run(cargo()
        .args([
            "rustc",
            "--release",
            "--locked",
            "-p",
            "wasm-hooks",
            "--bin",
            "wasm-hooks",
            "--",
        ])
        .args(STATIC))?;
    let guest_target = root.join("target/wasm-guests");
    let mut build = cargo();
    build
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
        ])
        .env("CARGO_TARGET_DIR", &guest_target);
    for g in SHIPPED_GUESTS {
        build.args(["-p", g]);
    }
    run(&mut build).context("building the guests; run `rustup target add wasm32-wasip2` first")?;
    let guests = hooks.join("wasm-guests");
    clear_layout(hooks)?;
    std::fs::create_dir_all(&guests).with_context(|| format!("creating {}", guests.display()))?;
    copy(
        &root.join("target/release/wasm-hooks"),
        &hooks.join("wasm-hooks"),
    )?;
    copy(&root.join("grants.yaml"), &guests.join("grants.yaml"))?;
    for g in SHIPPED_GUESTS {
        let file = format!("{}.wasm", g.replace('-', "_"));
        copy(
            &guest_target.join("wasm32-wasip2/release").join(&file),
            &guests.join(&file),
        )?;
    }
    if precompile {
        run(Command::new(hooks.join("wasm-hooks")).arg("precompile"))?;
    }
    helm_lint(&root);
    println!(
        "{}/ is ready:",
        hooks.strip_prefix(&root).unwrap_or(hooks).display()
    );
    for entry in walk(hooks) {
        println!(
            "  {}",
            entry.strip_prefix(&root).unwrap_or(&entry).display()
        );
    }
    Ok(hooks.to_path_buf())
}

/// What a hooks layout holds: anything else in the folder means it is not one, and dist
/// stops rather than delete it (`--out` may name any folder).
const LAYOUT: [&str; 2] = ["wasm-hooks", "wasm-guests"];

/// Removes an earlier layout from `hooks`; a folder holding anything else is refused.
fn clear_layout(hooks: &Path) -> Result<()> {
    let entries = match std::fs::read_dir(hooks) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", hooks.display())),
    };
    let mut found = Vec::new();
    for entry in entries {
        let name = entry?.file_name();
        if !LAYOUT.iter().any(|known| name == *known) {
            bail!(
                "{} holds {name:?}, which dist did not lay out; dist replaces only a folder \
                 holding nothing but {LAYOUT:?}: move that away, or lay out elsewhere with --out DIR",
                hooks.display()
            );
        }
        found.push(hooks.join(name));
    }
    for path in found {
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| format!("clearing {}", path.display()))?;
    }
    Ok(())
}

/// Rust flags from the environment replace `.cargo/config.toml`'s, and the shipped host needs
/// those (getrandom's backend: without it the static binary panics in Deckhouse's hook
/// chroot), so dist refuses to build with them rather than ship that binary.
fn keeps_config_rustflags(name: &str, value: Option<std::ffi::OsString>) -> Result<()> {
    match value {
        Some(flags) if !flags.is_empty() => bail!(
            "{name} is set ({flags:?}): it replaces the rustflags of .cargo/config.toml, without \
             which the shipped host cannot seed randomness in Deckhouse's hook chroot; unset \
             it, or add its flags to .cargo/config.toml"
        ),
        _ => Ok(()),
    }
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// `helm lint` the chart when helm is at hand; dist does not need it.
fn helm_lint(root: &Path) {
    let helm = std::env::var("HELM").ok().map(PathBuf::from).or_else(|| {
        let cached = PathBuf::from(std::env::var("HOME").unwrap_or_default())
            .join(".cache/wasm-hooks/helm-v3.17/helm/helm");
        cached.exists().then_some(cached)
    });
    match helm {
        Some(helm) => match Command::new(&helm).arg("lint").arg(root).status() {
            Ok(s) if s.success() => {}
            other => eprintln!("warning: helm lint did not pass: {other:?}"),
        },
        None => eprintln!("note: helm not found (set HELM); skipped helm lint"),
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dist_refuses_rust_flags_that_would_replace_the_configured_ones() {
        keeps_config_rustflags("RUSTFLAGS", None).unwrap();
        keeps_config_rustflags("RUSTFLAGS", Some("".into())).unwrap();
        let refused = keeps_config_rustflags("RUSTFLAGS", Some("-C opt-level=1".into()));
        let message = refused.unwrap_err().to_string();
        assert!(message.contains("RUSTFLAGS is set"), "{message}");
        assert!(message.contains(".cargo/config.toml"), "{message}");
    }

    #[test]
    fn dist_replaces_only_its_own_layout() {
        let dir = tempfile::tempdir().unwrap();
        let hooks = dir.path().join("hooks");
        clear_layout(&hooks).unwrap();

        std::fs::create_dir_all(hooks.join("wasm-guests/.cache")).unwrap();
        std::fs::write(hooks.join("wasm-hooks"), "old host").unwrap();
        std::fs::write(hooks.join("wasm-guests/old.wasm"), "old guest").unwrap();
        clear_layout(&hooks).unwrap();
        assert_eq!(std::fs::read_dir(&hooks).unwrap().count(), 0);

        std::fs::write(hooks.join("wasm-hooks"), "old host").unwrap();
        std::fs::write(hooks.join("notes.txt"), "someone's notes").unwrap();
        let message = format!("{:#}", clear_layout(&hooks).unwrap_err());
        assert!(message.contains("notes.txt"), "{message}");
        assert!(message.contains("--out"), "{message}");
        assert!(
            hooks.join("wasm-hooks").exists(),
            "nothing is removed from a refused folder"
        );
        assert!(hooks.join("notes.txt").exists());
    }
}
