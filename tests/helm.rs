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

#[path = "helm/admission.rs"]
mod admission;
#[path = "helm/rbac_authorizer.rs"]
mod rbac_authorizer;

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
        Render::parse(&template_text(values)?)
    }

    /// `helm template`'s output: the rendered manifests as Helm prints them.
    pub fn template_text(values: &Value) -> Result<String, String> {
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
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The rendered objects of `helm template` with these values, as JSON.
    pub fn objects(values: &Value) -> Vec<Value> {
        let text = template_text(values).unwrap_or_else(|e| panic!("{e}"));
        serde_yaml::Deserializer::from_str(&text)
            .map(|document| {
                <Value as serde::Deserialize>::deserialize(document)
                    .unwrap_or_else(|e| panic!("helm output is not YAML: {e}"))
            })
            .filter(|object| !object.is_null())
            .collect()
    }

    /// The one rendered object of this kind and name.
    pub fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
        objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("{kind} {name} not rendered"))
    }
}

/// The module's openapi schemas, read and applied the way Deckhouse's addon-operator does
/// (`pkg/values/validation`, `values_storage.go`): config-values.yaml alone for the config
/// values; values.yaml extended with it (`x-extend`) for the values; every object closed
/// (`additionalProperties: false` unless it says otherwise); the `registry` field injected
/// as Deckhouse does for a module from a ModuleSource; and for Helm, `x-required-for-helm`
/// turned into `required`.
mod openapi {
    use super::*;

    fn dir() -> PathBuf {
        repo_root().join("openapi")
    }

