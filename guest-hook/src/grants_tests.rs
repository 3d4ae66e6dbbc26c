//! The hook's bindings and writes must be allowed by the repository's grants manifest,
//! checked with the host's own matcher: the host answers `forbidden` to anything else
//! (and refuses a binding beyond the grants at `hook config`), which would fail every run.

use crate::SeedHook;
use deckhouse_hooks_sdk::{Hook, ObjectRef};
use guest_hook_logic::sync::configmap_object;
use hooks_manifest::{Grants, Manifest, Verb};

fn grants() -> Grants {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let manifest =
        Manifest::load(std::path::Path::new(root)).expect("grants.yaml at the repository root");
    manifest
        .guest("control-plane-migration-state-sync")
        .expect("the state-sync guest is listed")
        .grants()
}

#[test]
fn every_binding_may_be_watched_and_its_object_read() {
    let grants = grants();
    for b in SeedHook::config().kubernetes {
        let namespaces = b.namespace.map(|n| n.match_names).unwrap_or_default();
        assert!(
            grants.allows_watch(&b.api_version, &b.kind, &namespaces, &b.name_selector),
            "binding {} watches beyond its grants",
            b.name
        );
        let target = ObjectRef {
            api_version: b.api_version.clone(),
            kind: b.kind.clone(),
            namespace: namespaces.first().cloned(),
            name: b.name_selector[0].clone(),
        };
        assert!(
            grants.allows(Verb::Get, &target),
            "no get grant for {target}"
        );
    }
}

#[test]
fn the_configmap_may_be_created() {
    let target = ObjectRef::of(&configmap_object("not_started")).unwrap();
    assert!(grants().allows(Verb::Create, &target));
}
