//! The host binary as it ships (`cargo xtask dist`: release, static, non-PIE) in
//! Deckhouse's hook chroot: the module folder, /tmp, /dev/null, read-only /usr /bin /lib
//! /lib64, the single file /proc/sys/kernel/cap_last_cap, and no /proc, /sys or /etc.
//! Discovery, config, precompile and a full run must all work there, finding the hooks
//! folder from argv[0] alone.
//!
//! The shipped binary, not the tests' build: a static binary resolves some things
//! differently. Its getrandom could not find glibc's function and read /dev/urandom,
//! which the chroot lacks, so every run panicked there while the dynamic test build passed.
//!
//! Needs root (CI runs as root). Without it the test fails, saying why; set
//! `WASM_HOOKS_NO_CHROOT=1` to skip it on purpose, which it reports loudly.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use wasm_hooks::deckhouse::invoke::{Chroot, Inputs, Invocation, inputs_from_folder, parse_stream};

/// Where the module sits inside the chroot, as Deckhouse lays out downloaded modules.
const MODULE: &str = "modules/sds-replicated-volume";

fn chroot_allowed() -> bool {
    if std::env::var_os("WASM_HOOKS_NO_CHROOT").is_some() {
        eprintln!(
            "\n!!!!! WASM_HOOKS_NO_CHROOT is set: the chroot test did NOT run; the hooks are untested in Deckhouse's chroot !!!!!\n"
        );
        return false;
    }
    true
}

/// The hooks folder as `cargo xtask dist` builds it, once per test binary. It is laid out
/// under `target/`, so running the tests leaves a developer's `dist/hooks/` (and the cache a
/// `--precompile` put there) alone.
fn shipped_hooks() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        let root = guest_artifacts::root();
        let hooks = root.join("target/chroot-test/hooks");
        let out = common::nested_cargo(&root)
            .args(["xtask", "dist", "--out"])
            .arg(&hooks)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cargo xtask dist --out {} failed:\n{}",
            hooks.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        hooks
    })
}

/// A chroot with the module's hooks folder, as `cargo xtask dist` lays it out.
fn module_chroot() -> (tempfile::TempDir, Invocation) {
    let root = tempfile::tempdir().unwrap();
    let chroot = Chroot::prepare(root.path()).unwrap_or_else(|e| panic!("cannot lay out Deckhouse's hook chroot: {e}; this test needs root (set WASM_HOOKS_NO_CHROOT=1 to skip it knowingly)"));
    let hooks = root.path().join(MODULE).join("hooks");
    let dist = shipped_hooks();
    guest_artifacts::copy_files(&dist.join("wasm-guests"), &hooks.join("wasm-guests")).unwrap();
    std::fs::copy(dist.join("wasm-hooks"), hooks.join("wasm-hooks")).unwrap();
    assert!(
        !root.path().join("proc/self").exists()
            && !root.path().join("etc").exists()
            && !root.path().join("sys").exists()
    );
    let inside = Path::new("/").join(MODULE).join("hooks/wasm-hooks");
    (root, Invocation::new(inside).in_chroot(chroot))
}

#[test]
fn discovery_config_precompile_and_a_run_work_in_deckhouses_chroot() {
    if !chroot_allowed() {
        return;
    }
    let (_root, hook) = module_chroot();

    let list = hook.plain(&["hook", "list"]).unwrap();
    assert_eq!(list.code, 0, "hook list in the chroot:\n{}", list.stderr);
    assert!(
        list.stdout.starts_with("Found 2 items:\n"),
        "{}",
        list.stdout
    );

    let config = hook.plain(&["hook", "config"]).unwrap();
    assert_eq!(
        config.code, 0,
        "hook config in the chroot:\n{}",
        config.stderr
    );
    let doc: Value = serde_json::from_str(&config.stdout).expect("hook config prints JSON only");
    assert_eq!(
        doc["hooks"][0]["kubernetes"][0]["queue"],
        "modules/sds-replicated-volume"
    );

    let precompile = hook.plain(&["precompile"]).unwrap();
    assert_eq!(
        precompile.code, 0,
        "precompile in the chroot:\n{}",
        precompile.stderr
    );

    // A full run of the state-sync hook on the bundled example, compared with the same run
    // outside the chroot.
    let inputs =
        inputs_from_folder(&guest_artifacts::root().join("examples/enable-migration")).unwrap();
    let inside = hook.hook_run(0, &inputs).unwrap();
    assert_eq!(
        inside.code, 0,
        "hook run 0 in the chroot:\n{}",
        inside.stderr
    );
    let outside = Invocation::new(common::HOST)
        .hooks_dir(guest_artifacts::hooks_dir())
        .hook_run(0, &inputs)
        .unwrap();
    assert_eq!(outside.code, 0, "{}", outside.stderr);
    assert_eq!(inside.outputs, outside.outputs);
    let ops = parse_stream(&inside.outputs.kubernetes_patch).unwrap();
    assert_eq!(ops[0]["operation"], "CreateIfNotExists", "{ops:?}");
}

#[test]
fn a_run_with_bad_inputs_fails_cleanly_in_the_chroot() {
    if !chroot_allowed() {
        return;
    }
    let (_root, hook) = module_chroot();
    let bad = Inputs {
        binding_context: "{not json".into(),
        values: "{}".into(),
        config_values: "{}".into(),
    };
    let out = hook.hook_run(0, &bad).unwrap();
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("binding context"), "{}", out.stderr);
    assert!(out.outputs.is_empty());
}
