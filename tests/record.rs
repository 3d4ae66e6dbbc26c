//! Recording real runs (`WASM_HOOKS_RECORD_DIR`, `--record DIR`): the real binary runs
//! golden inputs as Deckhouse would with the variable set (`hook run N`, the shell
//! protocol's run, and the readiness probe's `hook ready`), and `wasm-hooks test` replays
//! each recording and passes. A recording that cannot be written changes neither the
//! run's outputs nor its exit code.

mod common;

use hooks_manifest::fixture::{CaseMeta, Fixture, Output, find_cases};
use std::path::{Path, PathBuf};
use std::process::Command;
use wasm_hooks::deckhouse::invoke::{Invocation, Invoked, inputs_from_folder};

fn case(name: &str) -> PathBuf {
    guest_artifacts::root()
        .join("tests/fixtures/hooks/control-plane-migration-state-sync")
        .join(name)
}

/// `hook run 0` on a golden case's inputs, with extra environment.
fn run(case_dir: &Path, env: &[(&str, &Path)]) -> Invoked {
    let mut invocation = Invocation::new(common::HOST).hooks_dir(guest_artifacts::hooks_dir());
    invocation.env = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.display().to_string()))
        .collect();
    invocation
        .hook_run(0, &inputs_from_folder(case_dir).unwrap())
        .unwrap()
}

/// `wasm-hooks test DIR` with the hooks folder `hooks`: whether it passed, its stdout (the
/// cases' verdicts) and its stderr.
fn replay_with(hooks: &Path, dir: &Path) -> (bool, String, String) {
    let out = Command::new(common::HOST)
        .arg("--hooks-dir")
        .arg(hooks)
        .arg("test")
        .arg(dir)
        .env_remove("UPDATE_GOLDEN")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), stdout, stderr)
}

/// The recordings in `dir` replayed with the shipped hooks folder; they must pass.
fn replay(dir: &Path) -> String {
    let (passed, stdout, stderr) = replay_with(&guest_artifacts::hooks_dir(), dir);
    assert!(passed, "the recording does not replay:\n{stdout}\n{stderr}");
    stdout
}

/// A copy of the hooks folder in `tmp/hooks` whose grants.yaml is `edit` of the shipped one.
fn hooks_with_grants(tmp: &Path, edit: impl FnOnce(&str) -> String) -> PathBuf {
    let hooks = tmp.join("hooks");
    guest_artifacts::copy_hooks_dir(&hooks).unwrap();
    let grants = std::fs::read_to_string(hooks.join("grants.yaml")).unwrap();
    let edited = edit(&grants);
    assert_ne!(edited, grants, "the edit changes grants.yaml");
    std::fs::write(hooks.join("grants.yaml"), edited).unwrap();
    hooks
}

#[test]
fn a_recorded_run_replays_as_a_passing_case() {
    let tmp = tempfile::tempdir().unwrap();
    let records = tmp.path().join("records");
    // One run that writes a values patch and metrics, one that fails.
    let ok = run(
        &case("row-stage1-started"),
        &[("WASM_HOOKS_RECORD_DIR", &records)],
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(!ok.outputs.values_patch.is_empty());
    let failed = run(
        &case("invalid-switch-fails"),
        &[("WASM_HOOKS_RECORD_DIR", &records)],
    );
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(ok.stderr.contains("recorded the run as a test case"));

    let cases = find_cases(&records);
    assert_eq!(cases.len(), 2, "one folder per run: {cases:?}");
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy();
        assert!(
            name.ends_with("-control-plane-migration-state-sync"),
            "{name}"
        );
        let fixture = Fixture::load(dir).unwrap();
        let recorded = fixture.case.recorded.expect("provenance");
        assert_eq!(recorded.command, "hook run 0");
        assert_eq!(recorded.component, "guest_hook.wasm");
    }
    let exits: Vec<i32> = cases
        .iter()
        .map(|d| CaseMeta::load(d).unwrap().exit)
        .collect();
    assert!(exits.contains(&0) && exits.contains(&1), "{exits:?}");
    let stdout = replay(&records);
    assert!(stdout.ends_with("2 passed, 0 failed\n"), "{stdout}");

    // The recorded expected outputs are the run's own.
    let ok_case = cases
        .iter()
        .find(|d| CaseMeta::load(d).unwrap().exit == 0)
        .unwrap();
    let fixture = Fixture::load(ok_case).unwrap();
    let got = ok.outputs.parsed().unwrap();
    for output in Output::ALL {
        assert_eq!(fixture.expected.get(output), got.get(output), "{output:?}");
    }
}

