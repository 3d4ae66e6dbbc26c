//! The server on the wire: paths, verbs, Status bodies and faults.

mod common;

use common::{assert_status, delete, get, patch, post, put, send};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use test_apiserver::{Resource, TOKEN, TestApiServer};

const CM: &str = "/api/v1/namespaces/d8/configmaps";

fn server() -> TestApiServer {
    TestApiServer::start(Resource::builtin())
}

fn cm(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"k": "v"}})
}

#[test]
fn discovery_documents_describe_served_kinds() {
    let server = server();
    let core = get(server.url(), "/api");
    assert_eq!(core.body["kind"], "APIVersions");
    assert_eq!(core.body["versions"], json!(["v1"]));
    let v1 = get(server.url(), "/api/v1").body;
    let cm = v1["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "ConfigMap")
        .unwrap();
    assert_eq!(
        (cm["name"].clone(), cm["namespaced"].clone()),
        (json!("configmaps"), json!(true))
    );
    let groups = get(server.url(), "/apis").body;
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["apiextensions.k8s.io", "apps", "batch", "storage.k8s.io"]
    );
    let storage = get(server.url(), "/apis/storage.k8s.io").body;
    assert_eq!(
        storage["preferredVersion"]["groupVersion"],
        "storage.k8s.io/v1"
    );
    let list = get(server.url(), "/apis/storage.k8s.io/v1").body;
    assert_eq!(list["groupVersion"], "storage.k8s.io/v1");
    assert_eq!(list["resources"][0]["namespaced"], false);
}

#[test]
fn unknown_paths_and_groups_are_status_404() {
    let server = server();
    for path in [
        "/",
        "/apis/nope",
        "/apis/nope/v1",
        "/api/v2",
        "/api/v1/widgets",
        "/api/v1/nodes/n/status",
        "/apis/apps/v1/namespaces/x/nothings",
    ] {
        assert_status(&get(server.url(), path), 404, "NotFound");
    }
}

#[test]
fn preferred_version_follows_kubernetes_priority() {
    let server = TestApiServer::start(vec![
        Resource::new("example.com", "v1alpha1", "Widget", "widgets", true),
        Resource::new("example.com", "v1", "Widget", "widgets", true),
    ]);
    let group = get(server.url(), "/apis/example.com").body;
    assert_eq!(group["preferredVersion"]["version"], "v1");
    assert_eq!(group["versions"][1]["version"], "v1alpha1");
}

#[test]
fn create_get_list_delete_round_trip() {
    let server = server();
    let created = post(server.url(), CM, &cm("a", json!({"app": "x"})));
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body["metadata"]["namespace"], "d8",
        "namespace comes from the path"
    );
    assert_eq!(created.body["metadata"]["resourceVersion"], "1");
    post(server.url(), CM, &cm("b", json!({"app": "y"})));
    let one = get(server.url(), &format!("{CM}/a"));
    assert_eq!((one.status, one.body.clone()), (200, created.body.clone()));
    let list = get(server.url(), &format!("{CM}?labelSelector=app%3Dy")).body;
    assert_eq!(list["kind"], "ConfigMapList");
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(list["metadata"]["resourceVersion"], "2");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["metadata"]["name"], "b");
    let all_namespaces = get(server.url(), "/api/v1/configmaps").body;
    assert_eq!(all_namespaces["items"].as_array().unwrap().len(), 2);
    let deleted = delete(server.url(), &format!("{CM}/a"));
    assert_eq!(
        (deleted.status, deleted.body["metadata"]["name"].clone()),
        (200, json!("a"))
    );
    assert_status(&delete(server.url(), &format!("{CM}/a")), 404, "NotFound");
    assert_status(&get(server.url(), &format!("{CM}/a")), 404, "NotFound");
}

#[test]
fn bad_label_selector_is_400() {
    let server = server();
    assert_status(
        &get(server.url(), &format!("{CM}?labelSelector=app%20in%20x")),
        400,
        "BadRequest",
    );
}

