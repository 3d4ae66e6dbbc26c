//! The host's errors as data: each names what was wrong, where, and what to do.

use crate::manifest::ManifestError;
use std::path::PathBuf;

/// Everything that can fail a host command.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Rbac(#[from] crate::rbac::RbacError),
    #[error(transparent)]
    Scaffold(#[from] crate::scaffold::ScaffoldError),
    #[error("no hook number {index}: `hook list` shows {count} hooks (0..{count})")]
    UnknownHook { index: usize, count: usize },
    #[error("no guest named {name:?} of world {world} in the grants manifest; known: {known}")]
    UnknownGuest {
        name: String,
        world: &'static str,
        known: String,
    },
    #[error(
        "guest {guest}: cannot load component {path}: {detail}; rebuild it with `cargo xtask dist` or check the `component` entry in grants.yaml"
    )]
    Load {
        guest: String,
        path: PathBuf,
        detail: String,
    },
    #[error(
        "guest {guest}: cannot instantiate: {detail}; the component must implement world {world} of wit/hooks.wit and import nothing else"
    )]
    Instantiate {
        guest: String,
        world: &'static str,
        detail: String,
    },
    #[error("guest {guest} {what}")]
    Trap { guest: String, what: String },
    #[error(
        "guest {guest} exceeded its {budget} budget: {actual} (limit {limit}, limits.{key} in grants.yaml)"
    )]
    Budget {
        guest: String,
        budget: &'static str,
        key: &'static str,
        limit: String,
        actual: String,
    },
    #[error("guest {guest} failed: {message}")]
    GuestFailed { guest: String, message: String },
    #[error("guest {guest} returned an invalid {what}: {problem}")]
    GuestOutput {
        guest: String,
        what: &'static str,
        problem: String,
    },
    #[error("cannot read {what} from {path}: {problem}")]
    Input {
        what: &'static str,
        path: PathBuf,
        problem: String,
    },
    #[error(
        "environment variable {var} is not set; Deckhouse sets it for every hook run (for a manual run, export it)"
    )]
    MissingEnv { var: &'static str },
    #[error("cannot write {path}: {source}")]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

/// `Result` with [`HostError`].
pub type Result<T, E = HostError> = std::result::Result<T, E>;
