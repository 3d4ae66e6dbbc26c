"""What the hook needs from its surroundings: Kubernetes reads and writes, and a log."""

from dataclasses import dataclass
from typing import Optional, Protocol, Sequence


@dataclass(frozen=True)
class ObjectRef:
    """Names one object; `namespace` is None for cluster-scoped kinds."""

    api_version: str
    kind: str
    namespace: Optional[str]
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where} ({self.api_version})"


class KubeError(Exception):
    """A failed Kubernetes call: the WIT `kube-error` case (`not found`, ...) and its message."""

    NOT_FOUND = "not found"

    def __init__(self, case: str, message: str):
        super().__init__(case, message)
        self.case = case
        self.message = message

    def __str__(self) -> str:
        return f"{self.case}: {self.message}"


class Env(Protocol):
    """The host's `kubernetes` and `log` imports, as the run uses them."""

    def get(self, ref: ObjectRef) -> dict:
        """One object; raises KubeError (case `not found` when it does not exist)."""

    def create_if_absent(self, obj: dict) -> dict:
        """Creates `obj`, or returns the object that exists already."""

    def log(self, level: str, message: str, fields: Sequence[tuple[str, str]] = ()) -> None:
        """One log line; `level` is debug, info, warn or error."""
