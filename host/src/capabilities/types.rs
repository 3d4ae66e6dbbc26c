//! Host-side Kubernetes call shapes, independent of wasmtime so that every backend
//! (snapshots, live API, in-memory) can be written and tested without a guest. They are
//! `hooks-manifest`'s, the same the guest SDK and the tests use.

pub use hooks_manifest::kube::{
    CreateMode, DeleteMode, KubeError, ListPage, ListQuery, ObjectRef, PatchKind, PatchOptions,
    apply_patch,
};
