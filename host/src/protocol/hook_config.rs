//! A hook's configuration as Deckhouse reads it: the batch form of `hook config`
//! (module-sdk's `pkg/hook` DTOs, as addon-operator's `batch_hook.go` remaps them) and the
//! shell form of `--config` (shell-operator's v1 schema).
//!
//! The types here are the host's own, independent of the WIT bindings (the runtime
//! converts). [`render`] refuses anything the chosen form cannot carry or the runner would
//! reject, so a config Deckhouse rejects is never printed.

use serde_json::{Map, Value, json};

/// When and on what Deckhouse runs a hook.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HookConfig {
    pub on_startup: Option<u32>,
    pub before_helm: Option<u32>,
    pub after_helm: Option<u32>,
    pub before_delete_helm: Option<u32>,
    pub after_delete_helm: Option<u32>,
    pub kubernetes: Vec<KubeBinding>,
    pub schedule: Vec<ScheduleBinding>,
    pub settings: Option<RunSettings>,
    pub allow_failure: bool,
    /// This hook is the module's readiness probe, run every this many seconds.
    pub readiness_interval_seconds: Option<u32>,
}

/// A kubernetes binding (module-sdk `KubernetesConfig`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KubeBinding {
    pub name: String,
    pub api_version: String,
    pub kind: String,
    pub name_selector: Vec<String>,
    pub namespace: Option<NamespaceSelector>,
    pub label_selector: Option<LabelSelector>,
    pub field_selector: Vec<FieldRequirement>,
    /// None: every event type; empty: none.
    pub execute_hook_on_event: Option<Vec<WatchEvent>>,
    pub execute_hook_on_synchronization: Option<bool>,
    pub wait_for_synchronization: Option<bool>,
    pub keep_full_objects_in_memory: Option<bool>,
    pub jq_filter: Option<String>,
    pub include_snapshots_from: Vec<String>,
    pub queue: Option<String>,
    pub group: Option<String>,
    pub allow_failure: Option<bool>,
}

/// A schedule binding (module-sdk `ScheduleConfig`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScheduleBinding {
    pub name: String,
    pub crontab: String,
    pub queue: Option<String>,
    pub group: Option<String>,
    pub include_snapshots_from: Vec<String>,
}

/// Rate limits (module-sdk `HookConfigSettings`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunSettings {
    pub execution_min_interval_ms: u64,
    pub execution_burst: u32,
}

/// A Kubernetes event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchEvent {
    Added,
    Modified,
    Deleted,
}

impl WatchEvent {
    pub const ALL: [WatchEvent; 3] = [WatchEvent::Added, WatchEvent::Modified, WatchEvent::Deleted];

    /// The name shell-operator uses (`watchEvent` in binding contexts).
    pub fn as_str(self) -> &'static str {
        match self {
            WatchEvent::Added => "Added",
            WatchEvent::Modified => "Modified",
            WatchEvent::Deleted => "Deleted",
        }
    }
}

/// `matchLabels` and `matchExpressions`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelSelector {
    pub match_labels: Vec<(String, String)>,
    pub match_expressions: Vec<LabelRequirement>,
}

/// One `matchExpressions` item; `operator` is `In`, `NotIn`, `Exists` or `DoesNotExist`.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelRequirement {
    pub key: String,
    pub operator: &'static str,
    pub values: Vec<String>,
}

/// One field selector item; `operator` is `Equals` or `NotEquals`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldRequirement {
    pub field: String,
    pub operator: &'static str,
    pub value: String,
}

/// `namespace:` of a binding.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NamespaceSelector {
    pub match_names: Vec<String>,
    pub label_selector: Option<LabelSelector>,
}

/// Which of the two executable protocols the config is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `hook config`: one entry of `hooks[]` (module-sdk's DTO).
    Batch,
    /// `--config`: a shell-operator v1 document.
    Shell,
}

/// The group addon-operator gives every binding of a batch hook.
pub const BATCH_GROUP: &str = "main";

/// The queue a module's bindings run in unless they name another: a failing hook then
/// blocks only its own module, never Deckhouse's global `main` queue.
pub fn module_queue(module: &str) -> String {
    format!("modules/{module}")
}