#[test]
fn watch_and_unsupported_field_selectors_are_refused_not_ignored() {
    let server = server();
    assert_status(
        &get(server.url(), &format!("{CM}?watch=true")),
        400,
        "BadRequest",
    );
    // metadata.name and metadata.namespace are served (as by every kind of the real API
    // server); any other field is refused rather than silently ignored.
    assert_status(
        &get(
            server.url(),
            &format!("{CM}?fieldSelector=status.phase%3DDone"),
        ),
        400,
        "BadRequest",
    );
}

#[test]
fn create_existing_is_409_already_exists() {
    let server = server();
    post(server.url(), CM, &cm("a", json!({})));
    assert_status(
        &post(server.url(), CM, &cm("a", json!({}))),
        409,
        "AlreadyExists",
    );
}

#[test]
fn bodies_must_agree_with_the_path() {
    let server = server();
    let mut other_ns = cm("a", json!({}));
    other_ns["metadata"]["namespace"] = json!("elsewhere");
    assert_status(&post(server.url(), CM, &other_ns), 400, "BadRequest");
    let mut wrong_kind = cm("a", json!({}));
    wrong_kind["kind"] = json!("Secret");
    assert_status(&post(server.url(), CM, &wrong_kind), 400, "BadRequest");
    assert_status(
        &send(
            server.url(),
            "POST",
            CM,
            Some("application/json"),
            Some("{nope"),
            None,
        ),
        400,
        "BadRequest",
    );
    assert_status(&post(server.url(), CM, &json!([1])), 400, "BadRequest");
    assert_status(
        &post(server.url(), CM, &json!({"metadata": {}})),
        422,
        "Invalid",
    );
    post(server.url(), CM, &cm("a", json!({})));
    assert_status(
        &put(server.url(), &format!("{CM}/b"), &cm("a", json!({}))),
        400,
        "BadRequest",
    );
}

#[test]
fn identity_is_filled_from_the_path_and_generate_name_works() {
    let server = server();
    let bare = post(
        server.url(),
        CM,
        &json!({"metadata": {"generateName": "job-"}}),
    );
    assert_eq!(bare.status, 201, "{}", bare.body);
    assert_eq!(bare.body["apiVersion"], "v1");
    assert_eq!(bare.body["kind"], "ConfigMap");
    assert!(
        bare.body["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("job-")
    );
}

#[test]
fn scope_mismatches_are_404() {
    let server = server();
    assert_status(
        &get(server.url(), "/api/v1/namespaces/d8/nodes/n"),
        404,
        "NotFound",
    );
    assert_status(&get(server.url(), "/api/v1/configmaps/a"), 404, "NotFound");
    assert_status(
        &post(server.url(), "/api/v1/configmaps", &cm("a", json!({}))),
        405,
        "MethodNotAllowed",
    );
}

#[test]
fn cluster_scoped_objects_drop_a_namespace() {
    let server = server();
    let node =
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "namespace": "x"}});
    let created = post(server.url(), "/api/v1/nodes", &node);
    assert_eq!(created.status, 201);
    assert_eq!(created.body["metadata"].get("namespace"), None);
    assert_eq!(get(server.url(), "/api/v1/nodes/n1").status, 200);
}

#[test]
fn put_checks_resource_version() {
    let server = server();
    let created = post(server.url(), CM, &cm("a", json!({}))).body;
    let mut stale = created.clone();
    stale["metadata"]["resourceVersion"] = json!("999");
    assert_status(
        &put(server.url(), &format!("{CM}/a"), &stale),
        409,
        "Conflict",
    );
    let mut fresh = created;
    fresh["data"] = json!({"k": "new"});
    let updated = put(server.url(), &format!("{CM}/a"), &fresh);
    assert_eq!(
        (updated.status, updated.body["data"]["k"].clone()),
        (200, json!("new"))
    );
    assert_status(
        &put(
            server.url(),
            &format!("{CM}/missing"),
            &cm("missing", json!({})),
        ),
        404,
        "NotFound",
    );
}

