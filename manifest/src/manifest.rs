//! The grants manifest (`grants.yaml` in the hooks folder): which guests run, as what,
//! within which limits, and with which Kubernetes grants. It belongs to the installer of
//! the host, never to a guest, so a guest cannot widen its own rights.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file name of the manifest inside the hooks folder.
pub const MANIFEST_FILE: &str = "grants.yaml";

/// The whole manifest.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Manifest {
    /// The module the hooks belong to.
    pub module: Module,
    /// Every guest, hooks first in `hook list` order.
    pub guests: Vec<Guest>,
    /// The folder the manifest was read from; component paths are relative to it.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The Deckhouse module the hooks belong to.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Module {
    /// The module's name (`sds-replicated-volume`).
    pub name: String,
    /// The module's key in values (`sdsReplicatedVolume`): every values patch is rooted here.
    pub values_key: String,
}

/// Which WIT world a guest implements, so the host knows how to call it.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum World {
    /// `hook-guest`: a Deckhouse hook with its own bindings.
    Hook,
    /// `render-guest`: a pure planner, run as a beforeHelm hook that writes its plan into values.
    Render,
    /// `job-guest`: a step function run against the live API (`job NAME`).
    Job,
}

/// One guest.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Guest {
    /// The hook or job name Deckhouse and logs know it by.
    pub name: String,
    /// The component file, relative to the manifest.
    pub component: PathBuf,
    /// The world it implements.
    pub world: World,
    /// Bounds of one run.
    #[serde(default)]
    pub limits: Limits,
    /// Overrides the compiler the world implies (see [`Compiler`]).
    #[serde(default)]
    pub compiler: Option<Compiler>,
    /// A job's settings (a JSON object), overridable with `--set`; handed to every `step`.
    #[serde(default)]
    pub settings: Option<serde_json::Value>,
    /// What it may call.
    #[serde(default)]
    pub grants: Vec<Grant>,
    /// A hook guest that is the module's readiness probe (`hook ready`), not a hook of
    /// `hook list`; at most one.
    #[serde(default)]
    pub readiness: bool,
    /// The metrics the guest may emit; absent: none.
    #[serde(default)]
    pub metrics: MetricsGrant,
}

/// Which metric names and groups a guest may emit: those starting with `prefix`, or
/// listed in `names` / `groups`. A guest can therefore never set, or expire, another
/// component's metrics.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsGrant {
    /// Names and groups starting with this are allowed.
    #[serde(default)]
    pub prefix: Option<String>,
    /// These exact metric names are allowed.
    #[serde(default)]
    pub names: Vec<String>,
    /// These exact groups are allowed.
    #[serde(default)]
    pub groups: Vec<String>,
}

impl MetricsGrant {
    fn prefixed(&self, text: &str) -> bool {
        self.prefix
            .as_deref()
            .is_some_and(|p| !p.is_empty() && text.starts_with(p))
    }

    /// May the guest emit a metric of this name?
    pub fn allows_name(&self, name: &str) -> bool {
        self.prefixed(name) || self.names.iter().any(|n| n == name)
    }

    /// May the guest emit (or expire) metrics of this group?
    pub fn allows_group(&self, group: &str) -> bool {
        self.prefixed(group) || self.groups.iter().any(|g| g == group)
    }
}

/// Which wasmtime compiler turns a guest into machine code.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Compiler {
    /// Winch, the baseline compiler: compiles many times faster; the default for hooks and
    /// render guests, whose runs are short and whose cold start matters.
    Winch,
    /// Cranelift, the optimising compiler: the default for jobs, which run long.
    Cranelift,
}

impl Guest {
    /// The compiler for this guest: the manifest's choice, else the world's default.
    pub fn compiler(&self) -> Compiler {
        self.compiler.unwrap_or(match self.world {
            World::Job => Compiler::Cranelift,
            World::Hook | World::Render => Compiler::Winch,
        })
    }

