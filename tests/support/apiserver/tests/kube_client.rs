//! kube-rs against the server: kubeconfig loading, discovery, typed and dynamic
//! APIs, and error statuses as kube-rs surfaces them.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Discovery, Scope};
use kube::{Client, Config};
use serde_json::json;
use test_apiserver::{Resource, TestApiServer};

/// Goes through the kubeconfig file, as `LiveBackend` and kubectl do.
async fn client(server: &TestApiServer, dir: &tempfile::TempDir) -> Client {
    let kubeconfig =
        Kubeconfig::read_from(server.kubeconfig(dir.path())).expect("kubeconfig parses");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    Client::try_from(config).expect("client")
}

fn api_status(error: kube::Error) -> (u16, String) {
    match error {
        kube::Error::Api(status) => (status.code, status.reason.clone()),
        other => panic!("expected an API status, got {other:?}"),
    }
}

#[tokio::test]
async fn typed_config_map_crud() {
    let server = TestApiServer::start(Resource::builtin());
    let dir = tempfile::tempdir().unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&server, &dir).await, "d8");
    let object: ConfigMap = serde_json::from_value(
        json!({"metadata": {"name": "a", "labels": {"app": "x"}}, "data": {"k": "v"}}),
    )
    .unwrap();
    let created = api.create(&PostParams::default(), &object).await.unwrap();
    assert_eq!(created.metadata.resource_version.as_deref(), Some("1"));
    assert_eq!(api.get("a").await.unwrap().data.unwrap()["k"], "v");
    let listed = api
        .list(&ListParams::default().labels("app=x"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert!(
        api.list(&ListParams::default().labels("app=y"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let patched = api
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"k": "w"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data.unwrap()["k"], "w");
    api.delete("a", &DeleteParams::default()).await.unwrap();
    assert_eq!(
        api_status(api.get("a").await.unwrap_err()),
        (404, "NotFound".into())
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.path.starts_with("/api/v1/namespaces/d8/configmaps"))
    );
}

#[tokio::test]
async fn create_conflicts_surface_as_409() {
    let server = TestApiServer::start(Resource::builtin());
    let dir = tempfile::tempdir().unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&server, &dir).await, "d8");
    let object: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "a"}})).unwrap();
    api.create(&PostParams::default(), &object).await.unwrap();
    let error = api
        .create(&PostParams::default(), &object)
        .await
        .unwrap_err();
    assert_eq!(api_status(error), (409, "AlreadyExists".into()));
    let mut stale = api.get("a").await.unwrap();
    stale.metadata.resource_version = Some("0".into());
    let error = api
        .replace("a", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    assert_eq!(api_status(error), (409, "Conflict".into()));
}

#[tokio::test]
async fn pinned_kind_discovery_and_dynamic_objects() {
    let yaml = "kind: CustomResourceDefinition\napiVersion: apiextensions.k8s.io/v1\nmetadata: {name: replicatedvolumes.storage.deckhouse.io}\n\
        spec: {group: storage.deckhouse.io, scope: Cluster, names: {kind: ReplicatedVolume, plural: replicatedvolumes},\n  \
        versions: [{name: v1alpha1, served: true, storage: true}]}\n";
    let mut resources = Resource::builtin();
    resources.extend(Resource::from_crd_yaml(yaml).unwrap());
    let server = TestApiServer::start(resources);
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, &dir).await;
    let gvk = GroupVersionKind::gvk("storage.deckhouse.io", "v1alpha1", "ReplicatedVolume");
    let (resource, caps) = discovery::pinned_kind(&client, &gvk).await.unwrap();
    assert_eq!(resource.plural, "replicatedvolumes");
    assert!(matches!(caps.scope, Scope::Cluster));
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    let object: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "storage.deckhouse.io/v1alpha1", "kind": "ReplicatedVolume",
        "metadata": {"name": "pvc-1"}, "spec": {"size": "1Gi"}
    }))
    .unwrap();
    api.create(&PostParams::default(), &object).await.unwrap();
    let merge = Patch::Merge(json!({"spec": {"size": "2Gi"}}));
    let patched = api
        .patch("pvc-1", &PatchParams::default(), &merge)
        .await
        .unwrap();
    assert_eq!(patched.data["spec"]["size"], "2Gi");
    let missing = GroupVersionKind::gvk("storage.deckhouse.io", "v1alpha1", "Nothing");
    assert!(discovery::pinned_kind(&client, &missing).await.is_err());
}

#[tokio::test]
async fn full_discovery_finds_every_group() {
    let server = TestApiServer::start(Resource::builtin());
    let discovery = Discovery::new(server.kube_client().await)
        .run()
        .await
        .unwrap();
    let (resource, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "DaemonSet"))
        .unwrap();
    assert_eq!(resource.plural, "daemonsets");
    assert!(matches!(caps.scope, Scope::Namespaced));
    assert!(
        discovery
            .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Node"))
            .is_some()
    );
}

#[tokio::test]
async fn injected_failures_reach_kube_rs() {
    let server = TestApiServer::start(Resource::builtin());
    let dir = tempfile::tempdir().unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&server, &dir).await, "d8");
    server.fail_next(1, 500);
    assert_eq!(
        api_status(api.list(&ListParams::default()).await.unwrap_err()),
        (500, "InternalError".into())
    );
    assert!(api.list(&ListParams::default()).await.is_ok());
}
