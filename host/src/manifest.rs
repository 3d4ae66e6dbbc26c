//! The grants manifest (`grants.yaml` in the hooks folder): which guests run, as what,
//! within which limits and budgets, and with which Kubernetes and metric grants. It
//! belongs to the installer of the host, never to a guest, so a guest cannot widen its own
//! rights.
//!
//! The types live in the serde-only `hooks-manifest` crate, shared with the guest SDK
//! and the guests' tests, so there is one manifest and one grant matcher.

pub use hooks_manifest::manifest::*;
