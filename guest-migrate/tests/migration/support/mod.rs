//! Test support: the Cluster adapter over kube-memstore, a killing wrapper, the
//! fixtures, a Deckhouse stand-in, CRD schema checks and a big-cluster generator.

pub mod cluster;
pub mod data;
pub mod deckhouse;
pub mod generator;
pub mod rules;
pub mod schema;
pub mod snapshot;
