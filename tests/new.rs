//! `wasm-hooks new`: the real binary scaffolds a hook, a render planner and a job into a
//! fresh folder (a Cargo workspace, so one build serves all three), appends their
//! grants.yaml entries to a copy of the shipped hooks folder, and then:
//! - the three crates build for wasm32-wasip2 (offline, at the versions of this
//!   repository's Cargo.lock, in `target/new-guests` so dependencies compile once across runs);
//! - their native tests pass (`cargo test`: the template's own tests and its fixtures);
//! - the hook's and the render planner's first fixture pass through the real host
//!   (`wasm-hooks test`), with their components in the hooks folder.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const KINDS: [(&str, &str); 3] = [
    ("hook", "probe-hook"),
    ("render", "probe-render"),
    ("job", "probe-job"),
];

fn host(hooks: &Path, args: &[&str]) -> Output {
    Command::new(common::HOST)
        .arg("--hooks-dir")
        .arg(hooks)
        .args(args)
        .env_remove("UPDATE_GOLDEN")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn sdk() -> String {
    guest_artifacts::root().join("sdk").display().to_string()
}

fn cargo(dir: &Path, args: &[&str]) {
    let out = common::nested_cargo(dir)
        .args(args)
        .arg("--offline")
        .env(
            "CARGO_TARGET_DIR",
            guest_artifacts::root().join("target/new-guests"),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "cargo {args:?} failed:\n{stderr}");
    let warned: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning") && !l.contains("profile"))
        .collect();
    assert!(
        warned.is_empty(),
        "the scaffolded crates compile with warnings:\n{stderr}"
    );
}

#[test]
fn scaffolded_guests_build_and_their_first_cases_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let hooks = tmp.path().join("hooks");
    guest_artifacts::copy_hooks_dir(&hooks).unwrap();
    let original = std::fs::read_to_string(hooks.join("grants.yaml")).unwrap();
    let guests = tmp.path().join("guests");
    std::fs::create_dir(&guests).unwrap();
    std::fs::write(
        guests.join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"probe-hook\", \"probe-render\", \"probe-job\"]\n\n[profile.release]\nlto = \"thin\"\ncodegen-units = 4\nstrip = \"symbols\"\n",
    )
    .unwrap();
    // The versions this repository's guests are built and tested with, all in the local registry.
    std::fs::copy(
        guest_artifacts::root().join("Cargo.lock"),
        guests.join("Cargo.lock"),
    )
    .unwrap();
    for (kind, name) in KINDS {
        let dir = guests.display().to_string();
        let out = host(&hooks, &["new", kind, name, "--dir", &dir, "--sdk", &sdk()]);
        assert!(out.status.success(), "{}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("add \"") && stdout.contains("members"),
            "{stdout}"
        );
        let manifest = std::fs::read_to_string(guests.join(name).join("Cargo.toml")).unwrap();
        assert!(!manifest.contains("[workspace]"), "{manifest}");
    }
    // The entries are appended; every line that was there (comments too) is kept.
    let grants = std::fs::read_to_string(hooks.join("grants.yaml")).unwrap();
    assert!(grants.starts_with(&original), "{grants}");
    let manifest = hooks_manifest::Manifest::load(&hooks).unwrap();
    for (_, name) in KINDS {
        assert!(manifest.guest(name).is_some(), "{name} missing:\n{grants}");
    }

    cargo(
        &guests,
        &[
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--workspace",
        ],
    );
    cargo(&guests, &["test", "--workspace"]);

    let wasm = guest_artifacts::root().join("target/new-guests/wasm32-wasip2/release");
    for (_, name) in KINDS {
        let file = format!("{}.wasm", name.replace('-', "_"));
        std::fs::copy(wasm.join(&file), hooks.join(&file)).unwrap();
    }
    let out = host(&hooks, &["hook", "config"]);
    assert!(out.status.success(), "{}", text(&out));
    for name in ["probe-hook", "probe-render"] {
        let fixtures = guests.join(name).join("fixtures");
        let out = host(&hooks, &["test", fixtures.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.ends_with("1 passed, 0 failed\n"),
            "{name}: {}",
            text(&out)
        );
    }
    let out = host(&hooks, &["plan", "--guest", "probe-render"]);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("server"),
        "{}",
        text(&out)
    );
}

/// A crate outside any workspace gets its own `[workspace]`, so it builds where it sits.
#[test]
fn a_standalone_crate_is_its_own_workspace_and_the_entry_can_be_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let hooks = tmp.path().join("hooks");
    guest_artifacts::copy_hooks_dir(&hooks).unwrap();
    let original = std::fs::read_to_string(hooks.join("grants.yaml")).unwrap();
    let dir = tmp.path().display().to_string();
    let out = host(
        &hooks,
        &[
            "new",
            "hook",
            "alone",
            "--dir",
            &dir,
            "--sdk",
            &sdk(),
            "--print-grants",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("- name: alone") && stdout.contains("world: hook"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(hooks.join("grants.yaml")).unwrap(),
        original
    );
    let crate_dir = tmp.path().join("alone");
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("[workspace]"), "{manifest}");
    let meta = common::nested_cargo(&crate_dir)
        .args([
            "metadata",
            "--offline",
            "--no-deps",
            "--format-version",
            "1",
        ])
        .arg("--manifest-path")
        .arg(crate_dir.join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(meta.status.success(), "{}", text(&meta));
    let meta: serde_json::Value = serde_json::from_slice(&meta.stdout).unwrap();
    let root = std::fs::canonicalize(&crate_dir).unwrap();
    assert_eq!(
        PathBuf::from(meta["workspace_root"].as_str().unwrap()),
        root
    );
    assert_eq!(meta["packages"][0]["name"], "alone");
}

#[test]
fn bad_names_clashes_and_bad_sdks_are_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let hooks = tmp.path().join("hooks");
    guest_artifacts::copy_hooks_dir(&hooks).unwrap();
    let original = std::fs::read_to_string(hooks.join("grants.yaml")).unwrap();
    let guests = tmp.path().join("guests");
    std::fs::create_dir_all(guests.join("already-here")).unwrap();
    let dir = guests.display().to_string();
    let sdk = sdk();
    for (args, why) in [
        (vec!["hook", "Bad_Name"], "contains 'B'"),
        (vec!["hook", "9lives"], "start with a letter"),
        (vec!["job", "type"], "reserved"),
        (
            vec!["hook", "control-plane-migration-state-sync"],
            "already has a guest",
        ),
        (vec!["render", "already-here"], "already exists"),
        (
            vec!["hook", "fine-name", "--sdk", "/nonexistent/sdk"],
            "--sdk /nonexistent/sdk",
        ),
    ] {
        let mut full = vec!["new"];
        full.extend(&args);
        full.extend(["--dir", &dir]);
        if !args.contains(&"--sdk") {
            full.extend(["--sdk", &sdk]);
        }
        let out = host(&hooks, &full);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert!(stderr.contains(why), "{args:?}: {stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(hooks.join("grants.yaml")).unwrap(),
        original
    );
    let left: Vec<_> = std::fs::read_dir(&guests)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["already-here"], "nothing else may be written");
    // Without a grants.yaml, the module must be named.
    let empty = tmp.path().join("no-hooks");
    std::fs::create_dir(&empty).unwrap();
    let out = host(
        &empty,
        &["new", "hook", "x-hook", "--dir", &dir, "--sdk", &sdk],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--print-grants with --module"),
        "{}",
        text(&out)
    );
}
