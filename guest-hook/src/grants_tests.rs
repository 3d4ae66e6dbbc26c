//! The hook's bindings and writes must be allowed by the repository's grants manifest:
//! the host answers `forbidden` to anything else, which would fail every run.

use guest_hook_logic::bindings::{CONFIG_MAP, SPEC};
use guest_hook_logic::env::ObjectRef;
use serde_yaml::Value;

const GUEST: &str = "control-plane-migration-state-sync";

fn grants() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../grants.yaml");
    let text = std::fs::read_to_string(path).expect("grants.yaml at the repository root");
    let manifest: Value = serde_yaml::from_str(&text).expect("grants.yaml is YAML");
    let guests = manifest["guests"]
        .as_sequence()
        .expect("grants.yaml lists guests");
    let guest = guests
        .iter()
        .find(|g| g["name"].as_str() == Some(GUEST))
        .expect("the state-sync guest is listed");
    guest["grants"].as_sequence().cloned().unwrap_or_default()
}

fn allows(grant: &Value, verb: &str, target: &ObjectRef) -> bool {
    let has = |key: &str, want: &str| {
        grant[key]
            .as_sequence()
            .is_some_and(|s| s.iter().any(|v| v.as_str() == Some(want)))
    };
    has("verbs", verb)
        && grant["apiVersion"].as_str() == Some(target.api_version)
        && grant["kind"].as_str() == Some(target.kind)
        && grant["namespace"].as_str() == target.namespace
        && (grant["names"].is_null() || has("names", target.name))
}

#[test]
fn every_binding_may_be_read() {
    let grants = grants();
    for binding in SPEC.kubernetes {
        for target in std::iter::once(binding.target).chain(binding.canary) {
            for verb in ["get", "list"] {
                assert!(
                    grants.iter().any(|g| allows(g, verb, &target)),
                    "no {verb} grant for {target}"
                );
            }
        }
    }
}

#[test]
fn the_configmap_may_be_created() {
    assert!(grants().iter().any(|g| allows(g, "create", &CONFIG_MAP)));
}