/// Renders a hook's configuration object, or says which binding the form cannot carry.
/// `module` names the module for the default queue.
pub fn render(name: &str, config: &HookConfig, form: Form, module: &str) -> Result<Value, String> {
    check(config)?;
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
    // The schema has minItems 1 on these arrays: omit them when empty.
    if !config.kubernetes.is_empty() {
        let bindings = config
            .kubernetes
            .iter()
            .map(|b| binding(b, form, module))
            .collect::<Result<Vec<_>, _>>()?;
        hook.insert("kubernetes".into(), bindings.into());
    }
    if !config.schedule.is_empty() {
        let schedules = config
            .schedule
            .iter()
            .map(|s| schedule(s, form, module))
            .collect::<Result<Vec<_>, _>>()?;
        hook.insert("schedule".into(), schedules.into());
    }
    if let Some(s) = config.settings {
        let interval: Value = match form {
            // module-sdk's time.Duration: integer nanoseconds.
            Form::Batch => (s.execution_min_interval_ms.saturating_mul(1_000_000)).into(),
            // shell-operator's v1 schema: a Go duration string.
            Form::Shell => format!("{}ms", s.execution_min_interval_ms).into(),
        };
        hook.insert(
            "settings".into(),
            json!({"executionMinInterval": interval, "executionBurst": s.execution_burst}),
        );
    }
    if config.allow_failure {
        if form == Form::Shell {
            return Err(format!(
                "hook {name}: a hook-wide allowFailure exists only in the batch form; set allow-failure on each binding"
            ));
        }
        hook.insert("allowFailure".into(), true.into());
    }
    Ok(Value::Object(hook))
}

/// The batch `readiness` entry for a hook that is the module's readiness probe, as
/// module-sdk's readiness hook declares it: a schedule every N seconds (6-field crontab).
pub fn readiness(name: &str, interval_seconds: u32, module: &str) -> Value {
    json!({
        "configVersion": "v1",
        "metadata": {"name": name, "path": name},
        "schedule": [{"name": format!("{module}-moduleReadinessSchedule"), "crontab": format!("*/{} * * * * *", interval_seconds.clamp(1, 59))}],
    })
}

fn binding(b: &KubeBinding, form: Form, module: &str) -> Result<Value, String> {
    let mut m = Map::new();
    m.insert("name".into(), b.name.clone().into());
    m.insert("apiVersion".into(), b.api_version.clone().into());
    m.insert("kind".into(), b.kind.clone().into());
    if !b.name_selector.is_empty() {
        m.insert(
            "nameSelector".into(),
            json!({"matchNames": b.name_selector}),
        );
    }
    if let Some(ns) = &b.namespace {
        let mut sel = Map::new();
        if !ns.match_names.is_empty() {
            sel.insert("nameSelector".into(), json!({"matchNames": ns.match_names}));
        }
        if let Some(labels) = &ns.label_selector {
            sel.insert("labelSelector".into(), label_selector(labels));
        }
        if !sel.is_empty() {
            m.insert("namespace".into(), Value::Object(sel));
        }
    }
    if let Some(labels) = &b.label_selector {
        m.insert("labelSelector".into(), label_selector(labels));
    }
    if !b.field_selector.is_empty() {
        let items: Vec<Value> = b
            .field_selector
            .iter()
            .map(|f| json!({"field": f.field, "operator": f.operator, "value": f.value}))
            .collect();
        m.insert("fieldSelector".into(), json!({"matchExpressions": items}));
    }
    match (form, &b.execute_hook_on_event) {
        (_, None) => {}
        // The batch form only switches events on or off; a subset is filtered by the host
        // at run time (see `hooks::run`).
        (Form::Batch, Some(events)) => {
            m.insert("executeHookOnEvent".into(), (!events.is_empty()).into());
        }
        (Form::Shell, Some(events)) => {
            m.insert(
                "executeHookOnEvent".into(),
                events.iter().map(|e| e.as_str()).collect::<Vec<_>>().into(),
            );
        }
    }
    for (key, value) in [
        (
            "executeHookOnSynchronization",
            b.execute_hook_on_synchronization,
        ),
        ("waitForSynchronization", b.wait_for_synchronization),
        ("keepFullObjectsInMemory", b.keep_full_objects_in_memory),
        ("allowFailure", b.allow_failure),
    ] {
        if let Some(value) = value {
            m.insert(key.into(), value.into());
        }
    }
    if let Some(filter) = b.jq_filter.as_ref().filter(|f| !f.is_empty()) {
        m.insert("jqFilter".into(), filter.clone().into());
    }
    if !b.include_snapshots_from.is_empty() {
        m.insert(
            "includeSnapshotsFrom".into(),
            b.include_snapshots_from.clone().into(),
        );
    }
    m.insert("queue".into(), queue(&b.queue, module).into());
    group(&mut m, &b.name, &b.group, form)?;
    Ok(Value::Object(m))
}

