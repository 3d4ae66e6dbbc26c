//! Deckhouse's view of the binary: discovery with an empty environment, `hook config`
//! against the config schemas, the shell protocol, errors, and the component cache.

mod common;

use common::{HOST, assert_valid, host};
use serde_json::{Value, json};
use std::path::Path;

/// A `hooks/` folder as `cargo xtask dist` lays it out: the binary with `wasm-guests/` beside it.
fn dist_layout() -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, guests) = common::hooks_copy();
    let exe = tmp.path().join("wasm-hooks");
    std::fs::copy(HOST, &exe).unwrap();
    (tmp, guests)
}

#[test]
fn hook_list_works_with_an_empty_environment_from_beside_the_binary() {
    let (tmp, _) = dist_layout();
    let out = std::process::Command::new(tmp.path().join("wasm-hooks"))
        .env_clear()
        .args(["hook", "list"])
        .current_dir("/")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        "Found 2 items:\n0 - control-plane-migration-state-sync\n1 - control-plane-migration-render-plan\n"
    );
    // Deckhouse's discovery regex.
    assert!(stdout.starts_with("Found 2 items"));
}

#[test]
fn hook_config_is_valid_batch_config_and_only_config_on_stdout() {
    let dir = guest_artifacts::hooks_dir();
    let (code, stdout, stderr) = host(
        &["--hooks-dir", dir.to_str().unwrap(), "hook", "config"],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let config: Value = serde_json::from_str(&stdout).expect("stdout is exactly one JSON document");
    assert_valid("batch-config-v1.json", &config);
    let hooks = config["hooks"].as_array().unwrap();
    assert_eq!(
        hooks[0]["metadata"]["name"],
        "control-plane-migration-state-sync"
    );
    assert_eq!(hooks[0]["beforeHelm"], 5);
    assert_eq!(
        hooks[1]["beforeHelm"], 10,
        "the render plan runs after the state sync"
    );
    let cm = &hooks[0]["kubernetes"][0];
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(
        cm["namespace"],
        json!({"nameSelector": {"matchNames": ["d8-sds-replicated-volume"]}})
    );
    // Every kubernetes and schedule binding runs in the module's own queue, never `main`.
    for hook in hooks {
        for binding in hook
            .get("kubernetes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(
                hook.get("schedule")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            )
        {
            assert_eq!(
                binding["queue"], "modules/sds-replicated-volume",
                "{binding}"
            );
        }
    }
}

#[test]
fn shell_protocol_config_for_a_single_hook_install_is_valid_v1() {
    let (_tmp, dir) = common::hooks_copy();
    let grants = std::fs::read_to_string(dir.join("grants.yaml")).unwrap();
    let single: String = grants
        .split("\n  - name: control-plane-migration-render-plan")
        .next()
        .unwrap()
        .to_owned();
    std::fs::write(dir.join("grants.yaml"), single).unwrap();
    let (code, stdout, stderr) = host(&["--hooks-dir", dir.to_str().unwrap(), "--config"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let config: Value = serde_json::from_str(&stdout).unwrap();
    assert_valid("shell-config-v1.json", &config);
    // No event filter: shell-operator's default, every event type.
    assert!(
        config["kubernetes"][0].get("executeHookOnEvent").is_none(),
        "{config}"
    );
    assert_eq!(
        config["kubernetes"][0]["queue"],
        "modules/sds-replicated-volume"
    );
}

#[test]
fn shell_protocol_refuses_an_install_with_several_hooks() {
    let dir = guest_artifacts::hooks_dir();
    let (code, stdout, stderr) = host(&["--hooks-dir", dir.to_str().unwrap(), "--config"], &[]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("the shell protocol runs exactly one hook"),
        "{stderr}"
    );
}

#[test]
fn every_binding_context_form_is_accepted() {
    let dir = guest_artifacts::hooks_dir();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "control-plane-migration", "namespace": "d8-sds-replicated-volume"}, "data": {"state": "stage1_started"}});
    let snapshots = json!({"control-plane-migration": [{"object": cm}], "module-namespace": [], "linstor-controller": [], "linstor-database": []});
    let forms = [
        json!([{"binding": "onStartup"}, {"binding": "beforeHelm", "snapshots": snapshots}]),
        json!([{"binding": "control-plane-migration", "type": "Synchronization", "objects": [{"object": cm}]},
               {"binding": "module-namespace", "type": "Synchronization", "objects": []},
               {"binding": "linstor-controller", "type": "Synchronization", "objects": []},
               {"binding": "linstor-database", "type": "Synchronization", "objects": []}]),
        json!([{"binding": "control-plane-migration", "type": "Group", "groupName": "main", "snapshots": snapshots}]),
        json!([{"binding": "control-plane-migration", "type": "Event", "watchEvent": "Added", "object": {"kind": "x"}},
               {"binding": "control-plane-migration", "type": "Group", "groupName": "main", "snapshots": snapshots}]),
        json!([{"binding": "every-hour", "type": "Schedule"}, {"binding": "beforeHelm", "snapshots": snapshots}]),
    ];
    let values = json!({"global": {}, "sdsReplicatedVolume": {"newControlPlane": true, "internal": {"controlPlaneMigration": "not_started"}}});
    for form in forms {
        let run = common::hook_run(&dir, 0, &form.to_string(), &values, &json!({}));
        assert_eq!(run.code, 0, "{form}\n{}", run.stderr);
        assert!(run.values_ops().contains(&json!({"op": "add", "path": "/sdsReplicatedVolume/internal/controlPlaneMigration", "value": "stage1_started"})), "{form}\n{}", run.values_patch);
    }
}

