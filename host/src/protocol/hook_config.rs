//! A guest's bindings rendered as Deckhouse hook configuration: the batch form of
//! `hook config` (module-sdk's shape) and the shell form of `--config` (shell-operator's
//! v1 schema). Bindings are checked against the guest's read grants first: a hook cannot
//! subscribe to objects it may not read.

use crate::capabilities::grants::Grants;
use crate::runtime::bindings::{HookConfig, KubeBinding, WatchEvent};
use serde_json::{Map, Value, json};

/// Which of the two executable protocols the config is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `hook config`: one entry of `hooks[]`, `executeHookOnEvent` as a bool.
    Batch,
    /// `--config`: a v1 document, `executeHookOnEvent` as a list of event types.
    Shell,
}

/// Checks every kubernetes binding against the read grants.
pub fn check_grants(guest: &str, config: &HookConfig, grants: &Grants) -> Result<(), String> {
    for b in &config.kubernetes {
        if !grants.allows_watch(&b.api_version, &b.kind, &b.namespace_selector, &b.name_selector) {
            return Err(format!(
                "guest {guest}: binding {:?} watches {} ({}) beyond its grants; grant `list` on exactly those objects in grants.yaml",
                b.name, b.kind, b.api_version
            ));
        }
    }
    Ok(())
}

/// The hook's configuration object.
pub fn render(name: &str, config: &HookConfig, form: Form) -> Value {
    let mut hook = Map::new();
    hook.insert("configVersion".into(), "v1".into());
    if form == Form::Batch {
        hook.insert("metadata".into(), json!({"name": name, "path": name}));
    }
    let orders = [
        ("onStartup", config.on_startup),
        ("beforeHelm", config.before_helm),
        ("afterHelm", config.after_helm),
        ("beforeDeleteHelm", config.before_delete_helm),
        ("afterDeleteHelm", config.after_delete_helm),
    ];
    for (key, order) in orders {
        if let Some(order) = order {
            hook.insert(key.into(), order.into());
        }
    }
    // Deckhouse's schema has minItems 1 on these arrays: omit them when empty.
    if !config.kubernetes.is_empty() {
        hook.insert("kubernetes".into(), config.kubernetes.iter().map(|b| binding(b, form)).collect());
    }
    if !config.schedule.is_empty() {
        let schedule = config.schedule.iter().map(|s| {
            let mut m = Map::new();
            m.insert("name".into(), s.name.clone().into());
            m.insert("crontab".into(), s.crontab.clone().into());
            insert_some(&mut m, "queue", s.queue.clone());
            if s.allow_failure {
                m.insert("allowFailure".into(), true.into());
            }
            Value::Object(m)
        });
        hook.insert("schedule".into(), schedule.collect());
    }
    Value::Object(hook)
}

fn binding(b: &KubeBinding, form: Form) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), b.name.clone().into());
    m.insert("apiVersion".into(), b.api_version.clone().into());
    m.insert("kind".into(), b.kind.clone().into());
    if !b.name_selector.is_empty() {
        m.insert("nameSelector".into(), json!({"matchNames": b.name_selector}));
    }
    if !b.namespace_selector.is_empty() {
        m.insert("namespace".into(), json!({"nameSelector": {"matchNames": b.namespace_selector}}));
    }
    if !b.label_selector.is_empty() {
        let labels: Map<String, Value> = b.label_selector.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
        m.insert("labelSelector".into(), json!({"matchLabels": labels}));
    }
    match form {
        // The batch form only switches events on or off; the host drops unwanted event
        // types at run time (see `commands::hook`).
        Form::Batch => m.insert("executeHookOnEvent".into(), true.into()),
        Form::Shell => m.insert("executeHookOnEvent".into(), events(&b.execute_hook_on_event).into()),
    };
    m.insert("executeHookOnSynchronization".into(), b.execute_hook_on_synchronization.into());
    m.insert("keepFullObjectsInMemory".into(), b.keep_full_objects_in_memory.into());
    insert_some(&mut m, "jqFilter", b.jq_filter.clone());
    insert_some(&mut m, "queue", b.queue.clone());
    if b.allow_failure {
        m.insert("allowFailure".into(), true.into());
    }
    Value::Object(m)
}

/// The event types a binding reacts to; empty means all three.
pub fn events(list: &[WatchEvent]) -> Vec<&'static str> {
    let all = [WatchEvent::Added, WatchEvent::Modified, WatchEvent::Deleted];
    let chosen: &[WatchEvent] = if list.is_empty() { &all } else { list };
    chosen
        .iter()
        .map(|e| match e {
            WatchEvent::Added => "Added",
            WatchEvent::Modified => "Modified",
            WatchEvent::Deleted => "Deleted",
        })
        .collect()
}

fn insert_some(m: &mut Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        m.insert(key.into(), v.into());
    }
}
