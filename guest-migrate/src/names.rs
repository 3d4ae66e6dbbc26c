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

/// The kinds the migration creates, in creation order: pools, then per volume the
/// replicas first (so the LLVs and DRBDResources can carry an ownerRef with their
/// uid), and the ReplicatedVolume after everything it adopts.
pub const CREATED_KINDS: [&str; 6] = [RSP, RVR, LLV, DRBDR, RV, RVA];

/// Prefix of the ReplicatedStoragePool made for each LINSTOR pool.
pub const POOL_PREFIX: &str = "linstor-auto-";

/// The only system network the new control plane supports today.
pub const SYSTEM_NETWORK: &str = "Internal";

/// DRBDResource maintenance mode that keeps the agent's hands off during migration.
pub const MAINTENANCE: &str = "NoResourceReconciliation";

/// The module's switch: ModuleConfig `sds-replicated-volume`, `spec.settings.newControlPlane`.
pub const MODULE_CONFIG_API: &str = "deckhouse.io/v1alpha1";
pub const MODULE_CONFIG: &str = "sds-replicated-volume";
/// The new control plane's CRD whose presence says it is installed.
pub const NEW_CONTROL_PLANE_CRD: &str = "replicatedvolumes.storage.deckhouse.io";
pub const CRD_API: &str = "apiextensions.k8s.io/v1";

/// Present on a ReplicatedVolume: the controller adopts existing replicas (`adopt/v1`)
/// instead of forming a new volume.
pub const ADOPT_RVR: &str = "sds-replicated-volume.deckhouse.io/adopt-rvr";
/// The DRBD shared secret LINSTOR used, for the controller to keep.
pub const ADOPT_SHARED_SECRET: &str = "sds-replicated-volume.deckhouse.io/adopt-shared-secret";
/// The longest shared secret the controller accepts.
pub const MAX_SHARED_SECRET: usize = 64;
/// On a ReplicatedVolume with a PersistentVolume: stage 4 switches it to Auto.
pub const SWITCH_TO_AUTO: &str = "sds-replicated-volume.deckhouse.io/switch-to-auto-configuration";
/// On a ReplicatedVolume without a PersistentVolume.
pub const NO_PERSISTENT_VOLUME: &str = "sds-replicated-volume.deckhouse.io/no-persistent-volume";
/// On a replicated PersistentVolume that LINSTOR has no resource for.
pub const NO_LINSTOR_RESOURCE: &str = "sds-replicated-volume.deckhouse.io/no-linstor-resource";
/// The CSI controller's finalizer on ReplicatedVolumes and ReplicatedVolumeAttachments.
pub const CSI_FINALIZER: &str = "sds-replicated-volume.deckhouse.io/csi-controller";
/// Set by the rvr-controller on the DRBDResources it has taken over: `<label>=<rv>`.
pub const REPLICATED_VOLUME_LABEL: &str = "sds-replicated-volume.deckhouse.io/replicated-volume";

/// The adoption gate: the Formation transition of plan `adopt/v1` with its three steps
/// at Completed, Completed, Active ("Exit maintenance" running).
pub const FORMATION: &str = "Formation";
pub const ADOPT_PLAN: &str = "adopt/v1";
pub const GATE_STEPS: [&str; 3] = ["Completed", "Completed", "Active"];

/// Who the Job's Kubernetes Events say reported them.
pub const EVENT_SOURCE: &str = "control-plane-migrator";

/// `metadata.name` of an object, or "" when it has none.
pub fn name_of(object: &serde_json::Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
}