#[test]
fn patch_content_types() {
    let server = server();
    post(server.url(), CM, &cm("a", json!({})));
    let path = format!("{CM}/a");
    let merged = patch(
        server.url(),
        &path,
        "application/merge-patch+json",
        &json!({"data": {"m": "1"}}),
    );
    assert_eq!(merged.body["data"], json!({"k": "v", "m": "1"}));
    let strategic = patch(
        server.url(),
        &path,
        "application/strategic-merge-patch+json; charset=utf-8",
        &json!({"data": {"s": "1"}}),
    );
    assert_eq!(strategic.body["data"]["s"], "1");
    let ops = json!([{"op": "remove", "path": "/data/k"}]);
    let json_patched = patch(server.url(), &path, "application/json-patch+json", &ops);
    assert_eq!(json_patched.body["data"], json!({"m": "1", "s": "1"}));
    assert_status(
        &patch(
            server.url(),
            &path,
            "application/apply-patch+yaml",
            &json!({}),
        ),
        415,
        "UnsupportedMediaType",
    );
    assert_status(
        &send(server.url(), "PATCH", &path, None, Some("{}"), None),
        415,
        "UnsupportedMediaType",
    );
}

#[test]
fn patch_errors_map_to_status() {
    let server = server();
    post(server.url(), CM, &cm("a", json!({})));
    let path = format!("{CM}/a");
    let failed_test = json!([{"op": "test", "path": "/data/k", "value": "other"}]);
    assert_status(
        &patch(
            server.url(),
            &path,
            "application/json-patch+json",
            &failed_test,
        ),
        409,
        "Conflict",
    );
    let stale = json!({"metadata": {"resourceVersion": "77"}});
    assert_status(
        &patch(server.url(), &path, "application/merge-patch+json", &stale),
        409,
        "Conflict",
    );
    let rename = json!({"metadata": {"name": "b"}});
    assert_status(
        &patch(server.url(), &path, "application/merge-patch+json", &rename),
        422,
        "Invalid",
    );
    assert_status(
        &patch(
            server.url(),
            &format!("{CM}/ghost"),
            "application/merge-patch+json",
            &json!({}),
        ),
        404,
        "NotFound",
    );
}

#[test]
fn unsupported_methods_are_405() {
    let server = server();
    assert_status(
        &send(server.url(), "PUT", CM, None, None, None),
        405,
        "MethodNotAllowed",
    );
    assert_status(
        &send(server.url(), "POST", "/api/v1", None, None, None),
        405,
        "MethodNotAllowed",
    );
}

#[test]
fn tokens_are_checked_when_sent() {
    let server = server();
    assert_eq!(
        send(server.url(), "GET", CM, None, None, Some(TOKEN)).status,
        200
    );
    assert_status(
        &send(server.url(), "GET", CM, None, None, Some("stolen")),
        401,
        "Unauthorized",
    );
}

#[test]
fn fail_next_answers_the_next_requests_then_recovers() {
    let server = server();
    server.fail_next(2, 500);
    server.fail_next(1, 429);
    assert_status(&get(server.url(), CM), 500, "InternalError");
    assert_status(&get(server.url(), CM), 500, "InternalError");
    assert_status(
        &post(server.url(), CM, &cm("a", json!({}))),
        429,
        "TooManyRequests",
    );
    assert!(
        server.store().lock().unwrap().is_empty(),
        "a faulted create is not served"
    );
    assert_eq!(get(server.url(), CM).status, 200);
    assert_eq!(server.request_count(), 4);
}

