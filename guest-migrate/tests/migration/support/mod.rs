//! Test support: the Cluster adapter over kube-memstore, a killing wrapper, seeded
//! stores and a Deckhouse stand-in. Fixtures, the generated big cluster, snapshots and
//! CRD checks are shared with the host's job test and xtask, in `migration-data`.

pub mod cluster;
pub mod data;
pub mod deckhouse;
