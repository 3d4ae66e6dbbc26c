//! The LINSTOR database as LINSTOR's Kubernetes backend keeps it: custom resources of
//! group `internal.linstor.linbit.com`, read once per pass and resolved into volumes.

mod model;
mod pools;
mod read;
mod resolve;

pub use pools::{Driver, PoolNode};
pub use read::read;
pub use resolve::{Linstor, Replica, ReplicaKind, Volume};
