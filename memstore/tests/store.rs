//! The store's API-server rules, one behaviour (and each error path) per test.

use kube_memstore::{Key, Store, StoreError};
use serde_json::{Value, json};

fn cm(namespace: &str, name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}}, "data": data})
}

fn key(namespace: &str, name: &str) -> Key {
    Key {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: Some(namespace.into()),
        name: name.into(),
    }
}

fn rv(object: &Value) -> u64 {
    object["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion is a string")
        .parse()
        .unwrap()
}

fn store_with(objects: &[Value]) -> Store {
    let mut store = Store::new();
    for object in objects {
        store.create(object.clone()).unwrap();
    }
    store
}

#[test]
fn create_stamps_server_metadata_and_get_returns_it() {
    let mut store = Store::new();
    let created = store.create(cm("ns", "a", json!({"k": "v"}))).unwrap();
    let meta = &created["metadata"];
    assert_eq!(meta["resourceVersion"], "1");
    assert_eq!(meta["generation"], 1);
    assert!(
        meta["uid"].as_str().is_some_and(|u| u.len() == 36),
        "{meta}"
    );
    assert!(
        meta["creationTimestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{meta}"
    );
    assert_eq!(store.get(&key("ns", "a")).unwrap(), created);
    assert_eq!(store.len(), 1);
    assert!(!store.is_empty());
}

#[test]
fn create_overwrites_client_sent_server_fields() {
    let mut object = cm("ns", "a", json!({}));
    object["metadata"]["resourceVersion"] = json!("999");
    object["metadata"]["uid"] = json!("from-another-cluster");
    let created = Store::new().create(object).unwrap();
    assert_eq!(created["metadata"]["resourceVersion"], "1");
    assert_ne!(created["metadata"]["uid"], "from-another-cluster");
}

#[test]
fn create_twice_is_conflict() {
    let mut store = store_with(&[cm("ns", "a", json!({}))]);
    let error = store
        .create(cm("ns", "a", json!({"other": "x"})))
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Conflict(m) if m.contains("already exists")),
        "{error:?}"
    );
    assert_eq!(
        store.get(&key("ns", "a")).unwrap()["data"],
        json!({}),
        "the first object stays"
    );
}

