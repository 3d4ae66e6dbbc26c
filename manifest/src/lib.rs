//! The vocabulary the `wasm-hooks` host and its guests share, as plain serde data.
//!
//! - [`manifest`]: `grants.yaml`, which guests run, as what, within which limits;
//! - [`grants`]: the one matcher that decides whether a guest may make a Kubernetes call;
//! - [`selector`]: Kubernetes label selectors (text form and `matchLabels`/`matchExpressions`);
//! - [`fields`]: Kubernetes field selectors;
//! - [`kube`]: object references, list queries, create/delete/patch modes, the call errors;
//! - [`binding_context`]: what Deckhouse hands a hook run, folded into the objects it shows;
//! - [`output`]: the values patch, object operations and metrics in the files Deckhouse reads;
//! - [`object_ops`]: the object patcher's rules every operation must pass before it is written.
//! - `fixture` (feature `fixture`): golden case folders, read, written and judged in one place
//!   for `wasm-hooks test`, the SDK's test kit and `hook run --record`.
//!
//! Nothing here knows wasmtime or the WIT bindings: the host converts its bindings to and
//! from these types, the guest SDK does the same on its side, and tests use them directly.

#![deny(missing_docs)]

pub mod binding_context;
pub mod fields;
#[cfg(feature = "fixture")]
pub mod fixture;
pub mod grants;
pub mod kube;
pub mod manifest;
pub mod object_ops;
pub mod output;
pub mod selector;

pub use fields::{FieldSelector, FieldSelectorError};
pub use grants::Grants;
pub use kube::{
    CreateMode, DeleteMode, KubeError, ListPage, ListQuery, ObjectRef, PatchKind, PatchOptions,
    Selection,
};
pub use manifest::{Grant, Guest, Limits, Manifest, ManifestError, Verb, World};
pub use selector::{LabelSelector, Operator, Requirement, SelectorError};