    fn load(path: &Path) -> Value {
        serde_yaml::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// `openapi/config-values.yaml`, closed: what the ModuleConfig's settings are checked against.
    pub fn config_schema() -> Value {
        let mut schema = load(&dir().join("config-values.yaml"));
        close_objects(&mut schema);
        schema
    }

    /// `openapi/values.yaml` with its `x-extend` schema merged in, closed, and with the
    /// registry field Deckhouse injects.
    pub fn values_schema() -> Value {
        let mut values = load(&dir().join("values.yaml"));
        let base_file = values["x-extend"]["schema"]
            .as_str()
            .expect("openapi/values.yaml has x-extend.schema")
            .to_owned();
        let base = load(&dir().join(base_file));
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
        inject_registry(&mut values);
        values
    }

    /// The values schema with every `x-required-for-helm` list added to `required`.
    pub fn helm_schema() -> Value {
        let mut schema = values_schema();
        require_for_helm(&mut schema);
        schema
    }

    /// addon-operator's AdditionalPropertiesTransformer: every schema without its own
    /// `additionalProperties` gets `false`, recursively (but not below one that has its own).
    fn close_objects(schema: &mut Value) {
        let Some(object) = schema.as_object_mut() else {
            return;
        };
        object
            .entry("additionalProperties")
            .or_insert(Value::Bool(false));
        if let Some(Value::Object(properties)) = object.get_mut("properties") {
            for property in properties.values_mut() {
                if property.get("additionalProperties").is_none() {
                    close_objects(property);
                }
            }
        }
        if let Some(items) = object.get_mut("items") {
            close_objects(items);
        }
    }

    /// addon-operator's InjectRegistrySpec: a strict `registry` object, base and scheme required.
    fn inject_registry(schema: &mut Value) {
        schema["properties"]["registry"] = json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["base", "scheme"],
            "properties": {
                "base": {"type": "string", "minLength": 1},
                "dockercfg": {"type": "string"},
                "scheme": {"type": "string"},
                "ca": {"type": "string"},
            },
        });
    }

    fn require_for_helm(schema: &mut Value) {
        let Some(object) = schema.as_object_mut() else {
            return;
        };
        if let Some(extra) = object.get("x-required-for-helm").cloned() {
            let extra: Vec<Value> = match extra {
                Value::Array(items) => items,
                single => vec![single],
            };
            let required = object
                .entry("required")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(required) = required {
                for field in extra {
                    if !required.contains(&field) {
                        required.push(field);
                    }
                }
            }
        }
        if let Some(Value::Object(properties)) = object.get_mut("properties") {
            properties.values_mut().for_each(require_for_helm);
        }
    }

    /// Fills in defaults like addon-operator's ApplyDefaults: a missing property takes its
    /// default, then present objects are filled recursively (so `internal: {}` gets its children).
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

    /// The module's values before any hook ran, layered as addon-operator's
    /// `calculateResultValues`: static values (the injected registry), config-values
    /// defaults, the config values (ModuleConfig settings), values defaults.
    pub fn module_values(config: &Value, registry: Option<&Value>) -> Value {
        let mut values = json!({});
        if let Some(registry) = registry {
            values["registry"] = registry.clone();
        }
        apply_defaults(&config_schema(), &mut values);
        merge(&mut values, config);
        apply_defaults(&values_schema(), &mut values);
        values
    }

    /// Deep merge of `layer` over `base`, as Deckhouse merges value layers.
    fn merge(base: &mut Value, layer: &Value) {
        match (base, layer) {
            (Value::Object(base), Value::Object(layer)) => {
                for (key, value) in layer {
                    match base.get_mut(key) {
                        Some(existing) => merge(existing, value),
                        None => {
                            base.insert(key.clone(), value.clone());
                        }
                    }
                }
            }
            (base, layer) => *base = layer.clone(),
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

/// What Deckhouse adds around the module's own values: its global values and, for a module
/// from a ModuleSource, the module registry (`tests/fixtures/helm/`).
mod deckhouse {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = repo_root().join("tests/fixtures/helm").join(name);
        serde_yaml::from_str(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The global values a Helm run sees.
    pub fn global() -> Value {
        fixture("global.yaml")
    }

    /// `sdsReplicatedVolume.registry`, as Deckhouse injects it.
    pub fn module_registry() -> Value {
        fixture("module-registry.yaml")
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

/// The values (Deckhouse's layering, the state as the state-sync hook set it) and config
/// values for one case.
fn case_values(schema: &Value, new_control_plane: bool, state: &str) -> (Value, Value) {
    let settings = json!({"newControlPlane": new_control_plane});
    openapi::validate(&openapi::config_schema(), &settings).expect("settings fit config-values");
    let mut module = openapi::module_values(&settings, Some(&deckhouse::module_registry()));
    module["internal"]["controlPlaneMigration"] = json!(state);
    openapi::validate(schema, &module).expect("values before the hooks fit the values schema");
    let values = json!({"global": deckhouse::global(), "sdsReplicatedVolume": module});
    let config = json!({"global": {}, "sdsReplicatedVolume": settings});
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
    openapi::validate(&openapi::helm_schema(), module)?;
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

/// Values with Deckhouse's layering and a hand-made plan: what the templates do with it.
fn forced_values(rendered: &[&str]) -> Value {
    let schema = openapi::values_schema();
    let (mut values, _) = case_values(&schema, true, "stage1_started");
    let plan = &mut values["sdsReplicatedVolume"]["internal"]["renderPlan"];
    for component in ["linstor", "agent", "controller", "csi", "migrationJob"] {
        plan[component] =
            json!({"rendered": rendered.contains(&component), "reason": "forced by the test"});
    }
    openapi::validate(&schema, &values["sdsReplicatedVolume"])
        .expect("forced values fit the schema");
    values
}

fn forced_render(rendered: &[&str]) -> Render {
    helm::template(&forced_values(rendered)).expect("helm renders forced values")
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
    let always = [
        "Namespace d8-sds-replicated-volume",
        "Secret sds-replicated-volume-module-registry",
        "ValidatingAdmissionPolicy sds-replicated-volume-control-plane-migration.deckhouse.io",
        "ValidatingAdmissionPolicyBinding sds-replicated-volume-control-plane-migration.deckhouse.io",
    ];
    assert_eq!(
        forced_render(&[]).to_golden(),
        always
            .iter()
            .map(|line| format!("{line}\n"))
            .collect::<String>(),
        "with nothing planned only the namespace, the pull secret and the ModuleConfig policy render"
    );
    for (component, objects) in own {
        let mut expected: Vec<&str> = objects.to_vec();
        expected.extend(always);
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

const COMPONENTS: [&str; 5] = ["linstor", "agent", "controller", "csi", "migrationJob"];

/// The pod spec of a rendered workload.
fn pod_spec(object: &Value) -> &Value {
    &object["spec"]["template"]["spec"]
}

/// The module registry's images: `<registry.base>/sds-replicated-volume@<digest>`, and the
/// pull secret holds that registry's credentials.
#[test]
fn job_pulls_from_the_module_registry_and_runs_like_the_real_modules_job() {
    let values = forced_values(&["linstor", "csi", "migrationJob"]);
    let objects = helm::objects(&values);
    let job = helm::find(&objects, "Job", "control-plane-migrator");
    let pod = pod_spec(job);
    let registry = deckhouse::module_registry();
    let digest =
        &deckhouse::global()["modulesImages"]["digests"]["sdsReplicatedVolume"]["wasmHooks"];
    assert_eq!(
        pod["containers"][0]["image"],
        format!(
            "{}/sds-replicated-volume@{}",
            registry["base"].as_str().unwrap(),
            digest.as_str().unwrap()
        )
    );
    let secret_name = pod["imagePullSecrets"][0]["name"]
        .as_str()
        .expect("a pull secret");
    let secret = helm::find(&objects, "Secret", secret_name);
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    assert_eq!(
        secret["metadata"]["namespace"],
        job["metadata"]["namespace"]
    );
    assert_eq!(secret["data"][".dockerconfigjson"], registry["dockercfg"]);

    // Placed like the real module's Job: control-plane nodes, any known taint, cluster-medium.
    assert_eq!(pod["priorityClassName"], "cluster-medium");
    assert_eq!(
        pod["nodeSelector"],
        json!({"node-role.kubernetes.io/control-plane": ""})
    );
    let tolerated: BTreeSet<&str> = pod["tolerations"]
        .as_array()
        .expect("tolerations")
        .iter()
        .filter_map(|t| t["key"].as_str())
        .collect();
    for key in [
        "node-role.kubernetes.io/control-plane",
        "node-role.kubernetes.io/master",
        "dedicated.deckhouse.io",
        "drbd.linbit.com/lost-quorum",
        "storage.example.com/maintenance",
    ] {
        assert!(
            tolerated.contains(key),
            "the Job must tolerate {key}: {tolerated:?}"
        );
    }
    // Bounded, not retried forever, unprivileged.
    let deadline = job["spec"]["activeDeadlineSeconds"]
        .as_u64()
        .expect("activeDeadlineSeconds");
    assert!((3600..=86_400).contains(&deadline), "{deadline}");
    assert_eq!(job["spec"]["backoffLimit"], 2);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let container = &pod["containers"][0]["securityContext"];
    assert_eq!(container["allowPrivilegeEscalation"], false);
    assert_eq!(container["readOnlyRootFilesystem"], true);
    assert_eq!(container["capabilities"]["drop"], json!(["ALL"]));
}

#[test]
fn images_fall_back_to_deckhouses_registry_and_missing_digests_fail() {
    let mut values = forced_values(&["agent", "controller", "csi"]);
    values["sdsReplicatedVolume"]
        .as_object_mut()
        .unwrap()
        .remove("registry");
    let objects = helm::objects(&values);
    let global = deckhouse::global();
    let base = global["modulesImages"]["registry"]["base"]
        .as_str()
        .unwrap();
    let digests = &global["modulesImages"]["digests"]["sdsReplicatedVolume"];
    let controller = helm::find(&objects, "Deployment", "controller");
    assert_eq!(
        pod_spec(controller)["containers"][0]["image"],
        format!("{base}@{}", digests["controller"].as_str().unwrap())
    );
    // The new control plane's CSI after the migration; LINSTOR's CSI alongside LINSTOR.
    let csi = helm::find(&objects, "DaemonSet", "csi-node");
    assert_eq!(
        pod_spec(csi)["containers"][0]["image"],
        format!("{base}@{}", digests["csiDriver"].as_str().unwrap())
    );
    let legacy = helm::objects(&forced_values(&["linstor", "csi"]));
    let csi = helm::find(&legacy, "DaemonSet", "csi-node");
    assert!(
        pod_spec(csi)["containers"][0]["image"]
            .as_str()
            .unwrap()
            .ends_with(digests["linstorCsi"].as_str().unwrap())
    );
    let secret = helm::find(&objects, "Secret", "sds-replicated-volume-module-registry");
    assert_eq!(
        secret["data"][".dockerconfigjson"], global["modulesImages"]["registry"]["dockercfg"],
        "without a module registry, Deckhouse's credentials pull the images"
    );

    let mut missing = forced_values(&["migrationJob"]);
    missing["global"]["modulesImages"]["digests"]["sdsReplicatedVolume"]
        .as_object_mut()
        .unwrap()
        .remove("wasmHooks");
    let err = helm::template(&missing).unwrap_err();
    assert!(
        err.contains("image wasmHooks has no digest")
            && err.contains("global.modulesImages.digests.sdsReplicatedVolume.wasmHooks"),
        "{err}"
    );
    let mut no_credentials = forced_values(&[]);
    no_credentials["sdsReplicatedVolume"]["registry"]
        .as_object_mut()
        .unwrap()
        .remove("dockercfg");
    let err = helm::template(&no_credentials).unwrap_err();
    assert!(err.contains("no registry credentials"), "{err}");
}

/// helm_lib_node_selector's "master" strategy: control-plane label when the cluster reports
/// masters, Deckhouse's own role labels otherwise, nothing when it has neither.
#[test]
fn node_selector_follows_the_clusters_nodes() {
    let selector = |discovery: Value| {
        let mut values = forced_values(&["migrationJob"]);
        values["global"]["discovery"] = discovery;
        let objects = helm::objects(&values);
        pod_spec(helm::find(&objects, "Job", "control-plane-migrator"))["nodeSelector"].clone()
    };
    assert_eq!(
        selector(json!({"clusterMasterCount": 1, "d8SpecificNodeCountByRole": {}})),
        json!({"node-role.kubernetes.io/control-plane": ""})
    );
    assert_eq!(
        selector(json!({"d8SpecificNodeCountByRole": {"master": 1}})),
        json!({"node-role.deckhouse.io/control-plane": ""})
    );
    assert_eq!(
        selector(json!({"d8SpecificNodeCountByRole": {"system": 2}})),
        json!({"node-role.deckhouse.io/system": ""})
    );
    assert_eq!(
        selector(json!({"d8SpecificNodeCountByRole": {}})),
        Value::Null
    );
}

/// Every pod of every component names the module's pull secret, a digest-pinned image and
/// a priority class; the full render of every component is a golden file.
#[test]
fn every_pod_is_placed_and_pulled_like_the_real_modules() {
    let values = forced_values(&COMPONENTS);
    let objects = helm::objects(&values);
    let mut pods = 0;
    for object in &objects {
        let pod = pod_spec(object);
        if pod.is_null() {
            continue;
        }
        pods += 1;
        let what = format!("{} {}", object["kind"], object["metadata"]["name"]);
        assert_eq!(
            pod["imagePullSecrets"],
            json!([{"name": "sds-replicated-volume-module-registry"}]),
            "{what}"
        );
        assert!(
            pod["priorityClassName"].is_string(),
            "{what}: no priority class"
        );
        assert!(pod["tolerations"].is_array(), "{what}: no tolerations");
        for container in pod["containers"].as_array().expect("containers") {
            let image = container["image"].as_str().unwrap_or_default();
            assert!(
                image.starts_with("registry.example.com/modules/sds-replicated-volume@sha256:"),
                "{what}: image {image}"
            );
        }
    }
    assert_eq!(pods, 9, "every workload of the chart was checked");
    let text = helm::template_text(&values).expect("helm renders every component");
    golden::check(
        &golden_root().join("manifests"),
        "all-components.yaml",
        &text,
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn openapi_schemas_are_applied_as_deckhouse_applies_them() {
    let config = openapi::config_schema();
    assert!(openapi::validate(&config, &json!({"newControlPlane": true})).is_ok());
    assert!(
        openapi::validate(&config, &json!({"newControlPlan": true})).is_err(),
        "an unknown setting is refused"
    );
    let module = openapi::module_values(&json!({}), None);
    assert_eq!(
        module["newControlPlane"], false,
        "config-values defaults apply"
    );
    assert_eq!(module["internal"]["controlPlaneMigration"], "not_started");
    let values = openapi::values_schema();
    let helm_schema = openapi::helm_schema();
    openapi::validate(&values, &module).expect("defaults fit the values schema");
    openapi::validate(&helm_schema, &module).expect("defaults fit the Helm schema");

    let mut registry = module.clone();
    registry["registry"] = json!({"base": "r.example.com", "dockercfg": "e30="});
    let err = openapi::validate(&values, &registry).unwrap_err();
    assert!(
        err.contains("scheme"),
        "Deckhouse's registry field requires scheme: {err}"
    );
    registry["registry"]["scheme"] = json!("https");
    registry["registry"]["extra"] = json!(1);
    assert!(openapi::validate(&values, &registry).is_err());

    let mut no_plan = module.clone();
    no_plan["internal"]
        .as_object_mut()
        .unwrap()
        .remove("renderPlan");
    openapi::validate(&values, &no_plan).expect("values may lack the plan between hooks");
    let err = openapi::validate(&helm_schema, &no_plan).unwrap_err();
    assert!(err.contains("renderPlan"), "Helm needs the plan: {err}");
}

/// The Job guest's name: the last word of the rendered Job's command.
fn job_guest(objects: &[Value]) -> (String, String, String) {
    let job = helm::find(objects, "Job", "control-plane-migrator");
    let pod = pod_spec(job);
    let command = pod["containers"][0]["command"]
        .as_array()
        .expect("the Job's command");
    (
        command.last().and_then(Value::as_str).unwrap().to_owned(),
        job["metadata"]["namespace"].as_str().unwrap().to_owned(),
        pod["serviceAccountName"].as_str().unwrap().to_owned(),
    )
}

/// `wasm-hooks rbac GUEST --crds tests/crds` with grants.yaml from the repository root.
fn rbac_command(guest: &str, extra: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_wasm-hooks"))
        .env_remove("WASM_HOOKS_DIR")
        .arg("--hooks-dir")
        .arg(repo_root())
        .args(["rbac", guest, "--crds"])
        .arg(repo_root().join("tests/crds"))
        .args(extra)
        .output()
        .expect("running wasm-hooks rbac")
}

fn rules_of(object: &Value) -> Vec<wasm_hooks::rbac::PolicyRule> {
    serde_json::from_value(object["rules"].clone()).unwrap_or_else(|e| {
        panic!(
            "{} {}: rules do not parse: {e}",
            object["kind"], object["metadata"]["name"]
        )
    })
}

/// The chart's Job RBAC is the `wasm-hooks rbac` output for the guest the Job runs:
/// regenerate with `cargo xtask rbac` when this fails.
#[test]
fn chart_rbac_is_what_the_rbac_command_generates_from_grants() {
    let objects = helm::objects(&forced_values(&["migrationJob"]));
    let (guest, namespace, _) = job_guest(&objects);
    let out = rbac_command(&guest, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated: wasm_hooks::rbac::GuestRbac =
        serde_yaml::from_slice(&out.stdout).expect("rbac prints YAML");
    let cluster_role = helm::find(
        &objects,
        "ClusterRole",
        "d8:sds-replicated-volume:control-plane-migrator",
    );
    let drift =
        "run `cargo xtask rbac` to regenerate templates/migration/rbac.yaml from grants.yaml";
    assert_eq!(rules_of(cluster_role), generated.cluster_rules, "{drift}");
    let roles: Vec<&Value> = objects.iter().filter(|o| o["kind"] == "Role").collect();
    for role in &roles {
        let ns = role["metadata"]["namespace"].as_str().unwrap();
        let expected = generated.namespaces.get(ns).cloned().unwrap_or_default();
        assert_eq!(rules_of(role), expected, "Role in {ns}: {drift}");
    }
    for ns in generated.namespaces.keys() {
        assert!(
            roles
                .iter()
                .any(|r| r["metadata"]["namespace"] == ns.as_str()),
            "the chart has no Role in {ns}"
        );
    }
    assert!(generated.namespaces.contains_key(&namespace));

    // The committed template is exactly what `--chart` writes (so a rerun changes nothing).
    let dir = tempfile::tempdir().expect("temp dir");
    let template = repo_root().join("templates/migration/rbac.yaml");
    let copy = dir.path().join("rbac.yaml");
    std::fs::copy(&template, &copy).expect("copying the template");
    let out = rbac_command(&guest, &["--chart".as_ref(), copy.as_os_str()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        read(&copy) == read(&template),
        "templates/migration/rbac.yaml is stale: {drift}"
    );
}

#[test]
fn rbac_command_fails_clearly_on_a_kind_it_cannot_resolve() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        &dir.path().join("grants.yaml"),
        "module: { name: m, valuesKey: m }\nguests:\n  - name: job\n    component: job.wasm\n    world: job\n    grants:\n      - { verbs: [list], apiVersion: internal.linstor.linbit.com/*, kind: Resources }\n",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wasm-hooks"))
        .arg("--hooks-dir")
        .arg(dir.path())
        .args(["rbac", "job"])
        .output()
        .expect("running wasm-hooks rbac");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Resources") && stderr.contains("--crds"),
        "{stderr}"
    );
}

/// What the grants let the Job's guest ask of the API server, in the host's terms: the
/// request is allowed if some grant's verb needs exactly this request (list and create are
/// collection requests that RBAC cannot restrict by name; create also reads back an existing
/// object by name).
fn granted(
    grants: &[wasm_hooks::manifest::Grant],
    kinds: &wasm_hooks::rbac::KindIndex,
    request: &rbac_authorizer::Request,
) -> bool {
    use wasm_hooks::manifest::Verb;
    grants.iter().any(|g| {
        let group = g.api_version.split_once('/').map_or("", |(group, _)| group);
        let Some(served) = kinds.resolve(group, &g.kind) else {
            return false;
        };
        let named = g.names.is_empty() || g.names.contains(&request.name);
        group == request.group
            && served.plural == request.resource
            && g.namespace
                .as_ref()
                .is_none_or(|ns| request.namespace.as_ref() == Some(ns))
            && g.verbs
                .iter()
                .any(|verb| match (verb, request.verb.as_str()) {
                    (Verb::Get, "get") | (Verb::Create, "get") => named,
                    (Verb::Patch, "patch") | (Verb::Delete, "delete") => named,
                    (Verb::List, "list") | (Verb::Create, "create") => true,
                    _ => false,
                })
    })
}

/// Every request the Job's grants need is allowed by the RBAC real Helm renders, every
/// request they do not need is denied (over every verb, resource, namespace and name in
/// play), and every rendered rule is needed by some grant.
#[test]
fn job_rbac_allows_exactly_what_grants_yaml_grants_the_job_guest() {
    use rbac_authorizer::{Authorizer, Request};
    let objects = helm::objects(&forced_values(&["migrationJob"]));
    let (guest, namespace, account) = job_guest(&objects);
    let authz = Authorizer::for_service_account(&objects, &namespace, &account)
        .expect("the Job's bindings resolve");
    let manifest = wasm_hooks::manifest::Manifest::load(&repo_root()).expect("grants.yaml loads");
    let grants = &manifest
        .guest(&guest)
        .expect("the Job's guest is in grants.yaml")
        .grants;
    let kinds = wasm_hooks::rbac::KindIndex::load(&[repo_root().join("tests/crds")])
        .expect("tests/crds loads");

    // The space: every (group, resource) in the grants or the rules plus two strangers, every
    // verb Kubernetes has, the namespaces and names in play plus strangers, and none.
    let mut resources: BTreeSet<(String, String)> = BTreeSet::from([
        (String::new(), "secrets".to_owned()),
        (
            "storage.deckhouse.io".to_owned(),
            "replicatedstorageclasses".to_owned(),
        ),
    ]);
    let mut namespaces: BTreeSet<Option<String>> =
        BTreeSet::from([None, Some(namespace.clone()), Some("default".to_owned())]);
    let mut names: BTreeSet<String> = BTreeSet::from([String::new(), "stranger".to_owned()]);
    for g in grants {
        let group = g.api_version.split_once('/').map_or("", |(group, _)| group);
        let served = kinds
            .resolve(group, &g.kind)
            .unwrap_or_else(|| panic!("{} {} resolves", g.api_version, g.kind));
        resources.insert((group.to_owned(), served.plural.clone()));
        namespaces.insert(g.namespace.clone());
        names.extend(g.names.iter().cloned());
    }
    for grant in &authz.grants {
        let rule = &grant.rule;
        for wildcard in [&rule.api_groups, &rule.resources, &rule.verbs] {
            assert!(
                !wildcard.iter().any(|v| v == "*"),
                "{}: a wildcard allows more than any grant: {rule:?}",
                grant.from
            );
        }
        for group in &rule.api_groups {
            for resource in &rule.resources {
                resources.insert((group.clone(), resource.clone()));
            }
        }
        names.extend(rule.resource_names.iter().cloned());
    }
    let verbs = [
        "get",
        "list",
        "watch",
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection",
    ];
    let mut needed = Vec::new();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (group, resource) in &resources {
        for verb in verbs {
            for ns in &namespaces {
                for name in &names {
                    // Requests the API server can get: object verbs carry a name, create and
                    // deletecollection none (their URL is the collection), list and watch either
                    // (a metadata.name field selector names one).
                    let object_verb = matches!(verb, "get" | "update" | "patch" | "delete");
                    let collection_verb = matches!(verb, "create" | "deletecollection");
                    if (object_verb && name.is_empty()) || (collection_verb && !name.is_empty()) {
                        continue;
                    }
                    let request = Request {
                        verb: verb.to_owned(),
                        group: group.clone(),
                        resource: resource.clone(),
                        namespace: ns.clone(),
                        name: name.clone(),
                    };
                    let want = granted(grants, &kinds, &request);
                    if authz.allows(&request) != want {
                        wrong.push(format!(
                            "{} {request:?}",
                            if want {
                                "denied but granted:"
                            } else {
                                "allowed but not granted:"
                            }
                        ));
                    }
                    if want {
                        needed.push(request);
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {checked} requests decided wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // Sanity: the space is not trivial, and the grants needed something.
    assert!(
        checked > 1000 && needed.len() > 20,
        "{checked} checked, {} needed",
        needed.len()
    );
    for (index, grant) in authz.grants.iter().enumerate() {
        assert!(
            needed.iter().any(|r| !authz.allows_without(index, r)),
            "{}: rule {:?} is needed by no grant",
            grant.from,
            grant.rule
        );
    }
    // The concrete bug this replaced: CRD get and LINSTOR's layerstoragevolumes list.
    let crd = Request {
        verb: "get".into(),
        group: "apiextensions.k8s.io".into(),
        resource: "customresourcedefinitions".into(),
        namespace: None,
        name: "resourcedefinitions.internal.linstor.linbit.com".into(),
    };
    assert!(authz.allows(&crd));
    let lsv = Request {
        verb: "list".into(),
        group: "internal.linstor.linbit.com".into(),
        resource: "layerstoragevolumes".into(),
        namespace: None,
        name: String::new(),
    };
    assert!(authz.allows(&lsv));
    let secret = Request {
        verb: "get".into(),
        group: String::new(),
        resource: "secrets".into(),
        namespace: Some(namespace),
        name: "stranger".into(),
    };
    assert!(
        !authz.allows(&secret),
        "a call outside the grants is denied"
    );
}

/// The ModuleConfig policy and its binding, as real Helm renders them.
fn moduleconfig_admission() -> admission::Admission {
    let objects = helm::objects(&forced_values(&[]));
    let name = "sds-replicated-volume-control-plane-migration.deckhouse.io";
    let policy = helm::find(&objects, "ValidatingAdmissionPolicy", name);
    let binding = helm::find(&objects, "ValidatingAdmissionPolicyBinding", name);
    admission::Admission::new(policy, binding).unwrap_or_else(|e| panic!("{e}"))
}

/// A ModuleConfig whose `spec.settings.newControlPlane` is `setting` (`None`: no such key;
/// the strings "no-spec" and "no-settings" leave out those levels).
fn module_config(setting: &Value) -> Value {
    match setting.as_str() {
        Some("no-spec") => json!({"apiVersion": "deckhouse.io/v1alpha1", "kind": "ModuleConfig",
            "metadata": {"name": "sds-replicated-volume"}}),
        Some("no-settings") => {
            json!({"apiVersion": "deckhouse.io/v1alpha1", "kind": "ModuleConfig",
            "metadata": {"name": "sds-replicated-volume"}, "spec": {"version": 1, "enabled": true}})
        }
        Some("no-key") => json!({"apiVersion": "deckhouse.io/v1alpha1", "kind": "ModuleConfig",
            "metadata": {"name": "sds-replicated-volume"},
            "spec": {"version": 1, "enabled": true, "settings": {"logLevel": "INFO"}}}),
        _ => json!({"apiVersion": "deckhouse.io/v1alpha1", "kind": "ModuleConfig",
            "metadata": {"name": "sds-replicated-volume"},
            "spec": {"version": 1, "enabled": true, "settings": {"newControlPlane": setting}}}),
    }
}

/// The ConfigMap the binding's paramRef names, with `state` (`None`: no data at all).
fn migration_configmap(namespace: &str, name: &str, state: Option<&str>) -> Value {
    let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace}});
    if let Some(state) = state {
        cm["data"] = json!({"state": state});
    }
    cm
}

fn update(old: &Value, new: &Value) -> admission::Request {
    admission::Request {
        operation: if old.is_null() { "CREATE" } else { "UPDATE" },
        group: "deckhouse.io".into(),
        resource: "moduleconfigs".into(),
        name: "sds-replicated-volume".into(),
        object: new.clone(),
        old_object: old.clone(),
    }
}

/// Every (old value, new value, state) case, through the policy's own CEL as real Helm
/// renders it: `newControlPlane` may not end up off once the migration left not_started,
/// unless it already was off; a missing ConfigMap or state reads as not_started; no case
/// fails to evaluate (which, with failurePolicy Fail, would block every ModuleConfig edit).
#[test]
fn moduleconfig_policy_keeps_new_control_plane_on_once_migration_started() {
    let admission = moduleconfig_admission();
    let (cm_namespace, cm_name) = admission.param_ref();
    assert_eq!(
        (cm_namespace.as_str(), cm_name.as_str()),
        ("d8-sds-replicated-volume", "control-plane-migration")
    );
    let settings = [
        json!("no-spec"),
        json!("no-settings"),
        json!("no-key"),
        json!(true),
        json!(false),
        json!("true"),
    ];
    let olds: Vec<Value> = std::iter::once(Value::Null)
        .chain(settings.iter().map(module_config))
        .collect();
    // None: no ConfigMap. Some(None): a ConfigMap without data. Then the states.
    let states: [Option<Option<&str>>; 10] = [
        None,
        Some(None),
        Some(Some("")),
        Some(Some("not_started")),
        Some(Some("stage1_started")),
        Some(Some("stage1_completed")),
        Some(Some("stage2_started")),
        Some(Some("all_completed")),
        Some(Some("stage9_unknown")),
        Some(Some("Not_Started")),
    ];
    let mut cases = 0;
    for state in states {
        let param = state.map(|s| migration_configmap(&cm_namespace, &cm_name, s));
        let past = matches!(state, Some(Some(s)) if !s.is_empty() && s != "not_started");
        for old in &olds {
            for new in &settings {
                let object = module_config(new);
                let request = update(old, &object);
                let decision = admission.admit(&request, param.as_ref());
                let on = |mc: &Value| mc["spec"]["settings"]["newControlPlane"] == json!(true);
                let allowed = !past || on(&object) || (!old.is_null() && !on(old));
                let what = format!("state {state:?}, old {old}, new {object}");
                match (&decision, allowed) {
                    (admission::Decision::Allowed { .. }, true) => {}
                    (admission::Decision::Denied { message, reason }, false) => {
                        let shown = match state {
                            Some(Some(s)) => s,
                            _ => unreachable!("only a recorded state denies"),
                        };
                        assert_eq!(reason, "Forbidden", "{what}");
                        assert!(
                            message.contains(&format!("in state {shown} "))
                                && message
                                    .contains("d8-sds-replicated-volume/control-plane-migration"),
                            "{what}: {message}"
                        );
                        if shown == "all_completed" {
                            assert!(message.contains("migration is complete"), "{message}");
                        } else {
                            assert!(
                                message.contains("Recovery after a failed Job")
                                    && message.contains("not_started"),
                                "{what}: {message}"
                            );
                        }
                    }
                    _ => panic!("{what}: expected allowed={allowed}, got {decision:?}"),
                }
                if let Some(param) = &param {
                    admission
                        .messages(&request, param)
                        .unwrap_or_else(|e| panic!("{what}: messageExpression: {e}"));
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 10 * 7 * 6);

    // The switch back the issue is about, and the ways that stay open.
    let stage1 = migration_configmap(&cm_namespace, &cm_name, Some("stage1_started"));
    let on = module_config(&json!(true));
    let off = module_config(&json!(false));
    assert!(matches!(
        admission.admit(&update(&on, &off), Some(&stage1)),
        admission::Decision::Denied { .. }
    ));
    assert!(
        matches!(
            admission.admit(
                &update(&on, &module_config(&json!("no-settings"))),
                Some(&stage1)
            ),
            admission::Decision::Denied { .. }
        ),
        "dropping the settings is switching off too"
    );
    assert_eq!(
        admission.admit(&update(&on, &on), Some(&stage1)),
        admission::Decision::Allowed { evaluated: true },
        "other edits stay possible"
    );
    let not_started = migration_configmap(&cm_namespace, &cm_name, Some("not_started"));
    assert_eq!(
        admission.admit(&update(&on, &off), Some(&not_started)),
        admission::Decision::Allowed { evaluated: true },
        "before the migration starts, it can still be switched off"
    );
    assert_eq!(
        admission.admit(&update(&on, &off), None),
        admission::Decision::Allowed { evaluated: false },
        "parameterNotFoundAction Allow: no ConfigMap, no recorded progress"
    );
    let mut other = update(&on, &off);
    other.name = "other-module".into();
    assert_eq!(
        admission.admit(&other, Some(&stage1)),
        admission::Decision::Allowed { evaluated: false },
        "only this module's ModuleConfig is matched"
    );
}