#[test]
fn bad_input_names_what_and_where_and_writes_nothing() {
    let dir = guest_artifacts::hooks_dir();
    let values = json!({"sdsReplicatedVolume": {}});
    let run = common::hook_run(&dir, 0, "{not json", &values, &json!({}));
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cannot read binding context from")
            && run.stderr.contains("binding-context.json"),
        "{}",
        run.stderr
    );
    assert!(run.wrote_nothing());
    let run = common::hook_run(
        &dir,
        0,
        r#"[{"binding":"beforeHelm","snapshots":{}},{"type":"Event"}]"#,
        &values,
        &json!({}),
    );
    assert!(run.stderr.contains("element 1"), "{}", run.stderr);
    let (code, _, stderr) = host(
        &["--hooks-dir", dir.to_str().unwrap(), "hook", "run", "7"],
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no hook number 7: `hook list` shows 2 hooks"),
        "{stderr}"
    );
    let (code, _, stderr) = host(
        &["--hooks-dir", dir.to_str().unwrap(), "hook", "run", "0"],
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("BINDING_CONTEXT_PATH is not set"),
        "{stderr}"
    );
    let (code, _, stderr) = host(&["--hooks-dir", "/nonexistent", "hook", "list"], &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("cannot read the grants manifest /nonexistent/grants.yaml"),
        "{stderr}"
    );
}