#[test]
fn the_record_flag_records_the_shell_protocols_bare_run_too() {
    let tmp = tempfile::tempdir().unwrap();
    let records = tmp.path().join("records");
    // The shell protocol serves a single hook: a hooks folder with only the state-sync guest.
    let hooks = hooks_with_grants(tmp.path(), |grants| {
        let single = grants
            .split("\n  - name: control-plane-migration-render-plan")
            .next()
            .unwrap();
        format!("{single}\n")
    });
    let mut invocation = Invocation::new(common::HOST).hooks_dir(&hooks);
    invocation.env = vec![];
    let out = invocation
        .run_with_files(
            &["--record", records.to_str().unwrap()],
            &inputs_from_folder(&case("row-stage1-started")).unwrap(),
        )
        .unwrap();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let cases = find_cases(&records);
    assert_eq!(cases.len(), 1);
    let meta = CaseMeta::load(&cases[0]).unwrap();
    assert_eq!(
        meta.recorded.unwrap().command,
        "wasm-hooks (shell protocol)"
    );
    let (passed, stdout, stderr) = replay_with(&hooks, &records);
    assert!(passed, "{stdout}\n{stderr}");
}

#[test]
fn the_readiness_probe_is_recorded_and_replayed_by_hook_ready() {
    let tmp = tempfile::tempdir().unwrap();
    let records = tmp.path().join("records");
    // The state-sync guest as the module's readiness probe: `hook list` leaves it out, and
    // Deckhouse runs it by `hook ready`.
    let hooks = hooks_with_grants(tmp.path(), |grants| {
        grants.replacen(
            "  - name: control-plane-migration-state-sync\n",
            "  - name: control-plane-migration-state-sync\n    readiness: true\n",
            1,
        )
    });
    let mut invocation = Invocation::new(common::HOST).hooks_dir(&hooks);
    invocation.env = vec![(
        "WASM_HOOKS_RECORD_DIR".to_owned(),
        records.display().to_string(),
    )];
    let out = invocation
        .hook_ready(&inputs_from_folder(&case("row-stage1-started")).unwrap())
        .unwrap();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        !out.outputs.values_patch.is_empty(),
        "the probe's own outputs"
    );

    let cases = find_cases(&records);
    assert_eq!(cases.len(), 1, "{cases:?}");
    let fixture = Fixture::load(&cases[0]).unwrap();
    assert_eq!(fixture.case.hook, "control-plane-migration-state-sync");
    assert_eq!(fixture.case.recorded.unwrap().command, "hook ready");
    let got = out.outputs.parsed().unwrap();
    for output in Output::ALL {
        assert_eq!(fixture.expected.get(output), got.get(output), "{output:?}");
    }
    let (passed, stdout, stderr) = replay_with(&hooks, &records);
    assert!(
        passed && stdout.ends_with("1 passed, 0 failed\n"),
        "{stdout}\n{stderr}"
    );

    // Replayed with the probe's outputs changed, the case fails: `test` ran `hook ready`.
    std::fs::write(cases[0].join("expected/values-patch.json"), "[]").unwrap();
    let (passed, stdout, stderr) = replay_with(&hooks, &records);
    assert!(
        !passed && stdout.contains("values-patch.json differs"),
        "{stdout}\n{stderr}"
    );
}

