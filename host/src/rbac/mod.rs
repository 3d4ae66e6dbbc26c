//! Kubernetes RBAC for a guest, generated from its grants in `grants.yaml`, so the rights
//! the chart gives a Job and the calls the host lets its guest make have one source.
//!
//! - [`kinds`]: a kind's plural and scope, from CRD files and k8s-openapi.
//! - [`rules`]: grants to RBAC rules (verbs, groups, resources, resourceNames, Role vs
//!   ClusterRole), and their YAML form.
//! - [`chart`]: rewriting the generated blocks of a chart template.
//!
//! The host's grants check stays the finer filter: where RBAC cannot express a grant exactly
//! (it cannot restrict `create` or an unfiltered `list` by name), the rule is the narrowest
//! RBAC allows and the grant still limits the guest.

pub mod chart;
pub mod kinds;
pub mod rules;

pub use kinds::{KindIndex, ServedKind};
pub use rules::{GuestRbac, PolicyRule};

use std::path::PathBuf;

/// Why RBAC could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum RbacError {
    #[error("no guest named {name:?} in the grants manifest; known: {known}")]
    UnknownGuest { name: String, known: String },
    #[error(
        "cannot read CRDs from {path}: {source}; pass --crds with a folder of CustomResourceDefinition YAML files"
    )]
    ReadCrds {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid CustomResourceDefinition file: {problem}")]
    BadCrd { path: PathBuf, problem: String },
    #[error(
        "guest {guest}: grant {index} ({api_version} {kind}): apiVersion must be `version`, `group/version` or `group/*`"
    )]
    BadApiVersion {
        guest: String,
        index: usize,
        api_version: String,
        kind: String,
    },
    #[error(
        "guest {guest}: grant {index}: cannot resolve kind {kind} in API group {group:?}: it is not a built-in Kubernetes kind and no CRD for it was found in {searched}; pass --crds with the folder holding its CustomResourceDefinition"
    )]
    UnresolvedKind {
        guest: String,
        index: usize,
        group: String,
        kind: String,
        searched: String,
    },
    #[error(
        "guest {guest}: grant {index} ({kind}) names namespace {namespace:?}, but {kind} is cluster-scoped; drop the namespace from the grant"
    )]
    NamespaceOnClusterKind {
        guest: String,
        index: usize,
        kind: String,
        namespace: String,
    },
    #[error("cannot read the chart template {path}: {source}")]
    ReadChart {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the chart template {path}: {source}")]
    WriteChart {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("chart template {path}: {problem}")]
    Chart { path: PathBuf, problem: String },
}