    /// This guest's grants, ready to match calls against.
    pub fn grants(&self) -> crate::Grants {
        crate::Grants::new(self.grants.clone())
    }
}

/// Resource bounds of one run (one `step` for a job guest).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Limits {
    /// Wall-clock deadline of one call, enforced by epoch interruption while guest code
    /// runs and by the host while the guest sleeps or waits in a host call.
    #[serde(default = "Limits::default_timeout_ms")]
    pub timeout_ms: u64,
    /// CPU time of one call (the host thread running it, guest code and host calls), apart
    /// from the wall-clock deadline: a guest that computes is stopped by this, one that
    /// waits by `timeout_ms`. Absent: the same as `timeout_ms` ([`Limits::cpu_budget_ms`]).
    #[serde(default)]
    pub cpu_ms: Option<u64>,
    /// Memory of the whole guest: all linear memories and tables together.
    #[serde(rename = "memoryMiB")]
    #[serde(default = "Limits::default_memory_mib")]
    pub memory_mib: u64,
    /// The longest `wait` a job step may ask for; longer waits are cut to this.
    #[serde(default = "Limits::default_max_wait_ms")]
    pub max_wait_ms: u64,
    /// How many creates of one `create-many` call a live backend sends at once.
    #[serde(default = "Limits::default_concurrency")]
    pub concurrency: u32,

    // ---- Output budgets: what one run (one job step) may make the host do. ----
    // Kept together so they can move with the manifest types; defaults in `budgets`.
    /// Values and config values operations per run, together.
    #[serde(default = "budgets::values_ops")]
    pub max_values_ops: u32,
    /// Bytes of all values operations of a run (paths and JSON values).
    #[serde(default = "budgets::values_bytes")]
    pub max_values_bytes: u64,
    /// Segments of one values path.
    #[serde(default = "budgets::values_path_depth")]
    pub max_values_path_depth: u32,
    /// Characters of one values path.
    #[serde(default = "budgets::values_path_length")]
    pub max_values_path_length: u32,
    /// Object operations a hook run may queue (creates, patches, deletes).
    #[serde(default = "budgets::object_ops")]
    pub max_object_ops: u32,
    /// Bytes of all objects and patches a hook run queues.
    #[serde(default = "budgets::object_bytes")]
    pub max_object_bytes: u64,
    /// Metric operations per run.
    #[serde(default = "budgets::metrics")]
    pub max_metrics: u32,
    /// Bytes of all metric operations of a run (names, groups, labels, buckets).
    #[serde(default = "budgets::metrics_bytes")]
    pub max_metrics_bytes: u64,
    /// Bytes of guest log lines per run (past it, lines are dropped and one line says so).
    #[serde(default = "budgets::log_bytes")]
    pub max_log_bytes: u64,
    /// Characters of one guest log message (longer ones are cut, with a marker).
    #[serde(default = "budgets::log_line")]
    pub max_log_line: u32,
    /// Forbidden calls (each an audit line) per run; past it every call is refused.
    #[serde(default = "budgets::audit_lines")]
    pub max_audit_lines: u32,
    /// Characters of a guest's error message (longer ones are cut, with a marker).
    #[serde(default = "budgets::error_length")]
    pub max_error_length: u32,
    /// Bytes of one API server answer a job reads (streamed; a bigger one fails the call).
    #[serde(default = "budgets::response_bytes")]
    pub max_response_bytes: u64,
    /// Bytes of what one call returns that the host takes whole: a hook's `config`, a
    /// render guest's `describe`, `input-from-values` and `plan` (measured as text).
    #[serde(default = "budgets::result_bytes")]
    pub max_result_bytes: u64,
}

