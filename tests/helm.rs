//! The render guest and the module's chart, proven with real Helm.
//!
//! For every `newControlPlane` x state a render guest describes, the test does what Deckhouse
//! does before a Helm run: values from the openapi defaults, the render hook run by the real
//! `wasm-hooks` binary (`hook run N` with the batch-protocol files), its values patch applied and
//! validated against `openapi/values.yaml`. Then `helm template` renders the chart, the rendered
//! (kind, name) set is held to the safety invariants and compared with a golden file
//! (`UPDATE_GOLDEN=1` rewrites them). The nine-state guest runs through the same host and chart.
//!
//! Helm comes from `HELM`, else from the cache that `tests/support/get-helm.sh` fills (the test
//! runs the script when the cache is empty).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// The render hook's name in grants.yaml and in `hook list`.
const RENDER_HOOK: &str = "control-plane-migration-render-plan";

/// The repository root: the chart lives there.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ sits in the repository")
        .to_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// The rendered objects of one `helm template` run, as a (kind, name) set.
mod render {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Render(pub BTreeSet<(String, String)>);

    impl Render {
        /// Reads `helm template`'s multi-document YAML.
        pub fn parse(yaml: &str) -> Result<Render, String> {
            let mut objects = BTreeSet::new();
            for document in serde_yaml::Deserializer::from_str(yaml) {
                let doc: Value = serde::Deserialize::deserialize(document)
                    .map_err(|e| format!("helm output is not YAML: {e}"))?;
                if doc.is_null() {
                    continue;
                }
                let kind = doc["kind"]
                    .as_str()
                    .ok_or_else(|| format!("object without kind: {doc}"))?;
                let name = doc["metadata"]["name"]
                    .as_str()
                    .ok_or_else(|| format!("{kind} without metadata.name"))?;
                if !objects.insert((kind.to_owned(), name.to_owned())) {
                    return Err(format!("{kind} {name} rendered twice"));
                }
            }
            Ok(Render(objects))
        }

        pub fn has(&self, kind: &str, name: &str) -> bool {
            self.0.contains(&(kind.to_owned(), name.to_owned()))
        }

        /// One `Kind name` line per object, sorted: the golden file format.
        pub fn to_golden(&self) -> String {
            self.0
                .iter()
                .map(|(kind, name)| format!("{kind} {name}\n"))
                .collect()
        }
    }
}

/// Helm itself: found, installed when missing, and run on the chart.
mod helm {
    use std::process::Command;
    use std::sync::OnceLock;

    use super::render::Render;
    use super::*;

