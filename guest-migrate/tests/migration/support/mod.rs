//! Test support: the Cluster adapter over kube-memstore, a killing wrapper, a test
//! clock, seeded stores and a Deckhouse-and-controller stand-in. Fixtures, the
//! generated big cluster, snapshots and CRD checks are shared with the host's job test
//! and xtask, in `migration-data`.

pub mod clock;
pub mod cluster;
pub mod data;
pub mod deckhouse;
pub mod meter;
pub mod recording;