/// Default output budgets: about 100x what the shipped guests use in a run, so a
/// correct guest never meets them and a hostile one is stopped long before it hurts.
pub mod budgets {
    #![allow(missing_docs)] // each is the default of the `Limits` field named alike
    pub fn values_ops() -> u32 {
        1_000
    }
    pub fn values_bytes() -> u64 {
        4 << 20
    }
    pub fn values_path_depth() -> u32 {
        32
    }
    pub fn values_path_length() -> u32 {
        1_024
    }
    pub fn object_ops() -> u32 {
        1_000
    }
    pub fn object_bytes() -> u64 {
        16 << 20
    }
    pub fn metrics() -> u32 {
        1_000
    }
    pub fn metrics_bytes() -> u64 {
        1 << 20
    }
    pub fn log_bytes() -> u64 {
        1 << 20
    }
    pub fn log_line() -> u32 {
        8_000
    }
    pub fn audit_lines() -> u32 {
        100
    }
    pub fn error_length() -> u32 {
        4_000
    }
    pub fn response_bytes() -> u64 {
        128 << 20
    }
    pub fn result_bytes() -> u64 {
        1 << 20
    }
}

impl Limits {
    /// The CPU budget of one call in milliseconds: `cpuMs`, else `timeoutMs`.
    pub fn cpu_budget_ms(&self) -> u64 {
        self.cpu_ms.unwrap_or(self.timeout_ms)
    }

    fn default_timeout_ms() -> u64 {
        5_000
    }
    fn default_memory_mib() -> u64 {
        64
    }
    fn default_max_wait_ms() -> u64 {
        60_000
    }
    fn default_concurrency() -> u32 {
        16
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout_ms: Self::default_timeout_ms(),
            cpu_ms: None,
            memory_mib: Self::default_memory_mib(),
            max_wait_ms: Self::default_max_wait_ms(),
            concurrency: Self::default_concurrency(),
            max_values_ops: budgets::values_ops(),
            max_values_bytes: budgets::values_bytes(),
            max_values_path_depth: budgets::values_path_depth(),
            max_values_path_length: budgets::values_path_length(),
            max_object_ops: budgets::object_ops(),
            max_object_bytes: budgets::object_bytes(),
            max_metrics: budgets::metrics(),
            max_metrics_bytes: budgets::metrics_bytes(),
            max_log_bytes: budgets::log_bytes(),
            max_log_line: budgets::log_line(),
            max_audit_lines: budgets::audit_lines(),
            max_error_length: budgets::error_length(),
            max_response_bytes: budgets::response_bytes(),
            max_result_bytes: budgets::result_bytes(),
        }
    }
}

/// A Kubernetes verb a grant can allow.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    /// `kubernetes.get`.
    Get,
    /// `kubernetes.list`, and watching the kind in a hook binding.
    List,
    /// `kubernetes.create` and `create-many`, in every create mode.
    Create,
    /// `kubernetes.patch`, subresources included.
    Patch,
    /// `kubernetes.delete`, in every delete mode.
    Delete,
}

impl Verb {
    /// The verb as written in `grants.yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Create => "create",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        }
    }
}

/// One allow rule.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Grant {
    /// The verbs it allows.
    pub verbs: Vec<Verb>,
    /// `v1`, `apps/v1`, or `group/*` for every version of a group.
    pub api_version: String,
    /// The kind.
    pub kind: String,
    /// Absent: cluster-scoped objects, or any namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Absent or empty: any name.
    #[serde(default)]
    pub names: Vec<String>,
}

/// Why the manifest could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error(
        "cannot read the grants manifest {path}: {source}; point --hooks-dir (or WASM_HOOKS_DIR) at the folder holding {MANIFEST_FILE}"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a manifest.
    #[error("the grants manifest {path} is not valid: {problem}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        problem: String,
    },
    /// The manifest parses but breaks a rule.
    #[error("the grants manifest {path}: {problem}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Which rule, for which guest.
        problem: String,
    },
}

