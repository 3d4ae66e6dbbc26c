"""The `control-plane-migration-state-sync` hook in Python.

It copies the migration state from the ConfigMap
`d8-sds-replicated-volume/control-plane-migration` into the module value
`internal.controlPlaneMigration`, and refuses unknown states and backward jumps. It
behaves exactly like the Rust guest (`guest-hook`) and passes the same golden fixtures.

The package is plain Python with no WIT types, so its tests run under any CPython.
`app.py` binds it to the `hook-guest` world of `wit/hooks.wit`.
"""

from .env import Env, KubeError, ObjectRef
from .sync import GROUP, Metric, Output, run
from .spec import SPEC, Binding
from .states import SEED_STATES, StateTable

__all__ = [
    "GROUP", "Binding", "Env", "KubeError", "Metric", "ObjectRef", "Output", "SEED_STATES",
    "SPEC", "StateTable", "run",
]
