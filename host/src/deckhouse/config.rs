//! A guest's Deckhouse configuration: a hook's own bindings, checked against its read
//! grants, or a render guest's beforeHelm order; and the whole `hook config` document.

use crate::capabilities::grants::Grants;
use crate::capabilities::kubernetes::KubeCtx;
use crate::capabilities::log::LogCtx;
use crate::capabilities::snapshot::SnapshotBackend;
use crate::error::{HostError, Result};
use crate::manifest::{Guest, World};
use crate::protocol::hook_config::{self, Form, HookConfig};
use crate::protocol::jq_policy;
use crate::runtime::convert;
use crate::runtime::guest::Runtime;
use crate::runtime::state::Imports;
use serde_json::{Value, json};

/// The readiness interval module-sdk uses when none is given.
const DEFAULT_READINESS_SECONDS: u32 = 15;

/// A guest's configuration. A hook's bindings may only watch what its grants let it list.
pub fn guest_config(runtime: &Runtime, guest: &Guest) -> Result<HookConfig> {
    match guest.world {
        World::Hook => {
            let prepared = runtime.prepare_hook(guest)?;
            let caps = Imports {
                kube: KubeCtx::new(
                    &guest.name,
                    Grants::default(),
                    Box::new(SnapshotBackend::default()),
                ),
                log: LogCtx::new(&guest.name),
            };
            let mut instance = prepared.instantiate(caps)?;
            let config = convert::hook_config(
                instance.call_bounded("config", |b, s| b.deckhouse_hooks_hook().call_config(s))?,
            );
            check_watches(guest, &config)?;
            Ok(config)
        }
        World::Render => {
            let mut instance = runtime.prepare_render(guest)?.instantiate()?;
            let machine = instance.call_bounded("describe", |b, s| {
                b.deckhouse_hooks_render().call_describe(s)
            })?;
            Ok(HookConfig {
                before_helm: Some(machine.before_helm),
                ..HookConfig::default()
            })
        }
        World::Job => Err(HostError::Other(format!(
            "guest {} is a job, not a hook",
            guest.name
        ))),
    }
}

/// Every binding must watch only objects the guest may list: a hook cannot subscribe to
/// data it may not read; and its jqFilter, which Deckhouse runs outside the sandbox, must
/// pass the host's jq policy.
pub fn check_watches(guest: &Guest, config: &HookConfig) -> Result<()> {
    let grants = Grants::new(guest.grants.clone());
    for b in &config.kubernetes {
        if let Some(filter) = &b.jq_filter {
            jq_policy::check(filter).map_err(|e| {
                HostError::Other(format!(
                    "guest {}: binding {:?}: {e}; see README, \"The jqFilter policy\"",
                    guest.name, b.name
                ))
            })?;
        }
        let namespaces = b
            .namespace
            .as_ref()
            .map(|n| n.match_names.clone())
            .unwrap_or_default();
        if !grants.allows_watch(&b.api_version, &b.kind, &namespaces, &b.name_selector) {
            return Err(HostError::Other(format!(
                "guest {}: binding {:?} watches {} ({}) beyond its grants; grant `list` on exactly those objects in grants.yaml",
                guest.name, b.name, b.kind, b.api_version
            )));
        }
    }
    Ok(())
}

/// One guest's config rendered in `form`, errors naming the guest.
pub fn render(runtime: &Runtime, guest: &Guest, form: Form) -> Result<Value> {
    let config = guest_config(runtime, guest)?;
    hook_config::render(&guest.name, &config, form, &runtime.manifest.module.name).map_err(
        |problem| HostError::GuestOutput {
            guest: guest.name.clone(),
            what: "hook config",
            problem,
        },
    )
}

/// The whole batch document of `hook config`, hooks in `hook list` order.
pub fn batch_document(runtime: &Runtime) -> Result<Value> {
    let hooks = runtime
        .manifest
        .hooks()
        .map(|guest| render(runtime, guest, Form::Batch))
        .collect::<Result<Vec<Value>>>()?;
    let mut doc = json!({"version": "v1", "hooks": hooks});
    if let Some(guest) = runtime.manifest.readiness() {
        let config = guest_config(runtime, guest)?;
        let interval = config
            .readiness_interval_seconds
            .unwrap_or(DEFAULT_READINESS_SECONDS);
        doc["readiness"] =
            hook_config::readiness(&guest.name, interval, &runtime.manifest.module.name);
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::hook_config::KubeBinding;

    #[test]
    fn a_jq_filter_outside_the_policy_is_refused_naming_the_binding() {
        let guest: Guest = serde_yaml::from_str(
            "{name: g, component: g.wasm, world: hook, grants: [{verbs: [list], apiVersion: v1, kind: ConfigMap}]}",
        )
        .unwrap();
        let config = |filter: &str| HookConfig {
            kubernetes: vec![KubeBinding {
                name: "cms".into(),
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                jq_filter: Some(filter.into()),
                ..KubeBinding::default()
            }],
            ..HookConfig::default()
        };
        check_watches(&guest, &config("{name: .metadata.name}")).unwrap();
        let err = check_watches(&guest, &config("[range(1e12)] | length"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("guest g: binding \"cms\": jqFilter \"[range(1e12)] | length\" is outside the host's jq policy"),
            "{err}"
        );
        let err = check_watches(&guest, &config("$ENV"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`$ENV` is not allowed"), "{err}");
    }
}
