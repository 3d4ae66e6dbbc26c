//! `wasm-hooks simulate` through the real binary and the real guests: the bundled LINSTOR
//! scenario migrates to all_completed, every regression scenario holds, and bad scenarios
//! fail naming the problem.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios")
}

fn simulate(hooks: &Path, scenario: &Path, extra: &[&str]) -> Output {
    Command::new(common::HOST)
        .arg("--hooks-dir")
        .arg(hooks)
        .arg("simulate")
        .arg(scenario)
        .args(extra)
        .env("LOG_LEVEL", "error")
        .output()
        .expect("the host runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn bundled_linstor_scenario_migrates_to_all_completed() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("trace.json");
    let out = simulate(
        &guest_artifacts::hooks_dir(),
        &scenarios().join("linstor-migration.yaml"),
        &["--trace", trace.to_str().unwrap()],
    );
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    for seen in [
        "helm created the Job",
        "helm: running linstor+csi -> nothing",
        "Pass 2: 4 volumes verified",
        "helm: running agent+controller -> agent+controller+csi",
        "ok: every invariant held",
    ] {
        assert!(printed.contains(seen), "{seen:?} missing from:\n{printed}");
    }
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    let timeline = trace["timeline"].as_array().expect("a timeline");
    let last = timeline.last().expect("steps");
    assert_eq!(last["configmap"], "all_completed");
    assert_eq!(last["internal"], "all_completed");
    assert_eq!(
        last["running"],
        serde_json::json!(["agent", "controller", "csi"])
    );
    assert!(trace["problems"].as_array().unwrap().is_empty());
}

#[test]
fn every_regression_scenario_holds_on_the_fixed_guests() {
    let dir = scenarios().join("regressions");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let out = simulate(&guest_artifacts::hooks_dir(), &path, &[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}:\n{}",
            path.display(),
            text(&out)
        );
        count += 1;
    }
    assert!(count >= 3, "the regression scenarios are missing");
}

#[test]
fn unmet_expectation_fails_the_command() {
    let tmp = tempfile::tempdir().unwrap();
    let root = scenarios();
    let scenario = format!(
        "description: the bundled scenario, expecting the wrong end state\n\
         cluster:\n  - {root}/../crds/internal.linstor.linbit.com.yaml\n  \
         - {root}/../fixtures/linstor/small-cluster.yaml\n  - {root}/clusters/module-namespace.yaml\n\
         openapi: {root}/../../openapi/values.yaml\nrunning: [linstor, csi]\n\
         steps:\n  - admin: enable\n  - settle: 60\nexpect:\n  state: stage2_started\n",
        root = root.display()
    );
    let path = tmp.path().join("wrong.yaml");
    std::fs::write(&path, scenario).unwrap();
    let out = simulate(&guest_artifacts::hooks_dir(), &path, &[]);
    let printed = text(&out);
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(
        printed
            .contains("expected the ConfigMap to end in stage2_started, it ends in all_completed"),
        "{printed}"
    );
}

#[test]
fn malformed_scenario_names_the_file_and_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bad.yaml");
    std::fs::write(
        &path,
        "description: x\nopenapi: values.yaml\nsteps:\n  - moduleRun: sideways\n",
    )
    .unwrap();
    let out = simulate(&guest_artifacts::hooks_dir(), &path, &[]);
    let printed = text(&out);
    assert_ne!(out.status.code(), Some(0), "{printed}");
    assert!(
        printed.contains("bad.yaml") && printed.contains("sideways"),
        "{printed}"
    );
}
