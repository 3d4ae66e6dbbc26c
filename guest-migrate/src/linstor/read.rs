//! Finds the served version of the LINSTOR CRDs and lists the kinds the mapping needs,
//! page by page, keeping only the decoded fields of each row.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::model::Tables;
use super::resolve::{Linstor, resolve};
use crate::error::{During, Error};
use crate::names::name_of;
use crate::names::{CRD_API, LINSTOR_GROUP, LINSTOR_PROBE_CRD};
use deckhouse_hooks_sdk::Logger;
use deckhouse_hooks_sdk::{Kube, KubeError, ListQuery, ObjectRef};

/// Reads and resolves the LINSTOR database; `None` when the cluster has no LINSTOR CRDs.
pub fn read(kube: Kube<'_>, log: Logger<'_>, page_size: u32) -> Result<Option<Linstor>, Error> {
    let Some(version) = served_version(kube)? else {
        log.info(
            "no LINSTOR database in this cluster",
            &[("crd", LINSTOR_PROBE_CRD)],
        );
        return Ok(None);
    };
    let api_version = format!("{LINSTOR_GROUP}/{version}");
    let tables = list_tables(kube, &api_version, page_size)?;
    log.info(
        "read the LINSTOR database",
        &[
            ("apiVersion", &api_version),
            (
                "resourceDefinitions",
                &tables.resource_definitions.len().to_string(),
            ),
            ("resources", &tables.resources.len().to_string()),
            ("storagePools", &tables.node_stor_pools.len().to_string()),
        ],
    );
    resolve(&tables).map(Some)
}

/// The version LINSTOR stores its data in, read from its ResourceDefinitions CRD
/// (the storage version if served, else the first served one).
fn served_version(kube: Kube<'_>) -> Result<Option<String>, Error> {
    let crd_ref = ObjectRef::cluster(CRD_API, "CustomResourceDefinition", LINSTOR_PROBE_CRD);
    let Some(crd) = kube
        .get_opt::<Value>(&crd_ref)
        .during(|| format!("reading {crd_ref}"))?
    else {
        return Ok(None);
    };
    pick_version(&crd).map(Some).ok_or_else(|| {
        Error::Data(format!(
            "CustomResourceDefinition {LINSTOR_PROBE_CRD} serves no version; cannot read LINSTOR's database"
        ))
    })
}

fn pick_version(crd: &Value) -> Option<String> {
    let versions = crd.pointer("/spec/versions")?.as_array()?;
    let served: Vec<&Value> = versions
        .iter()
        .filter(|v| v["served"] == Value::Bool(true))
        .collect();
    let chosen = served
        .iter()
        .find(|v| v["storage"] == Value::Bool(true))
        .or(served.first())?;
    chosen["name"].as_str().map(str::to_owned)
}

fn list_tables(kube: Kube<'_>, api_version: &str, page_size: u32) -> Result<Tables, Error> {
    let at = |kind| (api_version, kind, page_size);
    Ok(Tables {
        resource_definitions: specs(kube, at("ResourceDefinitions"))?,
        resource_groups: specs(kube, at("ResourceGroups"))?,
        volume_definitions: specs(kube, at("VolumeDefinitions"))?,
        resources: specs(kube, at("Resources"))?,
        layer_resource_ids: specs(kube, at("LayerResourceIds"))?,
        layer_drbd_resources: specs(kube, at("LayerDrbdResources"))?,
        layer_drbd_resource_definitions: specs(kube, at("LayerDrbdResourceDefinitions"))?,
        layer_storage_volumes: specs(kube, at("LayerStorageVolumes"))?,
        node_stor_pools: specs(kube, at("NodeStorPool"))?,
        props: specs(kube, at("PropsContainers"))?,
    })
}

/// Lists one kind and decodes each object's `spec`, one page at a time, so only the
/// decoded fields outlive the page; a kind the API does not know is empty.
fn specs<T: DeserializeOwned>(
    kube: Kube<'_>,
    (api_version, kind, page_size): (&str, &str, u32),
) -> Result<Vec<T>, Error> {
    let mut rows = Vec::new();
    for page in kube.pages(&ListQuery::new(api_version, kind).limit(page_size)) {
        let page = match page {
            Err(KubeError::NotFound(_)) => return Ok(Vec::new()),
            other => other.during(|| format!("listing LINSTOR {kind} ({api_version})"))?,
        };
        for object in page {
            rows.push(decode(object, kind)?);
        }
    }
    Ok(rows)
}

fn decode<T: DeserializeOwned>(mut object: Value, kind: &str) -> Result<T, Error> {
    let spec = object
        .get_mut("spec")
        .map(Value::take)
        .unwrap_or(Value::Null);
    serde_json::from_value(spec).map_err(|e| {
        Error::Data(format!(
            "LINSTOR {kind} {}: unexpected spec ({e}); the LINSTOR database is not in a shape this migrator knows",
            name_of(&object)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn picks_storage_version_among_served() {
        let crd = json!({"spec": {"versions": [
            {"name": "v1-15-0", "served": true, "storage": false},
            {"name": "v1-19-1", "served": true, "storage": true},
            {"name": "v1-20-0", "served": false, "storage": false}]}});
        assert_eq!(pick_version(&crd).as_deref(), Some("v1-19-1"));
    }

    #[test]
    fn falls_back_to_first_served_and_rejects_none() {
        let crd = json!({"spec": {"versions": [
            {"name": "v1-15-0", "served": false, "storage": true},
            {"name": "v1-17-0", "served": true}]}});
        assert_eq!(pick_version(&crd).as_deref(), Some("v1-17-0"));
        assert_eq!(pick_version(&json!({"spec": {"versions": []}})), None);
    }
}
