"""The objects the hook reads and the bindings that deliver them to its runs."""

from dataclasses import dataclass
from typing import Optional

from .env import ObjectRef

NAMESPACE = "d8-sds-replicated-volume"

# The migration's source of truth (`data.state`).
CONFIG_MAP = ObjectRef("v1", "ConfigMap", NAMESPACE, "control-plane-migration")
# The ConfigMap can only be created once Helm made the namespace.
MODULE_NAMESPACE = ObjectRef("v1", "Namespace", None, NAMESPACE)
# Present: LINSTOR is installed.
LINSTOR_CONTROLLER = ObjectRef("apps/v1", "Deployment", NAMESPACE, "linstor-controller")
# Present: LINSTOR data may exist even while its controller is scaled away.
LINSTOR_DATABASE = ObjectRef(
    "apiextensions.k8s.io/v1", "CustomResourceDefinition", None,
    "resourcedefinitions.internal.linstor.linbit.com",
)


# Canaries: objects that always exist. A listing that holds its canary has arrived, so an
# object missing from it is really absent; an empty snapshot proves nothing.
CONFIG_MAP_CANARY = ObjectRef("v1", "ConfigMap", NAMESPACE, "kube-root-ca.crt")
NAMESPACE_CANARY = ObjectRef("v1", "Namespace", None, "kube-system")
CRD_CANARY = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, "moduleconfigs.deckhouse.io")


@dataclass(frozen=True)
class Binding:
    """A kubernetes binding on one object (and its listing's canary, if any), with full
    objects kept in its snapshots (so the host can serve `get` from them) and a run on
    synchronization (so the state is synced right after a restart)."""

    name: str
    target: ObjectRef
    canary: Optional[ObjectRef] = None


@dataclass(frozen=True)
class Spec:
    before_helm: int
    kubernetes: tuple[Binding, ...]


# Before Helm renders, so the templates see the synced state.
SPEC = Spec(
    before_helm=5,
    kubernetes=(
        Binding("control-plane-migration", CONFIG_MAP, CONFIG_MAP_CANARY),
        Binding("module-namespace", MODULE_NAMESPACE, NAMESPACE_CANARY),
        Binding("linstor-controller", LINSTOR_CONTROLLER),
        Binding("linstor-database", LINSTOR_DATABASE, CRD_CANARY),
    ),
)
