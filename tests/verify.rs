//! `wasm-hooks verify` through the real binary: every interleaving from the bundled LINSTOR
//! cluster, at the CI bound (every seed path with any single fault), holds I1-I8, with the
//! seed guests and with the nine-state guests.

mod common;

use std::path::Path;
use std::process::Command;

/// The CI bound: the seed path from "switch on" to the final render is 8 actions; 12 leaves
/// room for any one fault anywhere on it and what follows.
const DEPTH: &str = "12";
const FAULTS: &str = "1";

fn verify(hooks: &Path) -> String {
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios/linstor-migration.yaml");
    let out = Command::new(common::HOST)
        .arg("--hooks-dir")
        .arg(hooks)
        .args(["verify", "--depth", DEPTH, "--faults", FAULTS])
        .arg(&scenario)
        .env("LOG_LEVEL", "error")
        .output()
        .expect("the host runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn explored(stdout: &str) -> usize {
    stdout
        .split("hold in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no state count in {stdout}"))
}

#[test]
fn seed_guests_hold_every_invariant_at_the_ci_bound() {
    let stdout = verify(&guest_artifacts::hooks_dir());
    assert!(stdout.contains("verified: I1-I8 hold"), "{stdout}");
    assert!(explored(&stdout) > 300, "{stdout}");
}

#[test]
fn nine_state_guests_hold_every_invariant_at_the_ci_bound() {
    let (_tmp, dir) = common::hooks_copy();
    let grants = std::fs::read_to_string(dir.join("grants.yaml")).unwrap();
    let swapped = grants
        .replace("guest_hook.wasm", "nine_state_hook.wasm")
        .replace("guest_render.wasm", "nine_state_render.wasm");
    assert_ne!(grants, swapped);
    std::fs::write(dir.join("grants.yaml"), swapped).unwrap();
    let stdout = verify(&dir);
    assert!(stdout.contains("verified: I1-I8 hold"), "{stdout}");
}
