//! Collections and objects: list/create on a collection path, get/update/patch/delete
//! on an object path, with the API server's scope and body checks.
//!
//! Lists page like the real server: `limit` caps a page, `metadata.continue` names where
//! the next page starts (the last key served, so objects added or removed meanwhile never
//! make a page repeat or skip an unchanged object), and every page reports the first
//! page's resourceVersion. Field selectors cover `metadata.name` and
//! `metadata.namespace` (`=`, `==`, `!=`). `dryRun=All` on a write runs it against a
//! copy of the store: validated and answered, nothing stored.

use crate::body;
use crate::resource::Resource;
use crate::route::ObjectPath;
use crate::state::{Shared, lock};
use crate::status::Failure;
use axum::http::{Method, StatusCode};
use kube_memstore::{Key, PageQuery, StoreError};
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
        let fields = field_selector(self.query.get("fieldSelector").map(String::as_str))?;
        let limit = match self.query.get("limit").filter(|l| !l.is_empty()) {
            None => None,
            Some(l) => Some(l.parse::<usize>().map_err(|_| {
                Failure::bad_request(format!("limit {l:?} is not a non-negative integer"))
            })?)
            .filter(|l| *l > 0),
        };
        let start = match self.query.get("continue").filter(|c| !c.is_empty()) {
            None => None,
            Some(token) => Some(Continue::parse(token)?),
        };
        let selector = self.query.get("labelSelector").map(String::as_str);
        let store = lock(&self.shared.store);
        let api_version = self.resource.api_version();
        let revision = start.as_ref().map_or(store.revision(), |c| c.revision);
        let query = PageQuery {
            api_version: &api_version,
            kind: &self.resource.kind,
            namespace: self.namespace,
            label_selector: selector,
            after: start
                .as_ref()
                .map(|c| (c.after.0.as_str(), c.after.1.as_str())),
            limit,
        };
        let (page, more) = store
            .list_page(query, |o| fields.iter().all(|f| f.matches(o)))
            .map_err(|e| match e {
                StoreError::Invalid(m) => Failure::bad_request(m),
                other => Failure::from_store(other, false),
            })?;
        let mut metadata = json!({"resourceVersion": revision.to_string()});
        if more {
            let after = page.last().map(sort_key).unwrap_or_default();
            metadata["continue"] = json!(Continue { revision, after }.token());
        }
        let list = json!({
            "kind": format!("{}List", self.resource.kind),
            "apiVersion": api_version,
            "metadata": metadata,
            "items": page,
        });
        Ok((StatusCode::OK, list))
    }

    /// True for `dryRun=All`, in the query or (for a delete) in the DeleteOptions body;
    /// any other dryRun value is a 400, as on a real server.
    fn dry_run(&self) -> Result<bool, Failure> {
        let in_body = serde_json::from_slice::<Value>(self.body)
            .ok()
            .and_then(|b| b.get("dryRun").cloned())
            .and_then(|d| d.as_array().cloned());
        if let Some(values) = in_body {
            return match values.as_slice() {
                [] => Ok(false),
                [v] if v == "All" => Ok(true),
                _ => Err(Failure::bad_request(format!(
                    "invalid dry run option {values:?}; the only option is All"
                ))),
            };
        }
        match self.query.get("dryRun").map(String::as_str) {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(Failure::bad_request(format!(
                "invalid dry run option {other:?}; the only option is All"
            ))),
        }
    }

    /// Runs a write on the store, or on a throwaway copy of it for a dry run.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut kube_memstore::Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let dry = self.dry_run().unwrap_or(false);
        let mut store = lock(&self.shared.store);
        if dry {
            let mut copy = store.clone();
            f(&mut copy)
        } else {
            f(&mut store)
        }
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
        let dry = self.dry_run()?;
        let mut object = body::object(self.body, &self.resource, self.namespace, None)?;
        let crd = body::crd_resources(&self.resource, &object)?;
        let mut store = lock(&self.shared.store);
        body::generate_name(&mut object, store.revision() + 1)?;
        let created = if dry {
            store.clone().create(object)
        } else {
            store.create(object)
        }
        .map_err(|e| Failure::from_store(e, true))?;
        drop(store);
        if !dry {
            self.shared.add_resources(crd);
        }
        Ok((StatusCode::CREATED, created))
    }

    fn get(&self, name: &str) -> Answer {
        let object = lock(&self.shared.store)
            .get(&self.key(name))
            .map_err(|e| Failure::from_store(e, false))?;
        Ok((StatusCode::OK, object))
    }

    fn update(&self, name: &str) -> Answer {
        self.dry_run()?;
        let object = body::object(self.body, &self.resource, self.namespace, Some(name))?;
        let updated = self
            .write(|store| store.update(object))
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
        self.dry_run()?;
        let patch = body::json(self.body)?;
        let key = self.key(name);
        let result = self.write(|store| {
            if json_patch {
                store.json_patch(&key, &patch)
            } else {
                store.merge_patch(&key, &patch)
            }
        });
        Ok((
            StatusCode::OK,
            result.map_err(|e| Failure::from_store(e, false))?,
        ))
    }

    fn delete(&self, name: &str) -> Answer {
        self.dry_run()?;
        let key = self.key(name);
        let deleted = self
            .write(|store| store.delete(&key))
            .map_err(|e| Failure::from_store(e, false))?;
        Ok((StatusCode::OK, deleted))
    }
}

