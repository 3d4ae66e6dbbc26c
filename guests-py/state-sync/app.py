"""The WIT glue: the `hook` export of world `hook-guest` (wit/hooks.wit) over `state_sync`.

componentize-py generates `wit_world` from the WIT at build time; nothing else here
knows the WIT types.
"""

import json
import traceback

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import hook as wit
from wit_world.imports import kubernetes, log, types

import state_sync

LEVELS = {
    "debug": types.LogLevel.DEBUG,
    "info": types.LogLevel.INFO,
    "warn": types.LogLevel.WARN,
    "error": types.LogLevel.ERROR,
}

# The WIT error cases as the Rust guest spells them in messages.
CASES = {
    types.KubeError_NotFound: state_sync.KubeError.NOT_FOUND,
    types.KubeError_Forbidden: "forbidden",
    types.KubeError_Conflict: "conflict",
    types.KubeError_Invalid: "invalid",
    types.KubeError_Unavailable: "unavailable",
    types.KubeError_LimitExceeded: "unavailable",  # as the Rust guest reports it
}


class Hook(exports.Hook):
    def config(self) -> wit.HookConfig:
        spec = state_sync.SPEC
        return wit.HookConfig(
            on_startup=None,
            before_helm=spec.before_helm,
            after_helm=None,
            before_delete_helm=None,
            after_delete_helm=None,
            kubernetes=[_binding(b) for b in spec.kubernetes],
            schedule=[],
            settings=None,
            allow_failure=False,
            readiness_interval_seconds=None,
        )

    def run(self, input: wit.HookInput) -> wit.HookOutput:
        try:
            values = json.loads(input.values)
        except ValueError as e:
            raise Err(f"the host passed values that are not JSON: {e}")
        try:
            out = state_sync.run(state_sync.SEED_STATES, Imports(), values)
        except ValueError as e:
            raise Err(str(e))
        except Exception as e:
            # A bug, not bad input: fail the run with where it happened instead of a trap.
            where = traceback.extract_tb(e.__traceback__)[-1]
            raise Err(f"internal error in the state-sync hook at {where.filename}:{where.lineno}: {e!r}")
        return wit.HookOutput(
            values_patch=[
                wit.ValuesOp(wit.ValuesOpKind.ADD, path, json.dumps(value)) for path, value in out.values_patch
            ],
            config_values_patch=[],
            metrics=[_metric(m) for m in out.metrics],
        )


def _binding(b: state_sync.Binding) -> wit.KubeBinding:
    target = b.target
    return wit.KubeBinding(
        name=b.name,
        api_version=target.api_version,
        kind=target.kind,
        name_selector=[target.name] + ([b.canary.name] if b.canary else []),
        namespace=wit.NamespaceSelector([target.namespace], None) if target.namespace else None,
        label_selector=None,
        field_selector=[],
        execute_hook_on_event=None,
        execute_hook_on_synchronization=True,
        wait_for_synchronization=None,
        keep_full_objects_in_memory=True,
        jq_filter=None,
        include_snapshots_from=[],
        queue=None,
        group=None,
        allow_failure=None,
    )


def _metric(m: state_sync.Metric) -> wit.Metric:
    action = wit.MetricAction.SET if m.name else wit.MetricAction.EXPIRE
    value = 1.0 if m.name else 0.0
    return wit.Metric(m.name, state_sync.GROUP, action, value, m.labels, [])


class Imports:
    """`state_sync.Env` over the host's `kubernetes` and `log` imports."""

    def get(self, ref: state_sync.ObjectRef) -> dict:
        wit_ref = types.ObjectRef(ref.api_version, ref.kind, ref.namespace, ref.name)
        return _parse(_call(kubernetes.get, wit_ref), "get")

    def create_if_absent(self, obj: dict) -> dict:
        created = _call(kubernetes.create, json.dumps(obj), types.CreateMode.IF_NOT_EXISTS)
        return _parse(created, "create")

    def log(self, level, message, fields=()):
        log.emit(LEVELS[level], message, list(fields))


def _call(f, *args):
    try:
        return f(*args)
    except Err as e:
        raise state_sync.KubeError(CASES[type(e.value)], e.value.value) from None


def _parse(text: str, call: str) -> dict:
    try:
        return json.loads(text)
    except ValueError as e:
        raise state_sync.KubeError("invalid", f"the host's {call} answer is not JSON: {e}") from None