    /// `HELM`, else the cached Helm v3.17, installed by `get-helm.sh` on first use.
    pub fn binary() -> &'static Path {
        static HELM: OnceLock<PathBuf> = OnceLock::new();
        HELM.get_or_init(|| {
            if let Some(helm) = std::env::var_os("HELM") {
                return PathBuf::from(helm);
            }
            let cached = cache_dir().join("helm-v3.17/helm/helm");
            if cached.is_file() { cached } else { install() }
        })
    }

    fn cache_dir() -> PathBuf {
        match std::env::var_os("WASM_HOOKS_CACHE") {
            Some(dir) => PathBuf::from(dir),
            None => PathBuf::from(std::env::var_os("HOME").expect("HOME or WASM_HOOKS_CACHE set"))
                .join(".cache/wasm-hooks"),
        }
    }

    fn install() -> PathBuf {
        let script = repo_root().join("tests/support/get-helm.sh");
        let out = Command::new("bash")
            .arg(&script)
            .output()
            .expect("running get-helm.sh");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{} failed: {stderr}",
            script.display()
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    }

    /// `helm lint --strict` of the module chart with these values; the error is Helm's report.
    pub fn lint(values: &Value) -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let file = dir.path().join("values.json");
        write(&file, &values.to_string());
        let out = Command::new(binary())
            .args(["lint", "--strict"])
            .arg(repo_root())
            .arg("--values")
            .arg(&file)
            .output()
            .map_err(|e| format!("running {}: {e}", binary().display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stdout).into_owned())
        }
    }

    /// `helm template` of the module chart with these values (the whole values tree).
    pub fn template(values: &Value) -> Result<Render, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let file = dir.path().join("values.json");
        write(&file, &values.to_string());
        let out = Command::new(binary())
            .args(["template", "sds-replicated-volume"])
            .arg(repo_root())
            .arg("--values")
            .arg(&file)
            .output()
            .map_err(|e| format!("running {}: {e}", binary().display()))?;
        if !out.status.success() {
            return Err(format!(
                "helm template failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Render::parse(&String::from_utf8_lossy(&out.stdout))
    }
}

/// The module's openapi schemas, read the way Deckhouse reads them.
mod openapi {
    use super::*;

    /// `openapi/values.yaml` with its `x-extend` schema merged in and, as Deckhouse does,
    /// `additionalProperties: false` on every object schema that does not say otherwise.
    pub fn values_schema() -> Value {
        let dir = repo_root().join("openapi");
        let mut values = load(&dir.join("values.yaml"));
        let extend = values
            .as_object_mut()
            .and_then(|o| o.remove("x-extend"))
            .expect("openapi/values.yaml has x-extend");
        let base_file = extend["schema"]
            .as_str()
            .expect("x-extend.schema is a file name");
        let base = load(&dir.join(base_file));
        let mut merged = base["properties"].as_object().cloned().unwrap_or_default();
        for (key, schema) in values["properties"]
            .as_object()
            .expect("values.yaml has properties")
        {
            assert!(
                merged.insert(key.clone(), schema.clone()).is_none(),
                "{key} defined twice"
            );
        }
        values["properties"] = Value::Object(merged);
        close_objects(&mut values);
        values
    }

    fn load(path: &Path) -> Value {
        serde_yaml::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn close_objects(schema: &mut Value) {
        let Some(object) = schema.as_object_mut() else {
            return;
        };
        if object.contains_key("properties") && !object.contains_key("additionalProperties") {
            object.insert("additionalProperties".into(), Value::Bool(false));
        }
        if let Some(Value::Object(properties)) = object.get_mut("properties") {
            properties.values_mut().for_each(close_objects);
        }
    }

    /// Fills in defaults like Deckhouse's defaulter: a missing property takes its default,
    /// then present objects are filled recursively (so `internal: {}` gets its children).
    pub fn apply_defaults(schema: &Value, instance: &mut Value) {
        let (Some(properties), Some(object)) =
            (schema["properties"].as_object(), instance.as_object_mut())
        else {
            return;
        };
        for (key, property) in properties {
            if let (false, Some(default)) = (object.contains_key(key), property.get("default")) {
                object.insert(key.clone(), default.clone());
            }
            if let Some(child) = object.get_mut(key) {
                apply_defaults(property, child);
            }
        }
    }

    /// Validates the module's values object; the error lists every violation with its path.
    pub fn validate(schema: &Value, module_values: &Value) -> Result<(), String> {
        let validator = jsonschema::draft4::new(schema).map_err(|e| format!("bad schema: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(module_values)
            .map(|e| format!("sdsReplicatedVolume{}: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }
}

/// The real host binary running the render hook the way Deckhouse runs a batch hook.
mod hook {
    use std::process::Command;

    use json_patch::PatchOperation;
    use tempfile::TempDir;

    use super::*;

    /// A hooks folder: grants.yaml and the guests' .wasm files.
    pub struct HooksDir {
        pub path: PathBuf,
        _scratch: Option<TempDir>,
    }

    /// The folder the artifacts crate builds: the seed guests.
    pub fn seed() -> HooksDir {
        HooksDir {
            path: guest_artifacts::hooks_dir(),
            _scratch: None,
        }
    }

    /// The same guests, but grants.yaml points the render hook at the nine-state guest.
    pub fn nine_state() -> HooksDir {
        let scratch = tempfile::tempdir().expect("temp dir");
        guest_artifacts::copy_hooks_dir(scratch.path()).expect("copying the hooks dir");
        let nine = guest_artifacts::component("nine-state-render");
        let file = nine
            .file_name()
            .expect("a component file")
            .to_string_lossy()
            .into_owned();
        assert!(
            scratch.path().join(&file).is_file(),
            "the artifacts crate did not build {file}"
        );
        let grants = scratch.path().join("grants.yaml");
        write(&grants, &retarget_render_hook(&read(&grants), &file));
        HooksDir {
            path: scratch.path().to_owned(),
            _scratch: Some(scratch),
        }
    }

    /// grants.yaml with the render hook's `component` replaced.
    fn retarget_render_hook(grants: &str, component: &str) -> String {
        let mut doc: serde_yaml::Value = serde_yaml::from_str(grants).expect("grants.yaml is YAML");
        let guests = doc["guests"]
            .as_sequence_mut()
            .expect("grants.yaml has guests");
        let render = guests
            .iter_mut()
            .find(|g| g["name"].as_str() == Some(RENDER_HOOK))
            .expect("grants.yaml lists the render hook");
        render["component"] = serde_yaml::Value::from(component);
        serde_yaml::to_string(&doc).expect("grants.yaml serialises")
    }

    fn host(hooks: &HooksDir) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wasm-hooks"));
        command
            .env_remove("WASM_HOOKS_DIR")
            .arg("--hooks-dir")
            .arg(&hooks.path);
        command
    }

    /// The render hook's index in `hook list` (run with an empty environment, as discovery does).
    pub fn render_index(hooks: &HooksDir) -> usize {
        let out = host(hooks)
            .env_clear()
            .args(["hook", "list"])
            .output()
            .expect("running hook list");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "hook list failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
            .lines()
            .filter_map(|line| line.split_once(" - "))
            .find(|(_, name)| name.trim() == RENDER_HOOK)
            .and_then(|(index, _)| index.trim().parse().ok())
            .unwrap_or_else(|| panic!("{RENDER_HOOK} not in hook list:\n{stdout}"))
    }

    /// The states the render guest's `describe()` lists, in order, read from the host's
    /// `plan` table (one `| newControlPlane | state | ... |` row per switch and state).
    pub fn states(hooks: &HooksDir) -> Vec<String> {
        let out = host(hooks)
            .args(["plan", "--guest", RENDER_HOOK])
            .output()
            .expect("running plan");
        assert!(
            out.status.success(),
            "plan failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let states: Vec<String> = stdout
            .lines()
            .filter_map(|line| line.strip_prefix("| true | "))
            .filter_map(|rest| rest.split(" |").next())
            .map(|state| state.trim().to_owned())
            .collect();
        assert!(!states.is_empty(), "no states in the plan table:\n{stdout}");
        states
    }

    /// Runs the render hook as a beforeHelm hook and returns its values patch.
    pub fn run(
        hooks: &HooksDir,
        index: usize,
        values: &Value,
        config: &Value,
    ) -> Result<Vec<PatchOperation>, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let file = |name: &str| dir.path().join(name);
        write(
            &file("binding-context.json"),
            r#"[{"binding":"beforeHelm","snapshots":{}}]"#,
        );
        write(&file("values.json"), &values.to_string());
        write(&file("config-values.json"), &config.to_string());
        let out = host(hooks)
            .args(["hook", "run", &index.to_string()])
            .env("BINDING_CONTEXT_PATH", file("binding-context.json"))
            .env("VALUES_PATH", file("values.json"))
            .env("CONFIG_VALUES_PATH", file("config-values.json"))
            .env("VALUES_JSON_PATCH_PATH", file("values-patch.json"))
            .env(
                "CONFIG_VALUES_JSON_PATCH_PATH",
                file("config-values-patch.json"),
            )
            .env("KUBERNETES_PATCH_PATH", file("kubernetes-patch.json"))
            .env("METRICS_PATH", file("metrics.json"))
            .env("MODULE_NAME", "sds-replicated-volume")
            .output()
            .map_err(|e| format!("running the host: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "hook run failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let kubernetes = std::fs::read_to_string(file("kubernetes-patch.json")).unwrap_or_default();
        if !kubernetes.trim().is_empty() {
            return Err(format!(
                "a render hook must not touch Kubernetes, wrote: {kubernetes}"
            ));
        }
        parse_values_patch(&std::fs::read_to_string(file("values-patch.json")).unwrap_or_default())
    }

    /// A Deckhouse values patch: a JSON stream of operation arrays or single operations, only
    /// `add`/`remove`, only below `/sdsReplicatedVolume`.
    fn parse_values_patch(text: &str) -> Result<Vec<PatchOperation>, String> {
        let mut ops = Vec::new();
        for item in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
            match item.map_err(|e| format!("values patch is not a JSON stream: {e}"))? {
                Value::Array(items) => ops.extend(items),
                op => ops.push(op),
            }
        }
        for op in &ops {
            let (kind, path) = (
                op["op"].as_str().unwrap_or(""),
                op["path"].as_str().unwrap_or(""),
            );
            if !matches!(kind, "add" | "remove") || !path.starts_with("/sdsReplicatedVolume/") {
                return Err(format!(
                    "Deckhouse would reject values patch operation {op}"
                ));
            }
        }
        serde_json::from_value(Value::Array(ops)).map_err(|e| format!("bad values patch: {e}"))
    }
}

/// The safety rules every render must keep, as plain functions over a render.
mod invariants {
    use super::render::Render;

    /// Where the migration stands for one render.
    pub struct Phase<'a> {
        pub new_control_plane: bool,
        pub state: &'a str,
        /// The table's last state, in which the migration is finished.
        pub final_state: &'a str,
    }

    impl Phase<'_> {
        /// The migration is finished whatever the switch says now: a switch back after
        /// it keeps the new control plane (and its CSI).
        fn finished(&self) -> bool {
            self.state == self.final_state
        }
    }

    fn linstor(r: &Render) -> bool {
        r.has("Deployment", "linstor-controller") || r.has("DaemonSet", "linstor-node")
    }

    /// Two control planes must never drive the same DRBD devices.
    pub fn linstor_excludes_new_control_plane(r: &Render) -> Result<(), String> {
        if linstor(r) && (r.has("Deployment", "controller") || r.has("DaemonSet", "agent")) {
            return Err("LINSTOR rendered together with the new agent or controller".into());
        }
        Ok(())
    }

    /// CSI only over a running backend: LINSTOR, or the new control plane once migrated.
    pub fn csi_runs_over_a_backend(r: &Render, phase: &Phase) -> Result<(), String> {
        let csi = r.has("Deployment", "csi-controller")
            || r.has("DaemonSet", "csi-node")
            || r.has("CSIDriver", "replicated.csi.storage.deckhouse.io");
        let over_linstor =
            r.has("Deployment", "linstor-controller") && r.has("DaemonSet", "linstor-node");
        let over_new =
            r.has("Deployment", "controller") && r.has("DaemonSet", "agent") && phase.finished();
        if csi && !(over_linstor || over_new) {
            return Err(format!(
                "CSI rendered without its backend in state {}",
                phase.state
            ));
        }
        Ok(())
    }

    /// The migration Job only while the switch is on and the migration unfinished.
    pub fn job_only_while_migrating(r: &Render, phase: &Phase) -> Result<(), String> {
        let migrating = phase.new_control_plane && !phase.finished();
        if r.has("Job", "control-plane-migrator") && !migrating {
            return Err(format!(
                "migration Job rendered with newControlPlane={} in state {}",
                phase.new_control_plane, phase.state
            ));
        }
        Ok(())
    }

    /// Every rule; the error lists each broken one.
    pub fn check_all(r: &Render, phase: &Phase) -> Result<(), String> {
        let broken: Vec<String> = [
            linstor_excludes_new_control_plane(r),
            csi_runs_over_a_backend(r, phase),
            job_only_while_migrating(r, phase),
        ]
        .into_iter()
        .filter_map(Result::err)
        .collect();
        if broken.is_empty() {
            Ok(())
        } else {
            Err(broken.join("; "))
        }
    }
}

/// Golden files: compared with a readable diff, rewritten with `UPDATE_GOLDEN=1`.
mod golden {
    use super::*;

    fn updating() -> bool {
        std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
    }

    pub fn check(dir: &Path, name: &str, actual: &str) -> Result<(), String> {
        let path = dir.join(name);
        if updating() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            write(&path, actual);
            return Ok(());
        }
        let expected = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
                path.display()
            )
        })?;
        if expected == actual {
            return Ok(());
        }
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual);
        let shown = diff
            .unified_diff()
            .header(&format!("{} (golden)", path.display()), "rendered")
            .to_string();
        Err(format!("render differs from {}:\n{shown}", path.display()))
    }

    /// Golden files in `dir` that no case produced: stale after a state was removed.
    pub fn check_no_stale(dir: &Path, produced: &BTreeSet<String>) -> Result<(), String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let stale: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && !produced.contains(&*p.file_name().unwrap_or_default().to_string_lossy())
            })
            .collect();
        if stale.is_empty() {
            return Ok(());
        }
        if updating() {
            stale
                .iter()
                .try_for_each(std::fs::remove_file)
                .map_err(|e| e.to_string())?;
            return Ok(());
        }
        Err(format!(
            "stale golden files (UPDATE_GOLDEN=1 removes them): {stale:?}"
        ))
    }
}

