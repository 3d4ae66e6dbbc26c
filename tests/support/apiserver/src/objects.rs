//! Collections and objects: list/create on a collection path, get/update/patch/delete
//! on an object path, with the API server's scope and body checks.

use crate::body;
use crate::resource::Resource;
use crate::route::ObjectPath;
use crate::state::{Shared, lock};
use crate::status::Failure;
use axum::http::{Method, StatusCode};
use kube_memstore::{Key, StoreError};
use serde_json::{Value, json};
use std::collections::HashMap;

/// One request against a resolved kind.
pub struct Call<'a> {
    pub shared: &'a Shared,
    pub resource: Resource,
    pub namespace: Option<&'a str>,
    pub query: HashMap<String, String>,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

pub type Answer = Result<(StatusCode, Value), Failure>;

/// Finds the served kind for a path and rejects paths of the wrong scope.
pub fn resolve(resources: &[Resource], path: &ObjectPath<'_>) -> Result<Resource, Failure> {
    let resource = resources
        .iter()
        .find(|r| r.group == path.group && r.version == path.version && r.plural == path.plural)
        .ok_or_else(|| {
            let gv = if path.group.is_empty() {
                path.version.to_owned()
            } else {
                format!("{}/{}", path.group, path.version)
            };
            Failure::not_found(format!(
                "the server could not find the requested resource: {} in {gv}",
                path.plural
            ))
        })?;
    let misplaced = match (resource.namespaced, path.namespace, path.name) {
        (false, Some(_), _) => Some("is cluster-scoped; drop /namespaces/{ns} from the path"),
        (true, None, Some(_)) => Some("is namespaced; use /namespaces/{ns}/ in the path"),
        _ => None,
    };
    match misplaced {
        Some(why) => Err(Failure::not_found(format!("{} {why}", resource.kind))),
        None => Ok(resource.clone()),
    }
}

/// Dispatches on method and on whether the path names one object.
pub fn handle(call: Call<'_>, method: &Method, name: Option<&str>) -> Answer {
    match (method.clone(), name) {
        (Method::GET, None) => call.list(),
        (Method::POST, None) => call.create(),
        (Method::GET, Some(name)) => call.get(name),
        (Method::PUT, Some(name)) => call.update(name),
        (Method::PATCH, Some(name)) => call.patch(name),
        (Method::DELETE, Some(name)) => call.delete(name),
        (method, _) => Err(Failure::new(
            405,
            format!("{method} is not supported on this path"),
        )),
    }
}

impl Call<'_> {
    fn key(&self, name: &str) -> Key {
        Key {
            api_version: self.resource.api_version(),
            kind: self.resource.kind.clone(),
            namespace: self.namespace.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    fn list(&self) -> Answer {
        if self
            .query
            .get("watch")
            .is_some_and(|w| w == "true" || w == "1")
        {
            return Err(Failure::bad_request(
                "watch is not supported by test-apiserver; use list",
            ));
        }
        if self
            .query
            .get("fieldSelector")
            .is_some_and(|f| !f.is_empty())
        {
            return Err(Failure::bad_request(
                "fieldSelector is not supported by test-apiserver; use labelSelector",
            ));
        }
        let selector = self.query.get("labelSelector").map(String::as_str);
        let store = lock(&self.shared.store);
        let api_version = self.resource.api_version();
        let items = store
            .list(&api_version, &self.resource.kind, self.namespace, selector)
            .map_err(|e| match e {
                StoreError::Invalid(m) => Failure::bad_request(m),
                other => Failure::from_store(other, false),
            })?;
        let list = json!({
            "kind": format!("{}List", self.resource.kind),
            "apiVersion": api_version,
            "metadata": {"resourceVersion": store.revision().to_string()},
            "items": items,
        });
        Ok((StatusCode::OK, list))
    }

    fn create(&self) -> Answer {
        if self.resource.namespaced && self.namespace.is_none() {
            return Err(Failure::new(
                405,
                format!(
                    "create {} under /namespaces/{{ns}}/{}",
                    self.resource.kind, self.resource.plural
                ),
            ));
        }
        let mut object = body::object(self.body, &self.resource, self.namespace, None)?;
        let crd = body::crd_resources(&self.resource, &object)?;
        let mut store = lock(&self.shared.store);
        body::generate_name(&mut object, store.revision() + 1)?;
        let created = store
            .create(object)
            .map_err(|e| Failure::from_store(e, true))?;
        drop(store);
        self.shared.add_resources(crd);
        Ok((StatusCode::CREATED, created))
    }

    fn get(&self, name: &str) -> Answer {
        let object = lock(&self.shared.store)
            .get(&self.key(name))
            .map_err(|e| Failure::from_store(e, false))?;
        Ok((StatusCode::OK, object))
    }

    fn update(&self, name: &str) -> Answer {
        let object = body::object(self.body, &self.resource, self.namespace, Some(name))?;
        let updated = lock(&self.shared.store)
            .update(object)
            .map_err(|e| Failure::from_store(e, false))?;
        Ok((StatusCode::OK, updated))
    }

    fn patch(&self, name: &str) -> Answer {
        let media = self
            .content_type
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim();
        let json_patch = match media {
            "application/merge-patch+json" | "application/strategic-merge-patch+json" => false,
            "application/json-patch+json" => true,
            other => {
                return Err(Failure::new(
                    415,
                    format!(
                        "test-apiserver does not serve patch type {other:?}; use merge-patch+json or json-patch+json"
                    ),
                ));
            }
        };
        let patch = body::json(self.body)?;
        let key = self.key(name);
        let mut store = lock(&self.shared.store);
        let result = if json_patch {
            store.json_patch(&key, &patch)
        } else {
            store.merge_patch(&key, &patch)
        };
        Ok((
            StatusCode::OK,
            result.map_err(|e| Failure::from_store(e, false))?,
        ))
    }

    fn delete(&self, name: &str) -> Answer {
        let deleted = lock(&self.shared.store)
            .delete(&self.key(name))
            .map_err(|e| Failure::from_store(e, false))?;
        Ok((StatusCode::OK, deleted))
    }
}
