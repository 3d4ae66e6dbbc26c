"""One hook run: read the switch and the ConfigMap, decide, and report.

A refused ConfigMap state is not an error: failing would block the module's queue in a
retry loop while a person must fix the ConfigMap anyway. The run keeps the last good
value, logs a warning and raises the rejection gauge instead.
"""

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from .env import Env, KubeError, ObjectRef
from .spec import (
    CONFIG_MAP, CONFIG_MAP_CANARY, CRD_CANARY, LINSTOR_CONTROLLER, LINSTOR_DATABASE, MODULE_NAMESPACE,
    NAMESPACE_CANARY,
)
from .states import UNKNOWN_STATE, StateTable

VALUES_KEY = "sdsReplicatedVolume"
STATE_PATH = "/internal/controlPlaneMigration"

GROUP = "d8_sds_control_plane_migration"
STATE_GAUGE = "d8_sds_control_plane_migration_state"
REJECTED_GAUGE = "d8_sds_control_plane_migration_state_rejected"

KEPT = "kept the state already in values"
LINSTOR_INSTALLED = "LINSTOR is installed, so its volumes need migrating"
FRESH_INSTALL = "fresh install without LINSTOR, nothing to migrate"


@dataclass
class Metric:
    """A `set` of a gauge in GROUP, or (empty name) the `expire` of the whole group."""

    name: str
    labels: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Output:
    """`add` ops of (path below the module's values key, value), and the metrics."""

    values_patch: list[tuple[str, Any]] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)


class Inputs:
    """The switch and the current internal value, out of all values."""

    def __init__(self, values: Any):
        if not isinstance(values, dict):
            raise ValueError(f'values must be a JSON object with a "{VALUES_KEY}" key, got {_kind(values)}')
        module = values.get(VALUES_KEY)
        switch = _pointer(module, "newControlPlane")
        if switch is not None and not isinstance(switch, bool):
            raise ValueError(
                f"values {VALUES_KEY}.newControlPlane is {_text(switch)}, want true or false; "
                "fix spec.settings.newControlPlane in ModuleConfig sds-replicated-volume"
            )
        self.new_control_plane = bool(switch)
        self.current = _pointer(module, "internal", "controlPlaneMigration")

    @property
    def current_state(self) -> Optional[str]:
        return self.current if isinstance(self.current, str) else None

    def current_label(self, default: str) -> str:
        if self.current is None:
            return default
        return self.current if isinstance(self.current, str) else _text(self.current)


def run(table: StateTable, env: Env, values: Any) -> Output:
    """Runs the hook once; raises ValueError with a message for the operator on failure."""
    inputs = Inputs(values)
    configmap = _lookup(env, CONFIG_MAP)
    if configmap is not None:
        # Followed whatever the switch says: after a switch back, or a restart that reset
        # internal values, the render plan still sees where the migration is.
        return _settle(table, env, inputs, configmap_state(table, configmap))
    if not inputs.new_control_plane:
        env.log("debug", "newControlPlane is false and there is no ConfigMap: internal.controlPlaneMigration is left as it is")
        return Output(metrics=_metrics(inputs.current_label(table.first)))
    return _settle(table, env, inputs, _recreate_configmap(table, env, inputs))


def configmap_state(table: StateTable, configmap: dict) -> str:
    """`data.state` without surrounding whitespace (a `kubectl create --from-file` leaves
    a newline); empty or absent is the first state; any other JSON comes back as its text."""
    state = _pointer(configmap, "data", "state")
    if state is None or isinstance(state, str) and not state.strip():
        return table.first
    return state.strip() if isinstance(state, str) else _text(state)


def seed_state(table: StateTable, current: Optional[str], linstor_installed: bool) -> tuple[str, str]:
    """The state to create a missing ConfigMap with, and why. A state past the first in
    values means the ConfigMap was lost mid-migration: starting over would redo it."""
    if current in table.states and current != table.first:
        return current, KEPT
    if linstor_installed:
        return table.first, LINSTOR_INSTALLED
    return table.last, FRESH_INSTALL


def namespace_usable(namespace: Optional[dict]) -> bool:
    """Whether a create in this namespace can succeed: it exists and is not being deleted."""
    if namespace is None:
        return False
    deleting = _pointer(namespace, "metadata", "deletionTimestamp") is not None
    return not deleting and _pointer(namespace, "status", "phase") != "Terminating"


def configmap_object(state: str) -> dict:
    return {
        "apiVersion": CONFIG_MAP.api_version,
        "kind": CONFIG_MAP.kind,
        "metadata": {
            "name": CONFIG_MAP.name,
            "namespace": CONFIG_MAP.namespace,
            "labels": {"heritage": "deckhouse", "module": "sds-replicated-volume"},
        },
        "data": {"state": state},
    }


