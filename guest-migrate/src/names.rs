//! Real names of the module's objects (see the sds-replicated-volume reference).

pub const NAMESPACE: &str = "d8-sds-replicated-volume";
pub const STATE_CONFIGMAP: &str = "control-plane-migration";

pub const LINSTOR_CONTROLLER: &str = "linstor-controller";
pub const LINSTOR_NODE: &str = "linstor-node";
pub const NEW_CONTROLLER: &str = "controller";
pub const NEW_AGENT: &str = "agent";

/// The CSI driver whose VolumeAttachments become ReplicatedVolumeAttachments.
pub const CSI_DRIVER: &str = "replicated.csi.storage.deckhouse.io";

/// The group LINSTOR keeps its database in, and the CRD used to discover its version.
pub const LINSTOR_GROUP: &str = "internal.linstor.linbit.com";
pub const LINSTOR_PROBE_CRD: &str = "resourcedefinitions.internal.linstor.linbit.com";

/// Group/version of every object the migration creates.
pub const STORAGE_V1ALPHA1: &str = "storage.deckhouse.io/v1alpha1";

pub const RSP: &str = "ReplicatedStoragePool";
pub const LLV: &str = "LVMLogicalVolume";
pub const DRBDR: &str = "DRBDResource";
pub const RVR: &str = "ReplicatedVolumeReplica";
pub const RV: &str = "ReplicatedVolume";
pub const RVA: &str = "ReplicatedVolumeAttachment";
pub const LVG: &str = "LVMVolumeGroup";

/// The kinds the migration creates, in creation order within one volume.
pub const CREATED_KINDS: [&str; 6] = [RSP, LLV, DRBDR, RVR, RV, RVA];

/// Prefix of the ReplicatedStoragePool made for each LINSTOR pool.
pub const POOL_PREFIX: &str = "linstor-auto-";

/// The only system network the new control plane supports today.
pub const SYSTEM_NETWORK: &str = "Internal";

/// DRBDResource maintenance mode that keeps the agent's hands off during migration.
pub const MAINTENANCE: &str = "NoResourceReconciliation";