impl ManifestError {
    /// The same error, naming the file it came from.
    #[cfg(feature = "yaml")]
    fn at(self, file: &Path) -> Self {
        match self {
            Self::Parse { problem, .. } => Self::Parse {
                path: file.to_path_buf(),
                problem,
            },
            Self::Invalid { problem, .. } => Self::Invalid {
                path: file.to_path_buf(),
                problem,
            },
            other => other,
        }
    }
}

impl Manifest {
    /// Reads and checks `<dir>/grants.yaml`.
    #[cfg(feature = "yaml")]
    pub fn load(dir: &std::path::Path) -> Result<Self, ManifestError> {
        Self::load_text(dir).map(|(manifest, _)| manifest)
    }

    /// [`Self::load`], also handing back the text it read (for a cache of the checked form).
    #[cfg(feature = "yaml")]
    pub fn load_text(dir: &std::path::Path) -> Result<(Self, String), ManifestError> {
        let path = dir.join(MANIFEST_FILE);
        let text =
            read_bounded(&path, MAX_MANIFEST_BYTES).map_err(|source| ManifestError::Read {
                path: path.clone(),
                source,
            })?;
        if let Err(problem) = check_yaml_depth(&text, MAX_MANIFEST_DEPTH) {
            return Err(ManifestError::Invalid { path, problem });
        }
        let manifest = Self::parse(&text).map_err(|e| e.at(&path))?;
        Ok((manifest.placed_in(dir)?, text))
    }

    /// The manifest of `dir` from its JSON form (a cache of a `grants.yaml` that
    /// [`Self::load`] accepted), checked by the same rules as the YAML.
    pub fn from_json(text: &str, dir: &Path) -> Result<Self, ManifestError> {
        let path = dir.join(MANIFEST_FILE);
        let manifest: Manifest = serde_json::from_str(text).map_err(|e| ManifestError::Parse {
            path: path.clone(),
            problem: e.to_string(),
        })?;
        manifest
            .check()
            .map_err(|problem| ManifestError::Invalid { path, problem })?;
        manifest.placed_in(dir)
    }

    /// Sets the folder and checks every component path against it (paths can change
    /// without the manifest changing, so this runs on every load).
    fn placed_in(mut self, dir: &Path) -> Result<Self, ManifestError> {
        self.dir = dir.to_path_buf();
        // Resolved once: each resolution reads every link on the way (a warm hook run's
        // manifest is placed on every run).
        let root = dir.canonicalize().ok();
        for guest in &self.guests {
            check_component_path(dir, root.as_deref(), &guest.component).map_err(|problem| {
                ManifestError::Invalid {
                    path: dir.join(MANIFEST_FILE),
                    problem: format!("guest {}: component {problem}", guest.name),
                }
            })?;
        }
        Ok(self)
    }