fn schedule(s: &ScheduleBinding, form: Form, module: &str) -> Result<Value, String> {
    let mut m = Map::new();
    m.insert("name".into(), s.name.clone().into());
    m.insert("crontab".into(), s.crontab.clone().into());
    m.insert("queue".into(), queue(&s.queue, module).into());
    if !s.include_snapshots_from.is_empty() {
        if form == Form::Batch {
            return Err(format!(
                "schedule binding {:?}: module-sdk's batch ScheduleConfig has no includeSnapshotsFrom (addon-operator would drop it); every batch binding shares group `main`, whose snapshots it gets anyway",
                s.name
            ));
        }
        m.insert(
            "includeSnapshotsFrom".into(),
            s.include_snapshots_from.clone().into(),
        );
    }
    group(&mut m, &s.name, &s.group, form)?;
    Ok(Value::Object(m))
}

fn queue(queue: &Option<String>, module: &str) -> String {
    queue
        .clone()
        .filter(|q| !q.is_empty())
        .unwrap_or_else(|| module_queue(module))
}

fn group(
    m: &mut Map<String, Value>,
    binding: &str,
    group: &Option<String>,
    form: Form,
) -> Result<(), String> {
    match (form, group.as_deref().filter(|g| !g.is_empty())) {
        (_, None) => Ok(()),
        (Form::Shell, Some(g)) => {
            m.insert("group".into(), g.into());
            Ok(())
        }
        (Form::Batch, Some(BATCH_GROUP)) => Ok(()),
        (Form::Batch, Some(g)) => Err(format!(
            "binding {binding:?} asks for group {g:?}, but addon-operator puts every binding of a batch hook into group {BATCH_GROUP:?}; drop the group or use {BATCH_GROUP:?}"
        )),
    }
}

fn label_selector(s: &LabelSelector) -> Value {
    let mut m = Map::new();
    if !s.match_labels.is_empty() {
        let labels: Map<String, Value> = s
            .match_labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        m.insert("matchLabels".into(), Value::Object(labels));
    }
    if !s.match_expressions.is_empty() {
        let items: Vec<Value> = s
            .match_expressions
            .iter()
            .map(|r| {
                let mut item = json!({"key": r.key, "operator": r.operator});
                if !r.values.is_empty() {
                    item["values"] = r.values.clone().into();
                }
                item
            })
            .collect();
        m.insert("matchExpressions".into(), items.into());
    }
    Value::Object(m)
}

/// The event types a binding reacts to.
pub fn events(binding: &KubeBinding) -> Vec<WatchEvent> {
    binding
        .execute_hook_on_event
        .clone()
        .unwrap_or_else(|| WatchEvent::ALL.to_vec())
}

/// The rules module-sdk's `Validate` and shell-operator's v1 schema apply.
pub fn check(config: &HookConfig) -> Result<(), String> {
    let mut names = std::collections::BTreeSet::new();
    for b in &config.kubernetes {
        if b.name.is_empty() {
            return Err("a kubernetes binding has no name".into());
        }
        if !names.insert(b.name.as_str()) {
            return Err(format!("binding name {:?} is used twice", b.name));
        }
        if b.kind.is_empty() || !b.kind.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(format!(
                "binding {:?}: kind {:?} must be letters only (module-sdk rejects anything else)",
                b.name, b.kind
            ));
        }
        for r in b
            .label_selector
            .iter()
            .chain(b.namespace.iter().filter_map(|n| n.label_selector.as_ref()))
            .flat_map(|s| &s.match_expressions)
        {
            let needs_values = matches!(r.operator, "In" | "NotIn");
            if needs_values == r.values.is_empty() {
                return Err(format!(
                    "binding {:?}: label requirement on {:?} with {} {} values",
                    b.name,
                    r.key,
                    r.operator,
                    if needs_values { "needs" } else { "takes no" }
                ));
            }
        }
        for f in &b.field_selector {
            if f.field.is_empty() {
                return Err(format!(
                    "binding {:?}: a field selector item has no field",
                    b.name
                ));
            }
        }
    }
    for s in &config.schedule {
        if s.name.is_empty() || !names.insert(s.name.as_str()) {
            return Err(format!(
                "schedule binding name {:?} is empty or used twice",
                s.name
            ));
        }
        if !crontab_ok(&s.crontab) {
            return Err(format!(
                "schedule binding {:?}: crontab {:?} is not 5 or 6 fields or an @-macro",
                s.name, s.crontab
            ));
        }
    }
    let all: Vec<&str> = names.iter().copied().collect();
    let includes = config
        .kubernetes
        .iter()
        .map(|b| (&b.name, &b.include_snapshots_from))
        .chain(
            config
                .schedule
                .iter()
                .map(|s| (&s.name, &s.include_snapshots_from)),
        );
    for (name, from) in includes {
        if let Some(missing) = from
            .iter()
            .find(|f| !all.contains(&f.as_str()) || config.kubernetes.iter().all(|b| &b.name != *f))
        {
            return Err(format!(
                "binding {name:?}: includeSnapshotsFrom names {missing:?}, which is not a kubernetes binding of this hook"
            ));
        }
    }
    if config.readiness_interval_seconds == Some(0) {
        return Err("readiness-interval-seconds must be above zero".into());
    }
    Ok(())
}

