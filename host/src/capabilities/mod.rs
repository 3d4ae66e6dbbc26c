//! What a guest may call, each WIT interface in its own file, all behind [`grants`].
//!
//! [`backend::KubeBackend`] is implemented by [`snapshot`] (hook runs), [`live`] (the
//! Job against the API server) and, in tests, an in-memory store.

pub mod backend;
pub mod deadline;
pub mod grants;
pub mod kubernetes;
pub mod live;
pub mod log;
pub mod snapshot;
pub mod types;