use render::Render;

/// The module values (openapi defaults applied) and config values for one case.
fn case_values(schema: &Value, new_control_plane: bool, state: &str) -> (Value, Value) {
    let mut module =
        json!({"newControlPlane": new_control_plane, "internal": {"controlPlaneMigration": state}});
    openapi::apply_defaults(schema, &mut module);
    let values = json!({"global": {}, "sdsReplicatedVolume": module});
    let config =
        json!({"global": {}, "sdsReplicatedVolume": {"newControlPlane": new_control_plane}});
    (values, config)
}

/// Values -> render hook -> values patch -> schema check -> helm template.
fn render_case(
    hooks: &hook::HooksDir,
    index: usize,
    schema: &Value,
    ncp: bool,
    state: &str,
) -> Result<Render, String> {
    let (mut values, config) = case_values(schema, ncp, state);
    let patch = hook::run(hooks, index, &values, &config)?;
    json_patch::patch(&mut values, &patch)
        .map_err(|e| format!("applying the values patch: {e}"))?;
    let module = &values["sdsReplicatedVolume"];
    openapi::validate(schema, module)?;
    let plan = &module["internal"]["renderPlan"];
    if plan
        .to_string()
        .contains("default before the render hook ran")
    {
        return Err(format!("the hook did not replace the default plan: {plan}"));
    }
    helm::template(&values)
}