def _recreate_configmap(table: StateTable, env: Env, inputs: Inputs) -> str:
    """Creates the missing ConfigMap (when its namespace can hold it) and returns its state.
    Absence is not evidence: each decision needs a listing that arrived (its canary)."""
    namespace = _lookup(env, MODULE_NAMESPACE)
    namespace_absent = namespace is None and _lookup(env, NAMESPACE_CANARY) is not None
    if not namespace_absent and _lookup(env, CONFIG_MAP_CANARY) is None:
        raise ValueError(_undecided(f"{CONFIG_MAP} is missing, but its listing has not arrived (no {CONFIG_MAP_CANARY.name})"))
    linstor_installed = _lookup(env, LINSTOR_DATABASE) is not None or _lookup(env, LINSTOR_CONTROLLER) is not None
    state, why = seed_state(table, inputs.current_state, linstor_installed)
    if why == FRESH_INSTALL and _lookup(env, CRD_CANARY) is None:
        raise ValueError(_undecided(f"no LINSTOR seen, but the CustomResourceDefinition listing has not arrived (no {CRD_CANARY.name})"))
    fields = [("state", state), ("why", why)]
    if not namespace_usable(namespace):
        # The create would fail and block the queue; Helm creates the namespace during
        # this module run, and the namespace event brings the hook back.
        env.log(
            "info",
            "namespace d8-sds-replicated-volume does not exist yet (or is being deleted): not creating "
            "ConfigMap control-plane-migration in this run, only setting the internal value; a later run creates it",
            fields,
        )
        return state
    try:
        created = env.create_if_absent(configmap_object(state))
    except KubeError as e:
        raise ValueError(f"creating {CONFIG_MAP}: {e}; check this hook's create grant in grants.yaml") from e
    env.log("info", "ConfigMap d8-sds-replicated-volume/control-plane-migration was missing: created it", fields)
    # A ConfigMap that appeared meanwhile comes back as it is: its state wins.
    return configmap_state(table, created)


def _undecided(what: str) -> str:
    return (
        f"not deciding the migration state from missing objects: {what}; Helm keeps the last render and "
        "Deckhouse retries this run until the snapshots are current (check this hook's kubernetes bindings)"
    )


def _settle(table: StateTable, env: Env, inputs: Inputs, candidate: str) -> Output:
    reason = table.judge(inputs.current_state, candidate)
    if reason is None:
        out = Output(metrics=_metrics(candidate))
        # Only a real change is written: a values change made in an Event run queues a
        # module re-run (a Helm render).
        if inputs.current_state != candidate:
            fields = [("from", inputs.current_label("(absent)")), ("to", candidate)]
            env.log("info", "control-plane migration state synced into internal values", fields)
            out.values_patch.append((STATE_PATH, candidate))
        return out
    current = inputs.current_label(table.first)
    if reason == UNKNOWN_STATE:
        what = f"it is not a known state ({', '.join(table.states)})"
    else:
        what = (
            f"it moves the migration backwards (the only way back is a reset to {table.first}, "
            f"and never out of {table.last})"
        )
    env.log(
        "warn",
        f"refused the state in ConfigMap d8-sds-replicated-volume/control-plane-migration: {what}; "
        "keeping the current internal value. Fix data.state in the ConfigMap",
        [("state", candidate), ("current", current), ("reason", reason)],
    )
    refused = Metric(REJECTED_GAUGE, [("state", candidate), ("current", current), ("reason", reason)])
    return Output(metrics=[*_metrics(current), refused])


def _metrics(state: str) -> list[Metric]:
    """Expire the group, then set what holds now: a rejection series vanishes once fixed."""
    return [Metric(""), Metric(STATE_GAUGE, [("state", state)])]


def _lookup(env: Env, ref: ObjectRef) -> Optional[dict]:
    """The object, None when it does not exist. Other failures fail the run: the hook
    cannot decide without the object (a missing binding or grant is a packaging bug)."""
    try:
        return env.get(ref)
    except KubeError as e:
        if e.case == KubeError.NOT_FOUND:
            return None
        raise ValueError(
            f"reading {ref}: {e}; check this hook's kubernetes bindings and its grants in grants.yaml"
        ) from e


def _pointer(value: Any, *keys: str) -> Any:
    """`value[k1][k2]...`, None where a step is missing, null or not an object."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _text(value: Any) -> str:
    """JSON text, compact, as serde_json prints it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _kind(value: Any) -> str:
    kinds = {type(None): "null", bool: "a bool", int: "a number", float: "a number",
             str: "a string", list: "an array", dict: "an object"}
    return kinds.get(type(value), type(value).__name__)
