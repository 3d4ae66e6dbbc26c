//! The project's real CRDs (tests/crds) load and are served at their real paths.

mod common;

use serde_json::json;
use test_apiserver::{Resource, TestApiServer};

fn real_crds() -> Vec<Resource> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds");
    let mut resources = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let found = Resource::from_crd_yaml(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!found.is_empty(), "{} serves nothing", path.display());
            resources.extend(found);
        }
    }
    resources
}

#[test]
fn every_real_crd_loads() {
    let resources = real_crds();
    let rv = resources
        .iter()
        .find(|r| r.kind == "ReplicatedVolume")
        .expect("ReplicatedVolume CRD");
    assert_eq!(
        (rv.group.as_str(), rv.plural.as_str(), rv.namespaced),
        ("storage.deckhouse.io", "replicatedvolumes", false)
    );
    assert!(
        resources
            .iter()
            .any(|r| r.group == "internal.linstor.linbit.com" && r.version == "v1-19-1")
    );
}

#[test]
fn real_kinds_are_discoverable_and_writable() {
    let server = TestApiServer::start(real_crds());
    let group = common::get(server.url(), "/apis/storage.deckhouse.io").body;
    assert_eq!(group["kind"], "APIGroup");
    let node = json!({"apiVersion": "internal.linstor.linbit.com/v1-19-1", "kind": "Nodes", "metadata": {"name": "worker-0"}});
    assert_eq!(
        common::post(
            server.url(),
            "/apis/internal.linstor.linbit.com/v1-19-1/nodes",
            &node
        )
        .status,
        201
    );
    let listed = common::get(
        server.url(),
        "/apis/internal.linstor.linbit.com/v1-19-1/nodes",
    )
    .body;
    assert_eq!(listed["kind"], "NodesList");
    assert_eq!(listed["items"][0]["metadata"]["name"], "worker-0");
}