/// Renders every (switch, state) pair with one hooks dir; checks invariants and golden files.
fn sweep(hooks: &hook::HooksDir, golden_dir: &Path) {
    let states = hook::states(hooks);
    let schema = openapi::values_schema();
    let index = hook::render_index(hooks);
    let final_state = states.last().expect("a guest has states");
    let mut failures = Vec::new();
    let mut produced = BTreeSet::new();
    for ncp in [false, true] {
        for state in states.iter().map(String::as_str) {
            let name = format!("{ncp}-{state}.txt");
            let phase = invariants::Phase {
                new_control_plane: ncp,
                state,
                final_state,
            };
            let checked = render_case(hooks, index, &schema, ncp, state).and_then(|render| {
                invariants::check_all(&render, &phase)?;
                golden::check(golden_dir, &name, &render.to_golden())
            });
            if let Err(e) = checked {
                failures.push(format!("newControlPlane={ncp}, {state}: {e}"));
            }
            produced.insert(name);
        }
    }
    if let Err(e) = golden::check_no_stale(golden_dir, &produced) {
        failures.push(e);
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn golden_root() -> PathBuf {
    repo_root().join("tests/golden/helm")
}

#[test]
fn seed_guest_renders_every_state_as_golden() {
    sweep(&hook::seed(), &golden_root());
}

#[test]
fn nine_state_guest_renders_through_the_same_host_and_chart() {
    let hooks = hook::nine_state();
    assert_eq!(
        hook::states(&hooks).len(),
        9,
        "the nine-state guest is the render hook"
    );
    sweep(&hooks, &golden_root().join("nine-state"));
}

#[test]
fn unknown_state_fails_the_hook_naming_the_known_states() {
    let hooks = hook::seed();
    let schema = openapi::values_schema();
    let (values, config) = case_values(&schema, true, "stage9_started");
    let err = hook::run(&hooks, hook::render_index(&hooks), &values, &config).unwrap_err();
    assert!(err.contains("stage9_started"), "{err}");
    assert!(err.contains(&hook::states(&hooks).join(", ")), "{err}");
}

/// Values with the openapi defaults and a hand-made plan: what the templates do with it.
fn forced_render(rendered: &[&str]) -> Render {
    let schema = openapi::values_schema();
    let (mut values, _) = case_values(&schema, true, "stage1_started");
    let plan = &mut values["sdsReplicatedVolume"]["internal"]["renderPlan"];
    for component in ["linstor", "agent", "controller", "csi", "migrationJob"] {
        plan[component] =
            json!({"rendered": rendered.contains(&component), "reason": "forced by the test"});
    }
    openapi::validate(&schema, &values["sdsReplicatedVolume"])
        .expect("forced values fit the schema");
    helm::template(&values).expect("helm renders forced values")
}

#[test]
fn invariant_checks_reject_violating_renders() {
    use invariants::*;
    let phase = |new_control_plane, state| Phase {
        new_control_plane,
        state,
        final_state: "all_completed",
    };

    let both = forced_render(&["linstor", "agent"]);
    assert!(linstor_excludes_new_control_plane(&both).is_err());
    assert!(
        linstor_excludes_new_control_plane(&forced_render(&["linstor", "controller"])).is_err()
    );

    let orphan_csi = forced_render(&["csi"]);
    assert!(csi_runs_over_a_backend(&orphan_csi, &phase(true, "stage1_started")).is_err());
    let early_csi = forced_render(&["agent", "controller", "csi"]);
    assert!(csi_runs_over_a_backend(&early_csi, &phase(true, "stage2_started")).is_err());
    assert!(csi_runs_over_a_backend(&early_csi, &phase(false, "stage2_started")).is_err());
    // After the migration a switch back keeps the new control plane and its CSI.
    assert!(csi_runs_over_a_backend(&early_csi, &phase(false, "all_completed")).is_ok());

    let job = forced_render(&["linstor", "csi", "migrationJob"]);
    assert!(job_only_while_migrating(&job, &phase(false, "not_started")).is_err());
    let late_job = forced_render(&["agent", "controller", "csi", "migrationJob"]);
    assert!(job_only_while_migrating(&late_job, &phase(true, "all_completed")).is_err());

    // The same renders pass where the plan allows them, so the checks are not always failing.
    assert!(check_all(&job, &phase(true, "not_started")).is_ok());
    assert!(check_all(&early_csi, &phase(true, "all_completed")).is_ok());
    assert!(check_all(&both, &phase(false, "not_started")).is_err());
}

#[test]
fn each_component_renders_only_its_own_objects() {
    let own: [(&str, &[&str]); 5] = [
        (
            "linstor",
            &[
                "DaemonSet linstor-node",
                "Deployment linstor-affinity-controller",
                "Deployment linstor-controller",
                "Deployment linstor-scheduler-extender",
            ],
        ),
        ("agent", &["DaemonSet agent"]),
        ("controller", &["Deployment controller"]),
        (
            "csi",
            &[
                "CSIDriver replicated.csi.storage.deckhouse.io",
                "DaemonSet csi-node",
                "Deployment csi-controller",
            ],
        ),
        (
            "migrationJob",
            &[
                "ClusterRole d8:sds-replicated-volume:control-plane-migrator",
                "ClusterRoleBinding d8:sds-replicated-volume:control-plane-migrator",
                "Job control-plane-migrator",
                "Role control-plane-migrator",
                "RoleBinding control-plane-migrator",
                "ServiceAccount control-plane-migrator",
            ],
        ),
    ];
    let always = "Namespace d8-sds-replicated-volume";
    assert_eq!(
        forced_render(&[]).to_golden(),
        format!("{always}\n"),
        "with nothing planned only the namespace renders"
    );
    for (component, objects) in own {
        let mut expected: Vec<&str> = objects.to_vec();
        expected.push(always);
        expected.sort_unstable();
        let expected: String = expected.iter().map(|line| format!("{line}\n")).collect();
        assert_eq!(
            forced_render(&[component]).to_golden(),
            expected,
            "{component} alone"
        );
    }
}

#[test]
fn chart_lints_strictly_with_every_component_rendered() {
    let schema = openapi::values_schema();
    let (mut values, _) = case_values(&schema, true, "not_started");
    for component in ["linstor", "agent", "controller", "csi", "migrationJob"] {
        values["sdsReplicatedVolume"]["internal"]["renderPlan"][component] =
            json!({"rendered": true, "reason": "lint every template"});
    }
    helm::lint(&values).unwrap_or_else(|report| panic!("helm lint --strict failed:\n{report}"));
}

/// `.helmignore` keeps the Rust workspace out of the chart: only these top-level entries ship.
#[test]
fn chart_package_holds_only_the_chart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let packaged = std::process::Command::new(helm::binary())
        .arg("package")
        .arg(repo_root())
        .arg("--destination")
        .arg(dir.path())
        .output()
        .expect("running helm package");
    assert!(
        packaged.status.success(),
        "{}",
        String::from_utf8_lossy(&packaged.stderr)
    );
    let archive = std::fs::read_dir(dir.path())
        .expect("package dir")
        .next()
        .expect("a chart archive");
    let listed = std::process::Command::new("tar")
        .arg("-tzf")
        .arg(archive.expect("archive entry").path())
        .output()
        .expect("running tar");
    assert!(
        listed.status.success(),
        "tar: {}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let listing = String::from_utf8_lossy(&listed.stdout);
    let top: BTreeSet<&str> = listing
        .lines()
        .filter_map(|path| path.strip_prefix("sds-replicated-volume/"))
        .map(|path| path.split('/').next().unwrap_or(path))
        .collect();
    let allowed = BTreeSet::from([".helmignore", "Chart.yaml", "openapi", "templates"]);
    assert_eq!(top, allowed, "add the extra entries to .helmignore");
}

#[test]
fn openapi_default_plan_is_the_legacy_plan() {
    let schema = openapi::values_schema();
    let (values, _) = case_values(&schema, false, "not_started");
    openapi::validate(&schema, &values["sdsReplicatedVolume"]).expect("defaults fit the schema");
    let render = helm::template(&values).expect("helm renders the defaults");
    let hooks = hook::seed();
    let index = hook::render_index(&hooks);
    let legacy = render_case(&hooks, index, &schema, false, "not_started").expect("legacy plan");
    assert_eq!(
        render, legacy,
        "the default plan must render what the legacy plan renders"
    );
}

#[test]
fn schema_rejects_a_malformed_plan() {
    let schema = openapi::values_schema();
    let (values, _) = case_values(&schema, true, "not_started");
    let mut module = values["sdsReplicatedVolume"].clone();
    module["internal"]["renderPlan"]["csi"] = json!({"rendered": "yes"});
    let err = openapi::validate(&schema, &module).unwrap_err();
    assert!(err.contains("/internal/renderPlan/csi"), "{err}");
    let mut module = values["sdsReplicatedVolume"].clone();
    module["internal"]["renderPlann"] = json!({});
    assert!(
        openapi::validate(&schema, &module).is_err(),
        "unknown keys must fail as in Deckhouse"
    );
}
