//! Request bodies: JSON parsing and the identity checks the API server does
//! before storing (apiVersion, kind, namespace and name must agree with the path).

use crate::resource::Resource;
use crate::status::Failure;
use serde_json::{Map, Value, json};

/// Parses a JSON body.
pub fn json(body: &[u8]) -> Result<Value, Failure> {
    serde_json::from_slice(body)
        .map_err(|e| Failure::bad_request(format!("request body is not valid JSON: {e}")))
}

/// Parses an object body for create (`name` None) or update, filling identity
/// fields from the path and rejecting ones that disagree with it.
pub fn object(
    body: &[u8],
    resource: &Resource,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Result<Value, Failure> {
    let mut object = json(body)?;
    let root = object
        .as_object_mut()
        .ok_or_else(|| Failure::bad_request("request body must be a JSON object"))?;
    agree(
        root,
        "apiVersion",
        &resource.api_version(),
        "the API version in the body",
    )?;
    agree(root, "kind", &resource.kind, "the kind in the body")?;
    let metadata = root.entry("metadata").or_insert_with(|| json!({}));
    let metadata = metadata
        .as_object_mut()
        .ok_or_else(|| Failure::bad_request("metadata must be an object"))?;
    match (resource.namespaced, namespace) {
        (true, Some(ns)) => agree(metadata, "namespace", ns, "metadata.namespace")?,
        _ => {
            metadata.remove("namespace");
        }
    }
    if let Some(name) = name {
        agree(metadata, "name", name, "metadata.name")?;
    }
    Ok(object)
}

/// Sets `field` to `expected` when absent or empty; a different value is a 400.
fn agree(
    map: &mut Map<String, Value>,
    field: &str,
    expected: &str,
    what: &str,
) -> Result<(), Failure> {
    match map
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(found) if found != expected => Err(Failure::bad_request(format!(
            "{what} ({found}) does not match the request path ({expected})"
        ))),
        _ => {
            map.insert(field.to_owned(), json!(expected));
            Ok(())
        }
    }
}

/// Gives an object without a name one made from `metadata.generateName`.
pub fn generate_name(object: &mut Value, unique: u64) -> Result<(), Failure> {
    let has_name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if has_name {
        return Ok(());
    }
    let prefix = object
        .pointer("/metadata/generateName")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty());
    let prefix = prefix
        .ok_or_else(|| Failure::new(422, "metadata.name or metadata.generateName is required"))?;
    object["metadata"]["name"] = json!(format!("{prefix}{unique:05x}"));
    Ok(())
}

/// The kinds a created CustomResourceDefinition makes servable; a CRD that cannot be served is a 422.
pub fn crd_resources(resource: &Resource, object: &Value) -> Result<Vec<Resource>, Failure> {
    if resource.group != "apiextensions.k8s.io" || resource.kind != "CustomResourceDefinition" {
        return Ok(Vec::new());
    }
    Resource::from_crd(object).map_err(|e| Failure::new(422, e.0))
}
