//! An in-memory Kubernetes object store: the same 404/409/resourceVersion
//! rules as an API server, without one: the simulator's cluster (`wasm-hooks simulate`,
//! `verify`) and the storage of the test API server, so guests run and are tested fast.
//!
//! Objects are plain `serde_json::Value`s. The store is plain data; wrap it in
//! `Arc<Mutex<Store>>` to share it.

mod key;
mod meta;
mod selector;
mod store;

pub use key::{Key, key_of};
pub use selector::Selector;
pub use store::{PageQuery, Store};

/// Why a store call failed; mirrors the API server's 404, 409 and 400/422 answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Already exists, stale resourceVersion, or a failed JSON-patch `test`.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Malformed object, patch or label selector.
    #[error("invalid: {0}")]
    Invalid(String),
}

/// What a backend over the store answers its caller: each store error is the API
/// server's answer of the same kind.
impl From<StoreError> for hooks_manifest::kube::KubeError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(m) => Self::NotFound(m),
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::Invalid(m) => Self::Invalid(m),
        }
    }
}