    /// Parses and checks a manifest's text (errors carry an empty path).
    #[cfg(feature = "yaml")]
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest = serde_yaml::from_str(text).map_err(|e| ManifestError::Parse {
            path: PathBuf::new(),
            problem: e.to_string(),
        })?;
        manifest.check().map_err(|problem| ManifestError::Invalid {
            path: PathBuf::new(),
            problem,
        })?;
        Ok(manifest)
    }

    /// The rules serde cannot express; the message names the guest.
    pub fn check(&self) -> Result<(), String> {
        if self.module.values_key.is_empty() || self.module.values_key.contains('/') {
            return Err(format!(
                "module.valuesKey {:?} must be a plain key",
                self.module.values_key
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for guest in &self.guests {
            if guest.name.is_empty() || !seen.insert(guest.name.as_str()) {
                return Err(format!(
                    "guest name {:?} is empty or used twice",
                    guest.name
                ));
            }
            let limits = &guest.limits;
            if limits.timeout_ms == 0
                || limits.memory_mib == 0
                || limits.concurrency == 0
                || limits.max_wait_ms == 0
                || limits.cpu_ms == Some(0)
            {
                return Err(format!("guest {}: limits must be above zero", guest.name));
            }
            if let Some(cpu) = limits.cpu_ms.filter(|&cpu| cpu > limits.timeout_ms) {
                return Err(format!(
                    "guest {}: limits.cpuMs ({cpu}) is above limits.timeoutMs ({}): a call cannot use more CPU time than wall-clock time, so lower cpuMs or raise timeoutMs",
                    guest.name, limits.timeout_ms
                ));
            }
            if guest.readiness && guest.world != World::Hook {
                return Err(format!(
                    "guest {}: only a hook guest can be the readiness probe",
                    guest.name
                ));
            }
            if guest.world == World::Render && !guest.grants.is_empty() {
                return Err(format!(
                    "guest {}: a render guest imports nothing, so it takes no grants",
                    guest.name
                ));
            }
            if guest.world != World::Job && guest.settings.is_some() {
                return Err(format!("guest {}: only a job takes settings", guest.name));
            }
            if guest.settings.as_ref().is_some_and(|s| !s.is_object()) {
                return Err(format!("guest {}: settings must be a mapping", guest.name));
            }
            if let Some(g) = guest.grants.iter().find(|g| g.verbs.is_empty()) {
                return Err(format!(
                    "guest {}: the grant for {} lists no verbs",
                    guest.name, g.kind
                ));
            }
        }
        if self.guests.iter().filter(|g| g.readiness).count() > 1 {
            return Err(
                "more than one guest has `readiness: true`; a module has one readiness probe"
                    .into(),
            );
        }
        Ok(())
    }

    /// The guests Deckhouse sees as hooks, in `hook list` order.
    pub fn hooks(&self) -> impl Iterator<Item = &Guest> {
        self.guests
            .iter()
            .filter(|g| g.world != World::Job && !g.readiness)
    }

    /// The module's readiness probe, if a guest is one.
    pub fn readiness(&self) -> Option<&Guest> {
        self.guests.iter().find(|g| g.readiness)
    }

    /// A guest by name.
    pub fn guest(&self, name: &str) -> Option<&Guest> {
        self.guests.iter().find(|g| g.name == name)
    }

    /// The component file of a guest.
    pub fn component_path(&self, guest: &Guest) -> PathBuf {
        self.dir.join(&guest.component)
    }
}

// ---- Input bounds and confinement of the manifest itself. ----

/// Largest `grants.yaml` read: a real one is a few KiB.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// Deepest nesting of `grants.yaml` (block indentation levels, `- ` items and flow
/// brackets together); a real one nests 5 deep. Checked before parsing, because the
/// YAML parser's time grows with depth.
pub const MAX_MANIFEST_DEPTH: usize = 32;

/// Reads a file of at most `max` bytes; a bigger one is an error naming the limit,
/// found before anything is allocated for it.
pub fn read_bounded(path: &Path, max: u64) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    // Sized from the file's length, the read takes one call instead of doubling from 32
    // bytes (`take` hides the length std would otherwise use).
    let expected = file.metadata().map_or(0, |m| m.len()).min(max + 1);
    let mut text = String::with_capacity(usize::try_from(expected).unwrap_or(0) + 1);
    file.take(max + 1).read_to_string(&mut text)?;
    if text.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is larger than the limit of {max} bytes"),
        ));
    }
    Ok(text)
}

