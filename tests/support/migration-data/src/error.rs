//! Why test data could not be loaded: which file, and what to fix.

use std::fmt;
use std::path::PathBuf;

/// A test-data file that is missing or malformed.
#[derive(thiserror::Error)]
pub enum Error {
    #[error("reading {path}: {source} (test data lives in the repository's tests/ folder)")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not valid YAML/JSON: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Crd { path: PathBuf, message: String },
}

/// Same as Display: `expect` and `?` in tests and xtask then print the readable message.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
