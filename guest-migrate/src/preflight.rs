//! The real migrator's pre-flight, before anything is read or written: the module's
//! switch `newControlPlane` must be on and the new control plane's CRDs installed.
//! Without them every create would fail, possibly after some objects exist.

use serde_json::Value;

use crate::error::{During, Error};
use crate::names::{CRD_API, MODULE_CONFIG, MODULE_CONFIG_API, NEW_CONTROL_PLANE_CRD};
use deckhouse_hooks_sdk::{Kube, ObjectRef};

/// Every reason the migration must not start (empty: go).
pub fn blockers(kube: Kube<'_>) -> Result<Vec<String>, Error> {
    let mut blockers = Vec::new();
    let config_ref = ObjectRef::cluster(MODULE_CONFIG_API, "ModuleConfig", MODULE_CONFIG);
    let config = kube
        .get_opt::<Value>(&config_ref)
        .during(|| format!("reading {config_ref}"))?;
    let switch = config
        .as_ref()
        .and_then(|c| c.pointer("/spec/settings/newControlPlane"))
        .and_then(Value::as_bool);
    match (&config, switch) {
        (_, Some(true)) => {}
        (None, _) => blockers.push(format!(
            "ModuleConfig {MODULE_CONFIG} does not exist; create it with spec.settings.newControlPlane: true \
             to migrate to the new control plane"
        )),
        (Some(_), _) => blockers.push(format!(
            "ModuleConfig {MODULE_CONFIG} has spec.settings.newControlPlane {}, not true; enable it \
             before running the migration",
            switch.map_or("unset".to_owned(), |b| b.to_string())
        )),
    }
    let crd_ref = ObjectRef::cluster(CRD_API, "CustomResourceDefinition", NEW_CONTROL_PLANE_CRD);
    if kube
        .get_opt::<Value>(&crd_ref)
        .during(|| format!("reading {crd_ref}"))?
        .is_none()
    {
        blockers.push(format!(
            "CustomResourceDefinition {NEW_CONTROL_PLANE_CRD} does not exist: the new control plane \
             is not installed; let Deckhouse install the module's CRDs first"
        ));
    }
    Ok(blockers)
}
