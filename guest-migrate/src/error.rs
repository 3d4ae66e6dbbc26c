//! One error type for a step: an API call that failed (with what was being done),
//! or data that cannot be migrated as it is (with what to fix).

use deckhouse_hooks_sdk::KubeError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes call failed while doing `during`.
    #[error("{during}: {source}")]
    Api { during: String, source: KubeError },
    /// The cluster's data is inconsistent or unsupported; the text names the objects.
    #[error("{0}")]
    Data(String),
}

/// Adds what was being done to a failed Kubernetes call.
pub trait During<T> {
    fn during(self, what: impl FnOnce() -> String) -> Result<T, Error>;
}

impl<T> During<T> for Result<T, KubeError> {
    fn during(self, what: impl FnOnce() -> String) -> Result<T, Error> {
        self.map_err(|source| Error::Api {
            during: what(),
            source,
        })
    }
}

/// Joins many problems into one error, one per line, so none is hidden.
pub fn all_problems(headline: &str, problems: &[String], remedy: &str) -> Error {
    let mut text = format!("{headline} ({} problem(s)):", problems.len());
    for problem in problems {
        text.push_str("\n  - ");
        text.push_str(problem);
    }
    text.push('\n');
    text.push_str(remedy);
    Error::Data(text)
}