/// An upper bound of a YAML document's nesting, found by scanning (no parsing): each line
/// counts its open block indentation levels, its `- ` / `? ` / `: ` item markers, and the
/// flow brackets still open. Quoted text and comments are skipped. It may overcount a
/// little (never undercount), which only matters for documents near the limit.
pub fn check_yaml_depth(text: &str, max: usize) -> Result<(), String> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    for (number, line) in text.lines().enumerate() {
        let body = line.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        if flow == 0 {
            while indents.last().is_some_and(|&i| i >= indent) {
                indents.pop();
            }
            indents.push(indent);
        }
        let mut markers = 0usize;
        let mut rest = body;
        while let Some(after) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("? ")) {
            markers += 1;
            rest = after.trim_start_matches(' ');
        }
        let mut quote: Option<char> = None;
        let mut deepest = flow;
        let mut previous = ' ';
        for c in rest.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '#') if previous == ' ' => break,
                (None, '"' | '\'') => quote = Some(c),
                (None, '[' | '{') => {
                    flow += 1;
                    deepest = deepest.max(flow);
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                (None, ':') => markers += 1,
                _ => {}
            }
            previous = c;
        }
        let depth = indents.len() + markers + deepest;
        if depth > max {
            return Err(format!(
                "line {} nests {depth} levels deep, beyond the limit of {max}",
                number + 1
            ));
        }
    }
    Ok(())
}

/// A component path must name a file inside the hooks folder: relative, without `..`,
/// and (when it exists) not a symlink leading out of the folder. `root` is `dir` resolved,
/// `None` when it cannot be.
pub fn check_component_path(
    dir: &Path,
    root: Option<&Path>,
    component: &Path,
) -> Result<(), String> {
    use std::path::Component;
    let shown = component.display();
    if component.as_os_str().is_empty() {
        return Err("path is empty".into());
    }
    for part in component.components() {
        match part {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => {
                return Err(format!(
                    "{shown} leaves the hooks folder (`..`); keep components inside it"
                ));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "{shown} is absolute; give it relative to the hooks folder"
                ));
            }
        }
    }
    let full = dir.join(component);
    if let (Ok(real), Some(root)) = (full.canonicalize(), root)
        && !real.starts_with(root)
    {
        return Err(format!(
            "{shown} resolves to {} outside the hooks folder {} (a symlink out); copy the component into the folder",
            real.display(),
            root.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod bounds_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_shipped_manifest_is_shallow() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../grants.yaml"))
            .unwrap();
        check_yaml_depth(&text, 8).unwrap();
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let flow = format!("a: {}{}", "[".repeat(50_000), "]".repeat(50_000));
        assert!(
            check_yaml_depth(&flow, MAX_MANIFEST_DEPTH)
                .unwrap_err()
                .contains("beyond the limit of 32")
        );
        let block: String = (0..40)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert!(check_yaml_depth(&block, MAX_MANIFEST_DEPTH).is_err());
        let items = format!("{}x\n", "- ".repeat(40));
        assert!(check_yaml_depth(&items, MAX_MANIFEST_DEPTH).is_err());
        // Brackets inside quotes or comments are text.
        check_yaml_depth(
            &format!("a: \"{}\" # {}", "[".repeat(99), "{".repeat(99)),
            4,
        )
        .unwrap();
    }

    #[test]
    fn component_paths_stay_inside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().ok();
        check_component_path(dir.path(), root.as_deref(), Path::new("guest.wasm")).unwrap();
        check_component_path(dir.path(), root.as_deref(), Path::new("sub/guest.wasm")).unwrap();
        assert!(
            check_component_path(dir.path(), root.as_deref(), Path::new("../guest.wasm"))
                .unwrap_err()
                .contains("leaves the hooks folder")
        );
        assert!(
            check_component_path(dir.path(), root.as_deref(), Path::new("/etc/guest.wasm"))
                .unwrap_err()
                .contains("is absolute")
        );
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("evil.wasm"), b"x").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("evil.wasm"),
            dir.path().join("link.wasm"),
        )
        .unwrap();
        assert!(
            check_component_path(dir.path(), root.as_deref(), Path::new("link.wasm"))
                .unwrap_err()
                .contains("a symlink out")
        );
    }

    proptest! {
        /// The depth scan never panics, and a document it accepts parses in bounded time.
        #[test]
        fn depth_scan_never_panics(text in "[\\[\\]{}:\\- #'\"a\\n]{0,200}") {
            let _ = check_yaml_depth(&text, MAX_MANIFEST_DEPTH);
        }

        /// Whatever the file holds, loading it never panics: it is a manifest or an error.
        #[test]
        fn loading_any_manifest_never_panics(text in ".{0,400}") {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(MANIFEST_FILE), &text).unwrap();
            let _ = Manifest::load(dir.path());
        }
    }
}