/// Where a list's next page starts: the revision of the first page, and the last
/// (namespace, name) served.
struct Continue {
    revision: u64,
    after: (String, String),
}

impl Continue {
    /// `<revision>/<namespace>/<name>`, hex-encoded so it is opaque and URL-safe.
    fn token(&self) -> String {
        let text = format!("{}/{}/{}", self.revision, self.after.0, self.after.1);
        text.bytes().map(|b| format!("{b:02x}")).collect()
    }

    fn parse(token: &str) -> Result<Self, Failure> {
        let bad = || Failure::bad_request(format!("continue token {token:?} is not valid"));
        if !token.len().is_multiple_of(2) {
            return Err(bad());
        }
        let bytes = (0..token.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&token[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut parts = text.splitn(3, '/');
        let revision = parts.next().and_then(|r| r.parse().ok()).ok_or_else(bad)?;
        let namespace = parts.next().ok_or_else(bad)?.to_owned();
        let name = parts.next().ok_or_else(bad)?.to_owned();
        Ok(Self {
            revision,
            after: (namespace, name),
        })
    }
}

/// The store's order: (namespace, name), cluster-scoped ("") first.
fn sort_key(object: &Value) -> (String, String) {
    let text = |p: &str| {
        object
            .pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    (text("/metadata/namespace"), text("/metadata/name"))
}

/// One `field=value` / `field!=value` requirement.
struct FieldRequirement {
    pointer: &'static str,
    value: String,
    equal: bool,
}

impl FieldRequirement {
    fn matches(&self, object: &Value) -> bool {
        let actual = object
            .pointer(self.pointer)
            .and_then(Value::as_str)
            .unwrap_or_default();
        (actual == self.value) == self.equal
    }
}

/// A field selector over `metadata.name` and `metadata.namespace`.
fn field_selector(text: Option<&str>) -> Result<Vec<FieldRequirement>, Failure> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(|part| {
            let (field, value, equal) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, false)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, v, true)
            } else {
                return Err(Failure::bad_request(format!(
                    "invalid field selector {part:?}: expected field=value or field!=value"
                )));
            };
            let pointer = match field.trim() {
                "metadata.name" => "/metadata/name",
                "metadata.namespace" => "/metadata/namespace",
                other => {
                    return Err(Failure::bad_request(format!(
                        "field label not supported: {other} (test-apiserver serves metadata.name and metadata.namespace)"
                    )));
                }
            };
            Ok(FieldRequirement {
                pointer,
                value: value.trim().to_owned(),
                equal,
            })
        })
        .collect()
}
