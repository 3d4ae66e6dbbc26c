//! Discovery documents, so kube-rs (`pinned_kind`, `Discovery::run`) and kubectl
//! can resolve kinds to paths against the test server.

use crate::resource::{Resource, version_priority};
use crate::status::Failure;
use serde_json::{Value, json};

/// `/api`: the core group's versions.
pub fn core_versions(resources: &[Resource], server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": versions_of(resources, ""),
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

/// `/apis`: every named group.
pub fn groups(resources: &[Resource]) -> Value {
    let mut names: Vec<&str> = resources
        .iter()
        .map(|r| r.group.as_str())
        .filter(|g| !g.is_empty())
        .collect();
    names.sort_unstable();
    names.dedup();
    let groups: Vec<Value> = names
        .into_iter()
        .map(|name| group_body(resources, name))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`.
pub fn group(resources: &[Resource], name: &str) -> Result<Value, Failure> {
    if name.is_empty() || !resources.iter().any(|r| r.group == name) {
        return Err(Failure::not_found(format!(
            "the server could not find the requested resource: API group {name:?}"
        )));
    }
    let mut body = group_body(resources, name);
    body["kind"] = json!("APIGroup");
    body["apiVersion"] = json!("v1");
    Ok(body)
}

/// `/api/{v}` and `/apis/{group}/{v}`: the kinds served at one group version.
pub fn resource_list(resources: &[Resource], group: &str, version: &str) -> Result<Value, Failure> {
    let served: Vec<Value> = resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .map(|r| {
            json!({
                "name": r.plural,
                "singularName": r.kind.to_lowercase(),
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["create", "delete", "get", "list", "patch", "update"],
            })
        })
        .collect();
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    if served.is_empty() {
        return Err(Failure::not_found(format!(
            "the server could not find the requested resource: {group_version}"
        )));
    }
    Ok(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": served}),
    )
}

/// `/version`.
pub fn version() -> Value {
    json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0-test-apiserver", "platform": "linux/amd64"})
}

fn group_body(resources: &[Resource], name: &str) -> Value {
    let versions: Vec<Value> = versions_of(resources, name)
        .into_iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": name, "versions": versions, "preferredVersion": preferred})
}

/// Distinct versions of a group, most preferred first.
fn versions_of<'a>(resources: &'a [Resource], group: &str) -> Vec<&'a str> {
    let mut versions: Vec<&str> = resources
        .iter()
        .filter(|r| r.group == group)
        .map(|r| r.version.as_str())
        .collect();
    versions.sort_by(|a, b| version_priority(a, b));
    versions.dedup();
    versions
}
