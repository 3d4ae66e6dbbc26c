//! The hook and the test shown in README's "Writing a guest with the SDK", compiled and
//! run, so the manual cannot drift from the SDK.

use deckhouse_hooks_sdk::prelude::*;
use deckhouse_hooks_sdk::testkit::HookTest;

pub struct CountNodes;

#[derive(Deserialize)]
struct Node {
    name: String,
}

impl Hook for CountNodes {
    const VALUES_KEY: &'static str = "myModule"; // module.valuesKey in grants.yaml

    fn config() -> HookConfig {
        HookConfig::new()
            .before_helm(10)
            .kubernetes(KubeBinding::new("nodes", "v1", "Node").jq_filter("{name: .metadata.name}"))
    }

    fn run(input: &mut HookInput) -> Result<(), Error> {
        let nodes: Vec<Node> = input.snapshots.get("nodes")?; // filterResult or object
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        input.values.set("internal.nodes", &names)?; // below myModule
        input
            .metrics
            .group("d8_my_module")
            .set("d8_my_module_nodes", names.len() as f64, &[]);
        input
            .log
            .info("counted nodes", &[("count", &names.len().to_string())]);
        if names.is_empty() {
            input
                .kube
                .create_if_not_exists(&json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"namespace": "d8-my-module", "name": "no-nodes"}}))?;
        }
        Ok(())
    }
}

deckhouse_hooks_sdk::export_hook!(CountNodes);

#[test]
fn counts_nodes() {
    let run = HookTest::<CountNodes>::new()
        .cluster("apiVersion: v1\nkind: Node\nmetadata: {name: a}\n") // KubeStateSet
        .filter("nodes", |o| json!({"name": o["metadata"]["name"]})) // jqFilter, natively
        .run(); // RunHook
    assert_eq!(run.value("internal.nodes"), Some(json!(["a"]))); // ValuesGet
    assert!(run.kubernetes_patch().is_empty()); // object operations
    assert_eq!(run.metrics().unwrap()[0]["value"], 1.0);
}

#[test]
fn no_nodes_creates_the_configmap() {
    let run = HookTest::<CountNodes>::new()
        .filter("nodes", |o| o.clone())
        .run();
    assert_eq!(run.value("internal.nodes"), Some(json!([])));
    assert_eq!(run.kubernetes_patch()[0]["operation"], "CreateIfNotExists");
    let created = ObjectRef::namespaced("v1", "ConfigMap", "d8-my-module", "no-nodes");
    assert!(run.object(&created).is_some());
}

#[test]
fn a_jq_binding_without_a_native_filter_is_a_clear_failure() {
    let Err(panic) = std::panic::catch_unwind(|| HookTest::<CountNodes>::new().run()) else {
        panic!("running a jq binding without a filter must fail");
    };
    let message = *panic.downcast::<String>().unwrap();
    assert!(
        message.contains("jqFilter") && message.contains("HookTest::filter"),
        "{message}"
    );
}