#[test]
fn a_recording_that_cannot_be_written_changes_nothing_of_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    // A folder below a regular file cannot be created, not even by root.
    let blocker = tmp.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let unwritable = blocker.join("records");
    for name in ["row-stage1-started", "invalid-switch-fails"] {
        let plain = run(&case(name), &[]);
        let recorded = run(&case(name), &[("WASM_HOOKS_RECORD_DIR", &unwritable)]);
        assert_eq!(recorded.code, plain.code, "{name}: {}", recorded.stderr);
        assert_eq!(recorded.outputs, plain.outputs, "{name}");
        assert!(
            recorded.stderr.contains("cannot record the run")
                && recorded.stderr.contains("\"level\":\"warn\""),
            "{name}: {}",
            recorded.stderr
        );
        assert!(!plain.stderr.contains("cannot record"), "{}", plain.stderr);
    }
    assert!(!unwritable.exists());
}

/// A run whose binding context carries a Secret and whose values carry a registry
/// credential: the recording holds neither, lists what it redacted, and still replays (the
/// vocabulary guest's outputs do not depend on them).
#[test]
fn secrets_are_redacted_in_a_recording_that_still_replays() {
    let tmp = tempfile::tempdir().unwrap();
    let hooks = tmp.path().join("hooks");
    guest_artifacts::copy_hooks_dir(&hooks).unwrap();
    std::fs::copy(
        guest_artifacts::root().join("tests/fixtures/vocabulary/grants.yaml"),
        hooks.join("grants.yaml"),
    )
    .unwrap();
    let case_dir = guest_artifacts::root()
        .join("tests/fixtures/vocabulary/vocabulary/group-run-every-operation");
    let mut inputs = inputs_from_folder(&case_dir).unwrap();
    let mut contexts: serde_json::Value = serde_json::from_str(&inputs.binding_context).unwrap();
    contexts[0]["snapshots"]["secrets"] = serde_json::json!([{
        "object": {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"namespace": "d8-vocabulary", "name": "creds"},
            "data": {"password": "aHVudGVyMg=="}},
        "filterResult": {"password": "hunter2"}
    }]);
    inputs.binding_context = contexts.to_string();
    let mut values: serde_json::Value = serde_json::from_str(&inputs.values).unwrap();
    values["global"]["modulesImages"] =
        serde_json::json!({"registry": {"dockercfg": "eyJhdXRocyI6e319"}});
    inputs.values = values.to_string();
    let records = tmp.path().join("records");
    let plain = Invocation::new(common::HOST)
        .hooks_dir(&hooks)
        .hook_run(0, &inputs)
        .unwrap();
    let mut invocation = Invocation::new(common::HOST).hooks_dir(&hooks);
    invocation.env = vec![(
        "WASM_HOOKS_RECORD_DIR".into(),
        records.display().to_string(),
    )];
    let out = invocation.hook_run(0, &inputs).unwrap();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.outputs, plain.outputs);
    let cases = find_cases(&records);
    assert_eq!(cases.len(), 1);
    let fixture = Fixture::load(&cases[0]).unwrap();
    for secret in ["aHVudGVyMg==", "hunter2", "eyJhdXRocyI6e319"] {
        assert!(
            !fixture.binding_context.contains(secret) && !fixture.values.contains(secret),
            "{secret} was recorded"
        );
    }
    let redacted = fixture.case.recorded.unwrap().redacted;
    assert!(
        redacted.iter().any(|r| r.ends_with("/data/password"))
            && redacted
                .iter()
                .any(|r| r.ends_with("/filterResult/password"))
            && redacted.iter().any(|r| r.ends_with("/dockercfg")),
        "{redacted:?}"
    );
    let (passed, stdout, stderr) = replay_with(&hooks, &records);
    assert!(passed, "{stdout}\n{stderr}");
}

/// An empty variable is "off": the run is exactly as without it, and nothing is recorded.
#[test]
fn an_empty_record_variable_is_off() {
    let plain = run(&case("row-stage1-started"), &[]);
    let empty = run(
        &case("row-stage1-started"),
        &[("WASM_HOOKS_RECORD_DIR", Path::new(""))],
    );
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert_eq!(empty.outputs, plain.outputs);
    assert!(!empty.stderr.contains("record"), "{}", empty.stderr);
}