#[cfg(all(test, feature = "yaml"))]
mod tests {
    use super::*;

    const MINIMAL: &str = "module: {name: m, valuesKey: m}\nguests:\n";

    fn with_guest(guest: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(&format!("{MINIMAL}  - {guest}\n"))
    }

    #[test]
    fn the_repository_manifest_parses() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let manifest = Manifest::load(&dir).unwrap();
        assert_eq!(manifest.module.values_key, "sdsReplicatedVolume");
        let hooks: Vec<&str> = manifest.hooks().map(|g| g.name.as_str()).collect();
        assert_eq!(
            hooks,
            [
                "control-plane-migration-state-sync",
                "control-plane-migration-render-plan"
            ]
        );
        let job = manifest.guest("control-plane-migrator").unwrap();
        assert_eq!(job.compiler(), Compiler::Cranelift);
        assert_eq!(manifest.component_path(job), dir.join("guest_migrate.wasm"));
    }

    #[test]
    fn defaults_apply() {
        let m = with_guest("{name: h, component: h.wasm, world: hook}").unwrap();
        assert_eq!(m.guests[0].limits, Limits::default());
        assert_eq!(m.guests[0].limits.cpu_budget_ms(), 5_000);
        assert_eq!(m.guests[0].compiler(), Compiler::Winch);
        let m = with_guest("{name: h, component: h.wasm, world: hook, limits: {timeoutMs: 900, cpuMs: 300, maxResultBytes: 10}}").unwrap();
        let limits = m.guests[0].limits;
        assert_eq!((limits.cpu_budget_ms(), limits.max_result_bytes), (300, 10));
    }

    #[test]
    fn rule_breaks_name_the_guest() {
        for (guest, needle) in [
            (
                "{name: r, component: r.wasm, world: render, grants: [{verbs: [get], apiVersion: v1, kind: Pod}]}",
                "render guest",
            ),
            (
                "{name: h, component: h.wasm, world: hook, limits: {timeoutMs: 0}}",
                "above zero",
            ),
            (
                "{name: h, component: h.wasm, world: hook, limits: {cpuMs: 0}}",
                "above zero",
            ),
            (
                "{name: h, component: h.wasm, world: hook, limits: {timeoutMs: 100, cpuMs: 200}}",
                "guest h: limits.cpuMs (200) is above limits.timeoutMs (100)",
            ),
            (
                "{name: h, component: h.wasm, world: hook, grants: [{verbs: [], apiVersion: v1, kind: Pod}]}",
                "no verbs",
            ),
            (
                "{name: h, component: h.wasm, world: hook, settings: {a: 1}}",
                "only a job",
            ),
            (
                "{name: j, component: j.wasm, world: job, settings: [1]}",
                "mapping",
            ),
        ] {
            let err = with_guest(guest).unwrap_err().to_string();
            assert!(err.contains(needle), "{guest}: {err}");
        }
    }

    #[test]
    fn unknown_fields_and_bad_values_key_are_refused() {
        let err = with_guest("{name: h, component: h.wasm, world: hook, limits: {tables: 1}}")
            .unwrap_err();
        assert!(matches!(err, ManifestError::Parse { .. }), "{err}");
        let err = Manifest::parse("module: {name: m, valuesKey: a/b}\nguests: []\n").unwrap_err();
        assert!(err.to_string().contains("plain key"), "{err}");
        let twice = format!(
            "{MINIMAL}  - {{name: h, component: a.wasm, world: hook}}\n  - {{name: h, component: b.wasm, world: hook}}\n"
        );
        assert!(
            Manifest::parse(&twice)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
    }
}
