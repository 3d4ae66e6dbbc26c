//! Golden fixtures: every case folder under tests/fixtures runs through the real host
//! binary (`wasm-hooks test`, which runs `hook run N` in a clean environment with fresh
//! files, as Deckhouse does). `UPDATE_GOLDEN=1` rewrites the expected files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(sub)
}

fn run_cases(hooks_dir: &Path, cases: &Path) {
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1" || v == "true");
    let out = Command::new(common::HOST)
        .arg("--hooks-dir")
        .arg(hooks_dir)
        .arg("test")
        .arg(cases)
        .env("UPDATE_GOLDEN", if update { "true" } else { "false" })
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "golden cases failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.ends_with(" passed, 0 failed") && !summary.starts_with("0 "),
        "{summary}"
    );
}

#[test]
fn state_sync_hook_fixtures() {
    run_cases(&guest_artifacts::hooks_dir(), &fixtures("hooks"));
}

/// A guest using the whole binding vocabulary and every output kind.
#[test]
fn vocabulary_guest_fixtures() {
    let (_tmp, dir) = common::hooks_copy();
    std::fs::copy(fixtures("vocabulary/grants.yaml"), dir.join("grants.yaml")).unwrap();
    run_cases(&dir, &fixtures("vocabulary/vocabulary"));
}

/// The same host binary with the nine-state guests swapped in: new states ship as guests.
#[test]
fn nine_state_guest_fixtures() {
    let (_tmp, dir) = common::hooks_copy();
    nine_state(&dir);
    run_cases(&dir, &fixtures("nine-state"));
}

/// Points the hooks folder's grants.yaml at the nine-state components.
pub fn nine_state(dir: &Path) {
    let grants = std::fs::read_to_string(dir.join("grants.yaml")).unwrap();
    let swapped = grants
        .replace("guest_hook.wasm", "nine_state_hook.wasm")
        .replace("guest_render.wasm", "nine_state_render.wasm");
    assert_ne!(
        grants, swapped,
        "grants.yaml names the seed guests' components"
    );
    std::fs::write(dir.join("grants.yaml"), swapped).unwrap();
}

#[test]
fn a_failing_case_is_reported_and_fails_the_command() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("wrong-expectation");
    copy_dir(
        &fixtures("hooks/control-plane-migration-state-sync/row-stage1-started"),
        &case,
    );
    let expected = std::fs::read_to_string(case.join("expected/values-patch.json")).unwrap();
    assert_ne!(
        expected.trim(),
        "[]",
        "the case must expect a values change"
    );
    std::fs::write(case.join("expected/values-patch.json"), "[]").unwrap();
    let out = Command::new(common::HOST)
        .arg("--hooks-dir")
        .arg(guest_artifacts::hooks_dir())
        .arg("test")
        .arg(tmp.path())
        .env("UPDATE_GOLDEN", "false")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("FAILED")
            && stdout.contains("values-patch.json differs")
            && stdout.ends_with("0 passed, 1 failed\n"),
        "{stdout}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}
