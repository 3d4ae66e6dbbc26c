//! The test kit (feature `testing`), as module-sdk's `testing/framework` is for Go hooks:
//! run a hook natively against a cluster state in YAML and values, then assert on values,
//! object operations, metrics and logs, with no Wasm and no host binary.
//!
//! - [`HookTest`]: the Rust API (module-sdk's `HookExecutionConfigInit`, `KubeStateSet`,
//!   `RunHook`, `ValuesGet`, `KubernetesResource`).
//! - [`Case`]: the same test as one YAML description, which runs natively
//!   ([`Case::check`]) and also writes the fixture folder the real host binary runs
//!   (`wasm-hooks test`), so one description covers both ([`Case::write_fixture`]).
//! - [`check_fixtures`]: runs fixture folders natively, as the host would run them.
//! - [`Cluster`]: the in-memory [`crate::Host`] behind all of it, also for job tests.
//!
//! The native run does what the host does around the guest: reads are served from the
//! run's snapshots (a kind no binding delivered is `unavailable`), writes become Deckhouse
//! object operations, the values patch is rooted at the module key with parents created,
//! and log lines are JSON with the guest's fields under `fields`.

mod case;
mod cluster;
mod contexts;
mod run;

pub use case::{Case, Expected, check_fixtures};
pub use cluster::{Cluster, LogLine};
pub use contexts::{before_helm, synchronization};
pub use run::{HookRun, HookTest};