#[test]
fn same_name_in_other_namespace_or_kind_is_distinct() {
    let mut store = store_with(&[cm("ns", "a", json!({}))]);
    store.create(cm("other", "a", json!({}))).unwrap();
    store.create(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a", "namespace": "ns"}})).unwrap();
    assert_eq!(store.len(), 3);
}

#[test]
fn create_rejects_objects_without_identity() {
    let mut store = Store::new();
    for bad in [
        json!("text"),
        json!({"apiVersion": "v1", "kind": "ConfigMap"}),
        json!({"kind": "X", "metadata": {"name": "a"}}),
    ] {
        assert!(matches!(store.create(bad), Err(StoreError::Invalid(_))));
    }
    assert!(store.is_empty());
}

#[test]
fn get_missing_is_not_found_naming_the_object() {
    let error = Store::new().get(&key("ns", "ghost")).unwrap_err();
    assert!(
        matches!(&error, StoreError::NotFound(m) if m.contains("ns/ghost")),
        "{error:?}"
    );
}

#[test]
fn resource_versions_are_a_global_counter_bumped_by_every_write() {
    let mut store = store_with(&[cm("ns", "a", json!({})), cm("ns", "b", json!({}))]);
    assert_eq!(rv(&store.get(&key("ns", "b")).unwrap()), 2);
    let patched = store
        .merge_patch(&key("ns", "a"), &json!({"data": {"x": "1"}}))
        .unwrap();
    assert_eq!(rv(&patched), 3);
    store.delete(&key("ns", "b")).unwrap();
    let created = store.create(cm("ns", "c", json!({}))).unwrap();
    assert_eq!(rv(&created), 5, "delete counts as a write");
    assert_eq!(store.revision(), 5);
}

#[test]
fn list_filters_by_kind_namespace_and_labels_sorted() {
    let store = store_with(&[
        cm("z", "b", json!({})),
        cm("a", "c", json!({})),
        cm("z", "a", json!({})),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "a"}}),
    ]);
    let names = |items: Vec<Value>| -> Vec<String> {
        items
            .iter()
            .map(|o| {
                format!(
                    "{}/{}",
                    o["metadata"]["namespace"].as_str().unwrap(),
                    o["metadata"]["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        names(store.list("v1", "ConfigMap", None, None).unwrap()),
        ["a/c", "z/a", "z/b"]
    );
    assert_eq!(
        names(store.list("v1", "ConfigMap", Some("z"), None).unwrap()),
        ["z/a", "z/b"]
    );
    assert_eq!(
        names(
            store
                .list("v1", "ConfigMap", None, Some("app in (a,c)"))
                .unwrap()
        ),
        ["a/c", "z/a"]
    );
    assert_eq!(
        names(
            store
                .list("v1", "ConfigMap", Some("z"), Some("app!=a"))
                .unwrap()
        ),
        ["z/b"]
    );
    assert!(
        store
            .list("v2", "ConfigMap", None, None)
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list("v1", "ConfigMap", Some("none"), None)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn list_with_bad_selector_is_invalid() {
    let store = store_with(&[cm("ns", "a", json!({}))]);
    assert!(
        matches!(store.list("v1", "ConfigMap", None, Some("app=")), Ok(items) if items.is_empty())
    );
    assert!(matches!(
        store.list("v1", "ConfigMap", None, Some("app in x")),
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn update_replaces_and_keeps_identity_fields() {
    let mut store = store_with(&[cm("ns", "a", json!({"k": "1"}))]);
    let before = store.get(&key("ns", "a")).unwrap();
    let mut next = cm("ns", "a", json!({"k": "2"}));
    next["metadata"]["resourceVersion"] = before["metadata"]["resourceVersion"].clone();
    let after = store.update(next).unwrap();
    assert_eq!(after["data"], json!({"k": "2"}));
    assert_eq!(after["metadata"]["uid"], before["metadata"]["uid"]);
    assert_eq!(
        after["metadata"]["creationTimestamp"],
        before["metadata"]["creationTimestamp"]
    );
    assert_eq!(after["metadata"]["generation"], 2);
    assert!(rv(&after) > rv(&before));
}

#[test]
fn update_without_resource_version_is_unconditional() {
    let mut store = store_with(&[cm("ns", "a", json!({}))]);
    assert!(store.update(cm("ns", "a", json!({"k": "v"}))).is_ok());
}

#[test]
fn update_with_stale_resource_version_is_conflict_and_changes_nothing() {
    let mut store = store_with(&[cm("ns", "a", json!({}))]);
    let mut stale = cm("ns", "a", json!({"k": "v"}));
    stale["metadata"]["resourceVersion"] = json!("0");
    let error = store.update(stale).unwrap_err();
    assert!(
        matches!(&error, StoreError::Conflict(m) if m.contains("modified")),
        "{error:?}"
    );
    assert_eq!(store.get(&key("ns", "a")).unwrap()["data"], json!({}));
    assert_eq!(store.revision(), 1);
}

#[test]
fn update_of_missing_object_is_not_found() {
    assert!(matches!(
        Store::new().update(cm("ns", "a", json!({}))),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn update_of_bad_object_is_invalid() {
    assert!(matches!(
        Store::new().update(json!(null)),
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn merge_patch_follows_rfc_7386() {
    let mut store = store_with(&[cm("ns", "a", json!({"keep": "1", "drop": "2"}))]);
    let patched = store
        .merge_patch(
            &key("ns", "a"),
            &json!({"data": {"drop": null, "new": "3"}, "metadata": {"labels": {"x": "y"}}}),
        )
        .unwrap();
    assert_eq!(patched["data"], json!({"keep": "1", "new": "3"}));
    assert_eq!(patched["metadata"]["labels"], json!({"app": "a", "x": "y"}));
    assert_eq!(store.get(&key("ns", "a")).unwrap(), patched);
}

#[test]
fn merge_patch_resource_version_is_a_precondition() {
    let mut store = store_with(&[cm("ns", "a", json!({}))]);
    let stale = json!({"metadata": {"resourceVersion": "7"}, "data": {"k": "v"}});
    assert!(matches!(
        store.merge_patch(&key("ns", "a"), &stale),
        Err(StoreError::Conflict(_))
    ));
    let fresh = json!({"metadata": {"resourceVersion": "1"}, "data": {"k": "v"}});
    let patched = store.merge_patch(&key("ns", "a"), &fresh).unwrap();
    assert_eq!(patched["metadata"]["resourceVersion"], "2");
}

#[test]
fn merge_patch_of_missing_object_is_not_found() {
    assert!(matches!(
        Store::new().merge_patch(&key("ns", "a"), &json!({})),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn patches_cannot_change_identity() {
    let mut store = store_with(&[cm("ns", "a", json!({}))]);
    let k = key("ns", "a");
    for patch in [
        json!({"metadata": {"name": "b"}}),
        json!({"metadata": {"namespace": "other"}}),
        json!({"kind": "Secret"}),
        json!({"apiVersion": "v2"}),
        json!({"metadata": null}),
        json!("not an object"),
    ] {
        let error = store.merge_patch(&k, &patch).unwrap_err();
        assert!(
            matches!(error, StoreError::Invalid(_)),
            "{patch}: {error:?}"
        );
    }
    let rename = json!([{"op": "replace", "path": "/metadata/name", "value": "b"}]);
    assert!(
        matches!(store.json_patch(&k, &rename), Err(StoreError::Invalid(m)) if m.contains("cannot change"))
    );
    assert_eq!(store.revision(), 1, "rejected patches write nothing");
}

#[test]
fn json_patch_applies_operations() {
    let mut store = store_with(&[cm("ns", "a", json!({"k": "1"}))]);
    let patch = json!([
        {"op": "test", "path": "/metadata/resourceVersion", "value": "1"},
        {"op": "replace", "path": "/data/k", "value": "2"},
        {"op": "add", "path": "/data/n", "value": "3"}
    ]);
    let patched = store.json_patch(&key("ns", "a"), &patch).unwrap();
    assert_eq!(patched["data"], json!({"k": "2", "n": "3"}));
    assert_eq!(patched["metadata"]["resourceVersion"], "2");
}

#[test]
fn json_patch_failed_test_is_conflict() {
    let mut store = store_with(&[cm("ns", "a", json!({"k": "1"}))]);
    let patch = json!([{"op": "test", "path": "/data/k", "value": "0"}, {"op": "remove", "path": "/data/k"}]);
    assert!(matches!(
        store.json_patch(&key("ns", "a"), &patch),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.get(&key("ns", "a")).unwrap()["data"],
        json!({"k": "1"})
    );
}

#[test]
fn json_patch_malformed_or_unappliable_is_invalid() {
    let mut store = store_with(&[cm("ns", "a", json!({}))]);
    for patch in [
        json!({"op": "add"}),
        json!([{"op": "frobnicate", "path": "/x"}]),
        json!([{"op": "remove", "path": "/data/missing"}]),
        json!([{"op": "add", "path": "/no/such/parent", "value": 1}]),
    ] {
        let error = store.json_patch(&key("ns", "a"), &patch).unwrap_err();
        assert!(
            matches!(error, StoreError::Invalid(_)),
            "{patch}: {error:?}"
        );
    }
}

#[test]
fn json_patch_of_missing_object_is_not_found() {
    assert!(matches!(
        Store::new().json_patch(&key("ns", "a"), &json!([])),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn delete_returns_the_object_and_second_delete_is_not_found() {
    let mut store = store_with(&[cm("ns", "a", json!({"k": "v"}))]);
    let deleted = store.delete(&key("ns", "a")).unwrap();
    assert_eq!(deleted["data"], json!({"k": "v"}));
    assert!(store.is_empty());
    assert!(matches!(
        store.delete(&key("ns", "a")),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.get(&key("ns", "a")),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn objects_iterates_in_key_order() {
    let store = store_with(&[
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}}),
        cm("b", "x", json!({})),
        cm("a", "x", json!({})),
    ]);
    let kinds: Vec<String> = store
        .objects()
        .map(|o| {
            format!(
                "{}:{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["namespace"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(kinds, ["ConfigMap:a", "ConfigMap:b", "Node:-"]);
}

#[test]
fn calls_count_every_served_call_including_failures() {
    let mut store = Store::new();
    store.create(cm("ns", "a", json!({}))).unwrap();
    let _ = store.get(&key("ns", "a"));
    let _ = store.get(&key("ns", "missing"));
    let _ = store.list("v1", "ConfigMap", None, None);
    let _ = store.merge_patch(&key("ns", "a"), &json!({}));
    let _ = store.json_patch(&key("ns", "a"), &json!([]));
    let _ = store.update(cm("ns", "a", json!({})));
    let _ = store.delete(&key("ns", "a"));
    assert_eq!(store.calls(), 8);
    let _ = store.len();
    let _ = store.objects().count();
    assert_eq!(store.calls(), 8, "inspection is not a served call");
}

#[test]
fn clones_are_independent() {
    let mut store = store_with(&[cm("ns", "a", json!({}))]);
    let snapshot = store.clone();
    store.delete(&key("ns", "a")).unwrap();
    assert_eq!(snapshot.len(), 1);
}
