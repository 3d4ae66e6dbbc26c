import unittest

from state_sync import SEED_STATES, KubeError, run
from state_sync.spec import (
    CONFIG_MAP, CONFIG_MAP_CANARY, CRD_CANARY, LINSTOR_DATABASE, MODULE_NAMESPACE, NAMESPACE_CANARY, SPEC,
)
from state_sync.sync import configmap_state, namespace_usable, seed_state


class MemoryEnv:
    """Objects in memory: what a run sees from its snapshots; records creates and logs."""

    def __init__(self, *objects, missing_kinds=()):
        self.objects = {(o["kind"], o["metadata"]["name"]): o for o in objects}
        self.missing_kinds = missing_kinds
        self.created, self.logs = [], []

    def get(self, ref):
        if ref.kind in self.missing_kinds:
            raise KubeError("unavailable", f"no binding delivers {ref.kind}")
        try:
            return self.objects[(ref.kind, ref.name)]
        except KeyError:
            raise KubeError(KubeError.NOT_FOUND, str(ref)) from None

    def create_if_absent(self, obj):
        self.created.append(obj)
        return self.objects.setdefault((obj["kind"], obj["metadata"]["name"]), obj)

    def log(self, level, message, fields=()):
        self.logs.append((level, message, dict(fields)))


def values(switch, current=None):
    internal = {} if current is None else {"controlPlaneMigration": current}
    return {"global": {}, "sdsReplicatedVolume": {"newControlPlane": switch, "internal": internal}}


def obj(ref, **rest):
    meta = {"name": ref.name} | ({"namespace": ref.namespace} if ref.namespace else {})
    return {"apiVersion": ref.api_version, "kind": ref.kind, "metadata": meta, **rest}


def cm(state):
    return obj(CONFIG_MAP, data={"state": state})


NAMESPACE = obj(MODULE_NAMESPACE, status={"phase": "Active"})
# Every listing arrived: each holds its canary.
CANARIES = (obj(CONFIG_MAP_CANARY), obj(NAMESPACE_CANARY), obj(CRD_CANARY))


class RunTest(unittest.TestCase):
    def test_switch_off_without_configmap_changes_nothing(self):
        env = MemoryEnv()
        out = run(SEED_STATES, env, values(False, "stage1_started"))
        self.assertEqual(out.values_patch, [])
        self.assertEqual([(m.name, m.labels) for m in out.metrics],
                         [("", []), ("d8_sds_control_plane_migration_state", [("state", "stage1_started")])])

    def test_a_new_state_is_copied_once(self):
        out = run(SEED_STATES, MemoryEnv(cm("stage1_started")), values(True, "not_started"))
        self.assertEqual(out.values_patch, [("/internal/controlPlaneMigration", "stage1_started")])
        out = run(SEED_STATES, MemoryEnv(cm("stage1_started")), values(True, "stage1_started"))
        self.assertEqual(out.values_patch, [])

    def test_a_regression_is_refused_with_the_gauge_and_a_warning(self):
        env = MemoryEnv(cm("stage1_started"))
        out = run(SEED_STATES, env, values(True, "stage2_started"))
        self.assertEqual(out.values_patch, [])
        self.assertEqual(out.metrics[-1].labels,
                         [("state", "stage1_started"), ("current", "stage2_started"), ("reason", "regression")])
        self.assertEqual(env.logs[-1][0], "warn")

    def test_missing_configmap_is_created_with_not_started_when_linstor_is_installed(self):
        env = MemoryEnv(NAMESPACE, obj(LINSTOR_DATABASE), *CANARIES)
        out = run(SEED_STATES, env, values(True))
        self.assertEqual([c["data"] for c in env.created], [{"state": "not_started"}])
        self.assertEqual(out.values_patch, [("/internal/controlPlaneMigration", "not_started")])

    def test_no_create_while_the_namespace_is_missing(self):
        env = MemoryEnv(obj(LINSTOR_DATABASE), obj(NAMESPACE_CANARY))
        out = run(SEED_STATES, env, values(True))
        self.assertEqual(env.created, [])
        self.assertEqual(out.values_patch, [("/internal/controlPlaneMigration", "not_started")])

    def test_an_undelivered_object_fails_the_run_naming_the_bindings(self):
        env = MemoryEnv(*CANARIES, missing_kinds=("CustomResourceDefinition",))
        with self.assertRaisesRegex(ValueError, "CustomResourceDefinition.*bindings"):
            run(SEED_STATES, env, values(True))

    def test_absence_is_not_evidence(self):
        with self.assertRaisesRegex(ValueError, "not deciding the migration state from missing objects"):
            run(SEED_STATES, MemoryEnv(), values(True))
        env = MemoryEnv(NAMESPACE, obj(CONFIG_MAP_CANARY), obj(NAMESPACE_CANARY))
        with self.assertRaisesRegex(ValueError, "CustomResourceDefinition listing has not arrived"):
            run(SEED_STATES, env, values(True))
        self.assertEqual(env.created, [])

    def test_fresh_install_only_on_an_arrived_crd_listing(self):
        env = MemoryEnv(NAMESPACE, *CANARIES)
        out = run(SEED_STATES, env, values(True))
        self.assertEqual(out.values_patch, [("/internal/controlPlaneMigration", "all_completed")])

    def test_switch_off_still_follows_the_configmap(self):
        out = run(SEED_STATES, MemoryEnv(cm("stage1_started")), values(False, "not_started"))
        self.assertEqual(out.values_patch, [("/internal/controlPlaneMigration", "stage1_started")])

    def test_bad_values_fail_naming_the_setting(self):
        with self.assertRaisesRegex(ValueError, "newControlPlane is \"true\".*ModuleConfig"):
            run(SEED_STATES, MemoryEnv(), {"sdsReplicatedVolume": {"newControlPlane": "true"}})
        with self.assertRaisesRegex(ValueError, "got an array"):
            run(SEED_STATES, MemoryEnv(), [1])


class DecisionTest(unittest.TestCase):
    def test_configmap_state_reads_trims_and_defaults(self):
        for data, want in (({"state": " stage1_started\n"}, "stage1_started"), ({"state": ""}, "not_started"),
                           ({}, "not_started"), ({"state": 7}, "7"), (None, "not_started")):
            self.assertEqual(configmap_state(SEED_STATES, {"data": data}), want)

    def test_seed_state_prefers_kept_progress_then_linstor(self):
        self.assertEqual(seed_state(SEED_STATES, None, True)[0], "not_started")
        self.assertEqual(seed_state(SEED_STATES, None, False)[0], "all_completed")
        self.assertEqual(seed_state(SEED_STATES, "not_started", False)[0], "all_completed")
        self.assertEqual(seed_state(SEED_STATES, "stage1_completed", False)[0], "stage1_completed")
        self.assertEqual(seed_state(SEED_STATES, "bogus", True)[0], "not_started")

    def test_namespace_usable_only_when_present_and_live(self):
        self.assertFalse(namespace_usable(None))
        self.assertTrue(namespace_usable(NAMESPACE))
        self.assertFalse(namespace_usable({"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}))
        self.assertFalse(namespace_usable({"status": {"phase": "Terminating"}}))

    def test_every_object_read_is_watched(self):
        watched = {b.target for b in SPEC.kubernetes}
        self.assertEqual(len({b.name for b in SPEC.kubernetes}), len(SPEC.kubernetes))
        self.assertLessEqual({CONFIG_MAP, MODULE_NAMESPACE, LINSTOR_DATABASE}, watched)


if __name__ == "__main__":
    unittest.main()