#[test]
fn hook_ready_and_check_answer_sanely() {
    let dir = guest_artifacts::hooks_dir();
    let d = dir.to_str().unwrap();
    assert_eq!(host(&["--hooks-dir", d, "hook", "ready"], &[]).0, 0);
    let tmp = tempfile::tempdir().unwrap();
    let settings = tmp.path().join("settings.json");
    std::fs::write(&settings, r#"{"newControlPlane": true}"#).unwrap();
    assert_eq!(
        host(
            &["--hooks-dir", d, "hook", "check"],
            &[("SETTINGS_PATH", settings.to_str().unwrap())]
        )
        .0,
        0
    );
    std::fs::write(&settings, "[1]").unwrap();
    let (code, _, stderr) = host(
        &["--hooks-dir", d, "hook", "check"],
        &[("SETTINGS_PATH", settings.to_str().unwrap())],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains(r#""valid":false"#), "{stderr}");
}

fn cache_entries(cache: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(cache)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn precompile_fills_the_cache_and_bad_entries_are_rebuilt() {
    let (_tmp, dir) = common::hooks_copy();
    let d = dir.to_str().unwrap();
    let (code, _, stderr) = host(&["--hooks-dir", d, "precompile"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let cache = dir.join(".cache");
    let entries = cache_entries(&cache, "cwasm");
    assert_eq!(entries.len(), 3, "one entry per guest of grants.yaml");
    // Warm: nothing is compiled again.
    let (_, _, stderr) = host(&["--hooks-dir", d, "precompile"], &[]);
    assert_eq!(
        stderr.matches(r#""origin":"Cached""#).count(),
        3,
        "{stderr}"
    );
    // Corrupted: detected by checksum and rebuilt.
    let mut bytes = std::fs::read(&entries[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&entries[0], bytes).unwrap();
    // Foreign: a valid checksum over code that is not this engine's.
    let foreign = b"not wasmtime code".to_vec();
    std::fs::write(&entries[1], &foreign).unwrap();
    let sum = blake3::hash(&foreign).to_hex().to_string();
    std::fs::write(entries[1].with_extension("sum"), sum).unwrap();
    let (code, _, stderr) = host(&["--hooks-dir", d, "precompile"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("precompiled component is corrupted; rebuilding"),
        "{stderr}"
    );
    assert!(
        stderr.contains("precompiled component does not fit this engine; rebuilding"),
        "{stderr}"
    );
    let (_, _, stderr) = host(&["--hooks-dir", d, "precompile"], &[]);
    assert_eq!(
        stderr.matches(r#""origin":"Cached""#).count(),
        3,
        "rebuilt entries are valid again: {stderr}"
    );
}

#[test]
fn a_warm_run_maps_the_verified_entry_without_hashing_and_any_change_is_verified_again() {
    let (_tmp, dir) = common::hooks_copy();
    let d = dir.to_str().unwrap();
    let (code, _, stderr) = host(&["--hooks-dir", d, "precompile"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let cache = dir.join(".cache");
    assert_eq!(cache_entries(&cache, "idx").len(), 3, "one index per guest");
    // The checksums are only read on the hashing path: without them, the index still
    // serves every entry.
    for sum in cache_entries(&cache, "sum") {
        std::fs::remove_file(sum).unwrap();
    }
    let (_, _, stderr) = host(&["--hooks-dir", d, "precompile"], &[]);
    assert_eq!(
        stderr.matches(r#""origin":"Cached""#).count(),
        3,
        "{stderr}"
    );
    assert!(!stderr.contains("rebuilding"), "{stderr}");
    // Rewriting an entry (even with the same bytes) changes its identity: it is hashed
    // again, and without its checksum it is rebuilt.
    let entry = &cache_entries(&cache, "cwasm")[0];
    let bytes = std::fs::read(entry).unwrap();
    std::fs::write(entry, bytes).unwrap();
    let (code, _, stderr) = host(&["--hooks-dir", d, "precompile"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr.matches(r#""origin":"Compiled""#).count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        stderr.matches(r#""origin":"Cached""#).count(),
        2,
        "{stderr}"
    );
}

#[test]
fn a_cache_beyond_its_bounds_loses_its_entries_used_longest_ago_when_a_run_writes() {
    use wasm_hooks::runtime::cache::MAX_CACHE_ENTRIES;
    let (_tmp, dir) = common::hooks_copy();
    let d = dir.to_str().unwrap();
    let cache = dir.join(".cache");
    std::fs::create_dir(&cache).unwrap();
    // Indexes of components long gone, last used a month ago and older: more than the cache
    // keeps, with a file this cache did not name among them.
    let month = std::time::Duration::from_secs(30 * 24 * 3600);
    let stale = MAX_CACHE_ENTRIES + 40;
    for i in 0..stale {
        let file = cache.join(format!("{i:032x}.idx"));
        std::fs::write(&file, "gone\n").unwrap();
        let at = std::time::SystemTime::now() - month - std::time::Duration::from_secs(i as u64);
        let times = std::fs::FileTimes::new().set_modified(at).set_accessed(at);
        let f = std::fs::File::options().write(true).open(&file).unwrap();
        f.set_times(times).unwrap();
    }
    std::fs::write(cache.join("notes.txt"), "an operator's file").unwrap();
    let (code, _, stderr) = host(&["--hooks-dir", d, "precompile"], &[("LOG_LEVEL", "debug")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(r#""msg":"cache pruned""#), "{stderr}");
    // Three guests (entry and index each) and the manifest's JSON were written and kept;
    // the oldest stale indexes made room for them, the newest stale ones stayed.
    let idx = cache_entries(&cache, "idx");
    let kept =
        cache_entries(&cache, "cwasm").len() + idx.len() + cache_entries(&cache, "json").len();
    assert_eq!(kept, MAX_CACHE_ENTRIES, "{stderr}");
    assert_eq!(cache_entries(&cache, "cwasm").len(), 3);
    assert!(
        cache.join(format!("{:032x}.idx", 0)).exists(),
        "the newest stale index stays"
    );
    assert!(
        !cache.join(format!("{:032x}.idx", stale - 1)).exists(),
        "the oldest goes"
    );
    assert!(
        cache.join("notes.txt").exists(),
        "a file the cache did not name is never removed"
    );
    // The entries kept serve the next run warm, which writes and removes nothing.
    let (_, _, stderr) = host(&["--hooks-dir", d, "precompile"], &[("LOG_LEVEL", "debug")]);
    assert_eq!(
        stderr.matches(r#""origin":"Cached""#).count(),
        3,
        "{stderr}"
    );
    assert!(!stderr.contains("cache pruned"), "{stderr}");
}

#[test]
fn grants_yaml_is_read_from_its_cached_json_form_until_it_changes() {
    let (_tmp, dir) = common::hooks_copy();
    let d = dir.to_str().unwrap();
    let precompile = || {
        let (code, _, stderr) = host(&["--hooks-dir", d, "precompile"], &[]);
        assert_eq!(code, 0, "{stderr}");
        stderr
    };
    precompile();
    let cache = dir.join(".cache");
    let entries = cache_entries(&cache, "json");
    assert_eq!(entries.len(), 1, "precompile writes the manifest's entry");
    // The entry is what a run reads: a name changed in it shows up.
    let name = "control-plane-migration-state-sync";
    let json = std::fs::read_to_string(&entries[0]).unwrap();
    assert!(json.contains(name), "{json}");
    std::fs::write(&entries[0], json.replace(name, "read-from-the-cache")).unwrap();
    let stderr = precompile();
    assert!(
        stderr.contains(r#""guest":"read-from-the-cache""#),
        "{stderr}"
    );
    // An entry that breaks a manifest rule is not used: the YAML is read again.
    let broken = json.replace(r#""timeoutMs":2000"#, r#""timeoutMs":0"#);
    assert_ne!(broken, json, "the state-sync guest sets timeoutMs: 2000");
    std::fs::write(&entries[0], broken).unwrap();
    let stderr = precompile();
    assert!(stderr.contains(&format!(r#""guest":"{name}""#)), "{stderr}");
    // Any write to grants.yaml, even of the same bytes, is read from the YAML.
    std::fs::write(&entries[0], json.replace(name, "read-from-the-cache")).unwrap();
    let grants = dir.join("grants.yaml");
    std::fs::write(&grants, std::fs::read(&grants).unwrap()).unwrap();
    let stderr = precompile();
    assert!(stderr.contains(&format!(r#""guest":"{name}""#)), "{stderr}");
    assert!(!stderr.contains("read-from-the-cache"), "{stderr}");
    // An entry in a cache others can write to is never read.
    let fresh = cache_entries(&cache, "json")
        .into_iter()
        .find(|e| *e != entries[0])
        .expect("the changed grants.yaml has its own entry");
    let json = std::fs::read_to_string(&fresh).unwrap();
    std::fs::write(&fresh, json.replace(name, "read-from-the-cache")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let stderr = precompile();
    assert!(!stderr.contains("read-from-the-cache"), "{stderr}");
}

#[test]
fn replacing_a_guest_component_changes_behaviour_with_the_same_host() {
    let (_tmp, dir) = common::hooks_copy();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "control-plane-migration", "namespace": "d8-sds-replicated-volume"}, "data": {"state": "stage3_started"}});
    let bc = json!([{"binding": "beforeHelm", "snapshots": {"control-plane-migration": [{"object": cm}]}}]).to_string();
    let values = json!({"sdsReplicatedVolume": {"newControlPlane": true, "internal": {"controlPlaneMigration": "stage2_started"}}});
    let seed = common::hook_run(&dir, 0, &bc, &values, &json!({}));
    assert_eq!(seed.code, 0, "{}", seed.stderr);
    assert!(
        seed.values_ops().is_empty(),
        "the seed guest does not know stage3_started: {}",
        seed.values_patch
    );
    // Same binary, same grants.yaml: only the component file changes.
    std::fs::copy(
        guest_artifacts::component("nine-state-hook"),
        dir.join("guest_hook.wasm"),
    )
    .unwrap();
    let nine = common::hook_run(&dir, 0, &bc, &values, &json!({}));
    assert_eq!(nine.code, 0, "{}", nine.stderr);
    assert!(nine.values_ops().contains(&json!({"op": "add", "path": "/sdsReplicatedVolume/internal/controlPlaneMigration", "value": "stage3_started"})), "{}", nine.values_patch);
}

#[test]
fn the_readme_shows_what_plan_prints() {
    let dir = guest_artifacts::hooks_dir();
    let (code, stdout, stderr) = host(&["--hooks-dir", dir.to_str().unwrap(), "plan"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("| true | stage1_started | — | — | — | — | rendered |"),
        "{stdout}"
    );
    assert!(stdout.contains("stateDiagram-v2"), "{stdout}");
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    assert!(
        readme.contains(stdout.trim()),
        "README.md is stale: paste the output of `wasm-hooks plan`:\n{stdout}"
    );
}

#[test]
fn the_chart_job_runs_a_job_guest_of_grants_yaml() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let job = std::fs::read_to_string(root.join("templates/migration/job.yaml")).unwrap();
    let command = job
        .lines()
        .find_map(|l| l.trim().strip_prefix("command: "))
        .expect("the Job has a command");
    let command: Vec<String> = serde_json::from_str(command).unwrap();
    assert_eq!(
        command[..2],
        ["/hooks/wasm-hooks".to_owned(), "job".to_owned()]
    );
    let grants: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(root.join("grants.yaml")).unwrap()).unwrap();
    let guest = grants["guests"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|g| g["name"].as_str() == Some(command[2].as_str()));
    assert_eq!(
        guest.and_then(|g| g["world"].as_str()),
        Some("job"),
        "{} is not a job guest of grants.yaml",
        command[2]
    );
}

/// The vocabulary guest declares every binding form; its `hook config` (batch) and
/// `--config` (shell) renderings are pinned by goldens and valid by the schemas.
#[test]
fn every_binding_form_renders_for_both_protocols() {
    let (_tmp, dir) = common::hooks_copy();
    let grants =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/vocabulary/grants.yaml");
    std::fs::copy(grants, dir.join("grants.yaml")).unwrap();
    let hooks_dir = dir.to_str().unwrap();
    for (args, schema, golden) in [
        (
            vec!["--hooks-dir", hooks_dir, "hook", "config"],
            "batch-config-v1.json",
            "vocabulary-batch.json",
        ),
        (
            vec!["--hooks-dir", hooks_dir, "--config"],
            "shell-config-v1.json",
            "vocabulary-shell.json",
        ),
    ] {
        let (code, stdout, stderr) = host(&args, &[]);
        assert_eq!(code, 0, "{stderr}");
        let config: Value = serde_json::from_str(&stdout).unwrap();
        assert_valid(schema, &config);
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/golden/config")
            .join(golden);
        if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1" || v == "true") {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap() + "\n").unwrap();
        }
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            config, expected,
            "{golden} differs; UPDATE_GOLDEN=1 rewrites it"
        );
    }
}