/// Roughly module-sdk's cron pattern: 5-7 fields of cron characters, or an @-macro.
fn crontab_ok(crontab: &str) -> bool {
    let text = crontab.trim();
    if let Some(rest) = text.strip_prefix("@every ") {
        return !rest.trim().is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == 'µ');
    }
    if text.starts_with('@') {
        return matches!(
            text,
            "@annually" | "@yearly" | "@monthly" | "@weekly" | "@daily" | "@hourly" | "@reboot"
        );
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    (5..=7).contains(&fields.len())
        && fields.iter().all(|f| {
            f.chars()
                .all(|c| c.is_ascii_alphanumeric() || "*/,-#?LW".contains(c))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm_binding() -> KubeBinding {
        KubeBinding {
            name: "cm".into(),
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            ..KubeBinding::default()
        }
    }

    #[test]
    fn bindings_default_to_the_module_queue() {
        let config = HookConfig {
            kubernetes: vec![cm_binding()],
            schedule: vec![ScheduleBinding {
                name: "s".into(),
                crontab: "*/5 * * * *".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let v = render("h", &config, Form::Batch, "sds-replicated-volume").unwrap();
        assert_eq!(v["kubernetes"][0]["queue"], "modules/sds-replicated-volume");
        assert_eq!(v["schedule"][0]["queue"], "modules/sds-replicated-volume");
    }

    #[test]
    fn the_batch_form_refuses_what_it_cannot_carry() {
        let mut b = cm_binding();
        b.group = Some("other".into());
        let config = HookConfig {
            kubernetes: vec![b],
            ..Default::default()
        };
        assert!(
            render("h", &config, Form::Batch, "m")
                .unwrap_err()
                .contains("group")
        );
        assert_eq!(
            render("h", &config, Form::Shell, "m").unwrap()["kubernetes"][0]["group"],
            "other"
        );
    }

    #[test]
    fn event_subsets_are_a_bool_in_batch_and_a_list_in_shell() {
        let mut b = cm_binding();
        b.execute_hook_on_event = Some(vec![WatchEvent::Added]);
        let config = HookConfig {
            kubernetes: vec![b],
            ..Default::default()
        };
        assert_eq!(
            render("h", &config, Form::Batch, "m").unwrap()["kubernetes"][0]["executeHookOnEvent"],
            true
        );
        assert_eq!(
            render("h", &config, Form::Shell, "m").unwrap()["kubernetes"][0]["executeHookOnEvent"],
            json!(["Added"])
        );
    }

    #[test]
    fn settings_are_nanoseconds_in_batch_and_a_duration_in_shell() {
        let config = HookConfig {
            before_helm: Some(1),
            settings: Some(RunSettings {
                execution_min_interval_ms: 1500,
                execution_burst: 2,
            }),
            ..Default::default()
        };
        assert_eq!(
            render("h", &config, Form::Batch, "m").unwrap()["settings"]["executionMinInterval"],
            1_500_000_000u64
        );
        assert_eq!(
            render("h", &config, Form::Shell, "m").unwrap()["settings"]["executionMinInterval"],
            "1500ms"
        );
    }

    #[test]
    fn bad_configs_are_named() {
        let mut b = cm_binding();
        b.include_snapshots_from = vec!["nope".into()];
        assert!(
            check(&HookConfig {
                kubernetes: vec![b],
                ..Default::default()
            })
            .unwrap_err()
            .contains("nope")
        );
        let s = ScheduleBinding {
            name: "s".into(),
            crontab: "every minute".into(),
            ..Default::default()
        };
        assert!(
            check(&HookConfig {
                schedule: vec![s],
                ..Default::default()
            })
            .unwrap_err()
            .contains("crontab")
        );
        let mut b = cm_binding();
        b.kind = "config-map".into();
        assert!(
            check(&HookConfig {
                kubernetes: vec![b],
                ..Default::default()
            })
            .is_err()
        );
    }
}