#[test]
fn crash_after_answers_503_until_healed() {
    let server = server();
    get(server.url(), CM);
    server.crash_after(2);
    assert_eq!(post(server.url(), CM, &cm("a", json!({}))).status, 201);
    assert_eq!(get(server.url(), CM).status, 200);
    assert_status(
        &post(server.url(), CM, &cm("b", json!({}))),
        503,
        "ServiceUnavailable",
    );
    assert_status(&get(server.url(), "/api/v1"), 503, "ServiceUnavailable");
    assert_eq!(server.store().lock().unwrap().len(), 1);
    server.heal();
    assert_eq!(get(server.url(), CM).status, 200);
}

#[test]
fn delay_next_slows_only_the_next_requests() {
    let server = server();
    server.delay_next(1, Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(get(server.url(), CM).status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    get(server.url(), CM);
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[test]
fn requests_are_recorded_with_content_type() {
    let server = server();
    patch(
        server.url(),
        &format!("{CM}/a?fieldManager=x"),
        "application/merge-patch+json",
        &json!({}),
    );
    let record = &server.requests()[0];
    assert_eq!(
        (record.method.as_str(), record.path.as_str()),
        ("PATCH", "/api/v1/namespaces/d8/configmaps/a")
    );
    assert_eq!(record.query.as_deref(), Some("fieldManager=x"));
    assert_eq!(
        record.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
}

#[test]
fn objects_seeded_in_the_store_are_served() {
    let server = server();
    server
        .store()
        .lock()
        .unwrap()
        .create(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}))
        .unwrap();
    assert_eq!(
        get(server.url(), "/api/v1/nodes/n1").body["metadata"]["name"],
        "n1"
    );
}

#[test]
fn created_crds_become_servable() {
    let server = server();
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Widget", "plural": "widgets"},
                 "versions": [{"name": "v1", "served": true, "storage": true}]}
    });
    assert_status(
        &get(server.url(), "/apis/example.com/v1/namespaces/d8/widgets"),
        404,
        "NotFound",
    );
    assert_eq!(
        post(
            server.url(),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            &crd
        )
        .status,
        201
    );
    let widget =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
    assert_eq!(
        post(
            server.url(),
            "/apis/example.com/v1/namespaces/d8/widgets",
            &widget
        )
        .status,
        201
    );
    let broken = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "b"}, "spec": {}});
    assert_status(
        &post(
            server.url(),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            &broken,
        ),
        422,
        "Invalid",
    );
}

#[test]
fn crd_yaml_resources_are_served() {
    let yaml = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: rvs.storage.deckhouse.io}\n\
        spec:\n  group: storage.deckhouse.io\n  scope: Cluster\n  names: {kind: ReplicatedVolume, plural: replicatedvolumes}\n  \
        versions: [{name: v1alpha1, served: true, storage: true}]\n";
    let server = TestApiServer::start(Resource::from_crd_yaml(yaml).unwrap());
    let rv = json!({"apiVersion": "storage.deckhouse.io/v1alpha1", "kind": "ReplicatedVolume", "metadata": {"name": "pvc-1"}});
    assert_eq!(
        post(
            server.url(),
            "/apis/storage.deckhouse.io/v1alpha1/replicatedvolumes",
            &rv
        )
        .status,
        201
    );
    assert_eq!(
        get(
            server.url(),
            "/apis/storage.deckhouse.io/v1alpha1/replicatedvolumes/pvc-1"
        )
        .status,
        200
    );
}

#[test]
fn kubeconfig_points_at_the_server() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(server.kubeconfig(dir.path())).unwrap();
    let config: Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(config["clusters"][0]["cluster"]["server"], server.url());
    assert_eq!(config["users"][0]["user"]["token"], TOKEN);
    assert_eq!(config["current-context"], "test");
}

#[test]
fn dropping_the_server_frees_its_port() {
    let server = server();
    let address = server.url().trim_start_matches("http://").to_owned();
    drop(server);
    assert!(std::net::TcpStream::connect(address).is_err());
}
