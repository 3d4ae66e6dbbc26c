//! The grants manifest (`grants.yaml` in the hooks folder): which guests run, as what,
//! within which limits, and with which Kubernetes grants. It belongs to the installer of
//! the host, never to a guest, so a guest cannot widen its own rights.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file name of the manifest inside the hooks folder.
pub const MANIFEST_FILE: &str = "grants.yaml";

/// The whole manifest.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Manifest {
    pub module: Module,
    pub guests: Vec<Guest>,
    /// The folder the manifest was read from; component paths are relative to it.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The Deckhouse module the hooks belong to.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Module {
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
    pub world: World,
    #[serde(default)]
    pub limits: Limits,
    /// Overrides the compiler the world implies (see [`Compiler`]).
    #[serde(default)]
    pub compiler: Option<Compiler>,
    #[serde(default)]
    pub grants: Vec<Grant>,
    /// A hook guest that is the module's readiness probe (`hook ready`), not a hook of
    /// `hook list`; at most one.
    #[serde(default)]
    pub readiness: bool,
    /// A job guest's settings, a mapping handed to it as JSON (overridden by `--set`).
    #[serde(default)]
    pub settings: Option<serde_json::Value>,
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
    /// The longest `wait` a job step may ask for; longer waits are cut to this.
    #[serde(default = "Limits::default_max_wait_ms")]
    pub max_wait_ms: u64,
    /// How many creates of one `create-many` call a live backend sends at once.
    #[serde(default = "Limits::default_concurrency")]
    pub concurrency: u32,
}

impl Limits {
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
            memory_mib: Self::default_memory_mib(),
            max_wait_ms: Self::default_max_wait_ms(),
            concurrency: Self::default_concurrency(),
        }
    }
}

/// A Kubernetes verb a grant can allow.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    Get,
    List,
    Create,
    Patch,
    Delete,
}

/// One allow rule.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Grant {
    pub verbs: Vec<Verb>,
    pub api_version: String,
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
    #[error(
        "cannot read the grants manifest {path}: {source}; point --hooks-dir (or WASM_HOOKS_DIR) at the folder holding {MANIFEST_FILE}"
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the grants manifest {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: serde_yaml::Error,
    },
    #[error("the grants manifest {path}: {problem}")]
    Invalid { path: PathBuf, problem: String },
}

impl Manifest {
    /// Reads and checks `<dir>/grants.yaml`.
    pub fn load(dir: &Path) -> Result<Self, ManifestError> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ManifestError::Read {
            path: path.clone(),
            source,
        })?;
        let mut manifest: Manifest =
            serde_yaml::from_str(&text).map_err(|source| ManifestError::Parse {
                path: path.clone(),
                source,
            })?;
        manifest.dir = dir.to_path_buf();
        manifest
            .check()
            .map_err(|problem| ManifestError::Invalid { path, problem })?;
        Ok(manifest)
    }

    fn check(&self) -> Result<(), String> {
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
            if guest.limits.timeout_ms == 0
                || guest.limits.memory_mib == 0
                || guest.limits.max_wait_ms == 0
                || guest.limits.concurrency == 0
            {
                return Err(format!("guest {}: limits must be above zero", guest.name));
            }
            if guest.world == World::Render && !guest.grants.is_empty() {
                return Err(format!(
                    "guest {}: a render guest imports nothing, so it takes no grants",
                    guest.name
                ));
            }
            if guest.readiness && guest.world != World::Hook {
                return Err(format!(
                    "guest {}: only a hook guest can be the readiness probe",
                    guest.name
                ));
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
