//! The grants manifest (`grants.yaml` in the hooks folder): which guests run, as what,
//! within which limits, and with which Kubernetes grants. It belongs to the installer of
//! the host, never to a guest, so a guest cannot widen its own rights.

use serde::Deserialize;
use std::path::PathBuf;

/// The file name of the manifest inside the hooks folder.
pub const MANIFEST_FILE: &str = "grants.yaml";

/// The whole manifest.
#[derive(Clone, Debug, Deserialize)]
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
#[derive(Clone, Debug, Deserialize)]
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
#[derive(Clone, Debug, Deserialize)]
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
    /// Wall-clock deadline for guest code, enforced by epoch interruption.
    #[serde(default = "Limits::default_timeout_ms")]
    pub timeout_ms: u64,
    /// Linear memory, all memories together.
    #[serde(rename = "memoryMiB")]
    #[serde(default = "Limits::default_memory_mib")]
    pub memory_mib: u64,
    /// How many objects of one `create-many` a live backend sends at once.
    #[serde(default = "Limits::default_concurrency")]
    pub concurrency: u32,
    /// The longest `wait` a job step may ask for; longer waits are cut to this.
    #[serde(default = "Limits::default_max_wait_ms")]
    pub max_wait_ms: u64,
}

impl Limits {
    fn default_timeout_ms() -> u64 {
        5_000
    }
    fn default_memory_mib() -> u64 {
        64
    }
    fn default_concurrency() -> u32 {
        16
    }
    fn default_max_wait_ms() -> u64 {
        60_000
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout_ms: Self::default_timeout_ms(),
            memory_mib: Self::default_memory_mib(),
            concurrency: Self::default_concurrency(),
            max_wait_ms: Self::default_max_wait_ms(),
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

impl Manifest {
    /// Reads and checks `<dir>/grants.yaml`.
    #[cfg(feature = "yaml")]
    pub fn load(dir: &std::path::Path) -> Result<Self, ManifestError> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ManifestError::Read {
            path: path.clone(),
            source,
        })?;
        let mut manifest = Self::parse(&text).map_err(|e| match e {
            ManifestError::Parse { problem, .. } => ManifestError::Parse {
                path: path.clone(),
                problem,
            },
            ManifestError::Invalid { problem, .. } => ManifestError::Invalid {
                path: path.clone(),
                problem,
            },
            other => other,
        })?;
        manifest.dir = dir.to_path_buf();
        Ok(manifest)
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
            {
                return Err(format!("guest {}: limits must be above zero", guest.name));
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
        assert_eq!(m.guests[0].compiler(), Compiler::Winch);
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
