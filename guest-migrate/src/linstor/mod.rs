//! The LINSTOR database as LINSTOR's Kubernetes backend keeps it: custom resources of
//! group `internal.linstor.linbit.com`, read once per pass and resolved into volumes.

mod model;
mod read;
mod resolve;

pub use read::read;
pub use resolve::{Driver, Linstor, PoolNode, Replica, ReplicaKind, Volume};
