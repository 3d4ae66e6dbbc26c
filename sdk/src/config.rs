//! A hook's configuration, built like module-sdk's `pkg.HookConfig`: when Deckhouse runs
//! the hook and which objects it watches for it. Every field of the WIT `hook-config`,
//! `kube-binding` and `schedule-binding` records has a builder method; what is left unset
//! takes Deckhouse's default.
//!
//! ```
//! use deckhouse_hooks_sdk::{HookConfig, KubeBinding};
//! let config = HookConfig::new()
//!     .before_helm(5)
//!     .kubernetes(
//!         KubeBinding::new("nodes", "v1", "Node")
//!             .jq_filter("{name: .metadata.name}")
//!             .label("node-role.kubernetes.io/control-plane", ""),
//!     );
//! assert_eq!(config.kubernetes[0].name, "nodes");
//! ```

use hooks_manifest::{Operator, Requirement};
use std::time::Duration;

/// A Kubernetes event type a binding can react to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WatchEvent {
    /// The object appeared.
    Added,
    /// The object changed.
    Modified,
    /// The object is gone.
    Deleted,
}

impl WatchEvent {
    /// The name Deckhouse writes in a binding context's `watchEvent`.
    pub fn as_str(self) -> &'static str {
        match self {
            WatchEvent::Added => "Added",
            WatchEvent::Modified => "Modified",
            WatchEvent::Deleted => "Deleted",
        }
    }
}

/// A label selector of a binding (`matchLabels` and `matchExpressions`, ANDed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    /// `key: value` pairs that must all be set.
    pub match_labels: Vec<(String, String)>,
    /// Set-based requirements.
    pub match_expressions: Vec<Requirement>,
}

impl LabelSelector {
    /// Selects everything; add requirements with the methods below.
    pub fn new() -> Self {
        Self::default()
    }

    /// The label `key` must equal `value`.
    pub fn matching(mut self, key: &str, value: &str) -> Self {
        self.match_labels.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The label must have one of `values` (`In`).
    pub fn any_of<'a>(self, key: &str, values: impl IntoIterator<Item = &'a str>) -> Self {
        self.expression(key, Operator::In, values)
    }

    /// The label must be absent or have none of `values` (`NotIn`).
    pub fn none_of<'a>(self, key: &str, values: impl IntoIterator<Item = &'a str>) -> Self {
        self.expression(key, Operator::NotIn, values)
    }

    /// The label must be set (`Exists`).
    pub fn exists(self, key: &str) -> Self {
        self.expression(key, Operator::Exists, [])
    }

    /// The label must not be set (`DoesNotExist`).
    pub fn does_not_exist(self, key: &str) -> Self {
        self.expression(key, Operator::DoesNotExist, [])
    }

    fn expression<'a>(
        mut self,
        key: &str,
        operator: Operator,
        values: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        self.match_expressions.push(Requirement {
            key: key.to_owned(),
            operator,
            values: values.into_iter().map(str::to_owned).collect(),
        });
        self
    }

    /// The matcher, checked as the API server checks a selector.
    pub fn matcher(&self) -> Result<hooks_manifest::LabelSelector, hooks_manifest::SelectorError> {
        hooks_manifest::LabelSelector::from_parts(
            self.match_labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
            self.match_expressions.iter().cloned(),
        )
    }
}

/// Which namespaces a binding watches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamespaceSelector {
    /// Exactly these namespaces; empty: no name filter.
    pub match_names: Vec<String>,
    /// Namespaces with these labels.
    pub label_selector: Option<LabelSelector>,
}

/// The operator of a field selector requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldOperator {
    /// `=`.
    Equals,
    /// `!=`.
    NotEquals,
}

/// One `fieldSelector.matchExpressions` item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRequirement {
    /// `metadata.name`, `status.phase`, ...
    pub field: String,
    /// How to compare.
    pub operator: FieldOperator,
    /// The value to compare with.
    pub value: String,
}

/// A kubernetes binding (module-sdk `KubernetesConfig`); its name is the snapshot's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeBinding {
    /// The snapshot name.
    pub name: String,
    /// The watched kind's apiVersion.
    pub api_version: String,
    /// The watched kind.
    pub kind: String,
    /// Exactly these names; empty: any name.
    pub name_selector: Vec<String>,
    /// None: every namespace (or a cluster-scoped kind).
    pub namespace: Option<NamespaceSelector>,
    /// Only objects with these labels.
    pub label_selector: Option<LabelSelector>,
    /// ANDed; empty: no field filter.
    pub field_selector: Vec<FieldRequirement>,
    /// None: every event type. An empty list: events only update the snapshot.
    pub execute_hook_on_event: Option<Vec<WatchEvent>>,
    /// None: Deckhouse's default (true).
    pub execute_hook_on_synchronization: Option<bool>,
    /// None: Deckhouse's default (true).
    pub wait_for_synchronization: Option<bool>,
    /// None: Deckhouse's default (true).
    pub keep_full_objects_in_memory: Option<bool>,
    /// A jq filter; its result arrives as the snapshot item's `filterResult`.
    pub jq_filter: Option<String>,
    /// Other bindings whose snapshots this binding's runs also get.
    pub include_snapshots_from: Vec<String>,
    /// None: the module's own queue.
    pub queue: Option<String>,
    /// A group name (shell form only).
    pub group: Option<String>,
    /// A failed run of this binding counts as success.
    pub allow_failure: Option<bool>,
}

impl KubeBinding {
    /// Watches every object of `kind`; `api_version` empty means `v1`, as in module-sdk.
    pub fn new(name: &str, api_version: &str, kind: &str) -> Self {
        let api_version = if api_version.is_empty() {
            "v1"
        } else {
            api_version
        };
        Self {
            name: name.to_owned(),
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            name_selector: Vec::new(),
            namespace: None,
            label_selector: None,
            field_selector: Vec::new(),
            execute_hook_on_event: None,
            execute_hook_on_synchronization: None,
            wait_for_synchronization: None,
            keep_full_objects_in_memory: None,
            jq_filter: None,
            include_snapshots_from: Vec::new(),
            queue: None,
            group: None,
            allow_failure: None,
        }
    }

    /// Only objects with these names (`nameSelector.matchNames`).
    pub fn names<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Self {
        self.name_selector
            .extend(names.into_iter().map(str::to_owned));
        self
    }

    /// Only objects in these namespaces (`namespace.nameSelector.matchNames`).
    pub fn namespaces<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Self {
        let selector = self
            .namespace
            .get_or_insert_with(NamespaceSelector::default);
        selector
            .match_names
            .extend(names.into_iter().map(str::to_owned));
        self
    }

    /// Only objects in namespaces with these labels (`namespace.labelSelector`).
    pub fn namespace_labels(mut self, selector: LabelSelector) -> Self {
        self.namespace
            .get_or_insert_with(NamespaceSelector::default)
            .label_selector = Some(selector);
        self
    }

    /// Only objects matching this label selector.
    pub fn labels(mut self, selector: LabelSelector) -> Self {
        self.label_selector = Some(selector);
        self
    }

    /// Only objects whose label `key` equals `value` (adds to `matchLabels`).
    pub fn label(mut self, key: &str, value: &str) -> Self {
        let selector = self.label_selector.take().unwrap_or_default();
        self.label_selector = Some(selector.matching(key, value));
        self
    }

    /// Only objects whose `field` compares so with `value`.
    pub fn field(mut self, field: &str, operator: FieldOperator, value: &str) -> Self {
        self.field_selector.push(FieldRequirement {
            field: field.to_owned(),
            operator,
            value: value.to_owned(),
        });
        self
    }

    /// Run the hook only on these event types.
    pub fn on_events(mut self, events: impl IntoIterator<Item = WatchEvent>) -> Self {
        self.execute_hook_on_event = Some(events.into_iter().collect());
        self
    }

    /// Events only update the snapshot, never run the hook (`executeHookOnEvent: []`).
    pub fn snapshot_only(mut self) -> Self {
        self.execute_hook_on_event = Some(Vec::new());
        self
    }

    /// Whether the initial listing runs the hook.
    pub fn execute_hook_on_synchronization(mut self, run: bool) -> Self {
        self.execute_hook_on_synchronization = Some(run);
        self
    }

    /// Whether the module waits for this binding's first listing before Helm runs.
    pub fn wait_for_synchronization(mut self, wait: bool) -> Self {
        self.wait_for_synchronization = Some(wait);
        self
    }

    /// Whether snapshots keep the full objects (needed to read them whole).
    pub fn keep_full_objects_in_memory(mut self, keep: bool) -> Self {
        self.keep_full_objects_in_memory = Some(keep);
        self
    }

    /// A jq filter; snapshot items then carry its result.
    pub fn jq_filter(mut self, filter: &str) -> Self {
        self.jq_filter = Some(filter.to_owned());
        self
    }

    /// Also deliver these bindings' snapshots.
    pub fn include_snapshots_from<'a>(
        mut self,
        bindings: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        self.include_snapshots_from
            .extend(bindings.into_iter().map(str::to_owned));
        self
    }

    /// Run in this queue instead of the module's.
    pub fn queue(mut self, queue: &str) -> Self {
        self.queue = Some(queue.to_owned());
        self
    }

    /// Put the binding in this group (shell form only).
    pub fn group(mut self, group: &str) -> Self {
        self.group = Some(group.to_owned());
        self
    }

    /// Whether a failed run of this binding counts as success.
    pub fn allow_failure(mut self, allow: bool) -> Self {
        self.allow_failure = Some(allow);
        self
    }

    /// What the binding watches, for messages: `Kind name1,name2 in ns (apiVersion)`.
    pub fn describe(&self) -> String {
        let mut text = self.kind.clone();
        if !self.name_selector.is_empty() {
            text = format!("{text} {}", self.name_selector.join(","));
        }
        if let Some(ns) = self
            .namespace
            .as_ref()
            .filter(|n| !n.match_names.is_empty())
        {
            text = format!("{text} in {}", ns.match_names.join(","));
        }
        format!("{text} ({})", self.api_version)
    }
}

/// A schedule binding (module-sdk `ScheduleConfig`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleBinding {
    /// The binding's name, as binding contexts carry it.
    pub name: String,
    /// 5 or 6 fields, or `@every 10s`-style.
    pub crontab: String,
    /// None: the module's own queue.
    pub queue: Option<String>,
    /// A group name (shell form only).
    pub group: Option<String>,
    /// Bindings whose snapshots the run gets.
    pub include_snapshots_from: Vec<String>,
}

impl ScheduleBinding {
    /// Runs on `crontab`.
    pub fn new(name: &str, crontab: &str) -> Self {
        Self {
            name: name.to_owned(),
            crontab: crontab.to_owned(),
            queue: None,
            group: None,
            include_snapshots_from: Vec::new(),
        }
    }

    /// Run in this queue.
    pub fn queue(mut self, queue: &str) -> Self {
        self.queue = Some(queue.to_owned());
        self
    }

    /// Put the binding in this group.
    pub fn group(mut self, group: &str) -> Self {
        self.group = Some(group.to_owned());
        self
    }

    /// Deliver these bindings' snapshots.
    pub fn include_snapshots_from<'a>(
        mut self,
        bindings: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        self.include_snapshots_from
            .extend(bindings.into_iter().map(str::to_owned));
        self
    }
}

/// Rate limits of the hook's runs (module-sdk `HookConfigSettings`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunSettings {
    /// The shortest time between two runs.
    pub execution_min_interval: Duration,
    /// How many runs may happen back to back before the interval applies.
    pub execution_burst: u32,
}

/// When and on what Deckhouse runs a hook.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HookConfig {
    /// onStartup order.
    pub on_startup: Option<u32>,
    /// beforeHelm order.
    pub before_helm: Option<u32>,
    /// afterHelm order.
    pub after_helm: Option<u32>,
    /// beforeDeleteHelm order.
    pub before_delete_helm: Option<u32>,
    /// afterDeleteHelm order.
    pub after_delete_helm: Option<u32>,
    /// Kubernetes bindings, by snapshot name.
    pub kubernetes: Vec<KubeBinding>,
    /// Schedule bindings.
    pub schedule: Vec<ScheduleBinding>,
    /// Rate limits.
    pub settings: Option<RunSettings>,
    /// A failed run counts as success.
    pub allow_failure: bool,
    /// This hook is the module's readiness probe, run every this many seconds.
    pub readiness_interval_seconds: Option<u32>,
}

impl HookConfig {
    /// A hook that runs on nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Run on startup, at this order.
    pub fn on_startup(mut self, order: u32) -> Self {
        self.on_startup = Some(order);
        self
    }

    /// Run before every Helm render of the module, at this order.
    pub fn before_helm(mut self, order: u32) -> Self {
        self.before_helm = Some(order);
        self
    }

    /// Run after every Helm render, at this order.
    pub fn after_helm(mut self, order: u32) -> Self {
        self.after_helm = Some(order);
        self
    }

    /// Run before the module's release is deleted, at this order.
    pub fn before_delete_helm(mut self, order: u32) -> Self {
        self.before_delete_helm = Some(order);
        self
    }

    /// Run after the module's release is deleted, at this order.
    pub fn after_delete_helm(mut self, order: u32) -> Self {
        self.after_delete_helm = Some(order);
        self
    }

    /// Add a kubernetes binding.
    pub fn kubernetes(mut self, binding: KubeBinding) -> Self {
        self.kubernetes.push(binding);
        self
    }

    /// Add a schedule binding.
    pub fn schedule(mut self, binding: ScheduleBinding) -> Self {
        self.schedule.push(binding);
        self
    }

    /// Limit how often the hook runs.
    pub fn settings(mut self, execution_min_interval: Duration, execution_burst: u32) -> Self {
        self.settings = Some(RunSettings {
            execution_min_interval,
            execution_burst,
        });
        self
    }

    /// Let a failed run count as success.
    pub fn allow_failure(mut self) -> Self {
        self.allow_failure = true;
        self
    }

    /// Make this hook the module's readiness probe, run every `seconds`.
    pub fn readiness(mut self, seconds: u32) -> Self {
        self.readiness_interval_seconds = Some(seconds);
        self
    }

    /// A kubernetes binding by name.
    pub fn binding(&self, name: &str) -> Option<&KubeBinding> {
        self.kubernetes.iter().find(|b| b.name == name)
    }

    /// The problems Deckhouse or the host would refuse the config for; empty when fine.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        for b in &self.kubernetes {
            if b.name.is_empty() || !names.insert(b.name.as_str()) {
                problems.push(format!("binding name {:?} is empty or used twice", b.name));
            }
            if b.kind.is_empty() || !b.kind.chars().all(|c| c.is_ascii_alphabetic()) {
                problems.push(format!(
                    "binding {:?}: kind {:?} must be letters only",
                    b.name, b.kind
                ));
            }
            for (what, selector) in [
                ("label", b.label_selector.as_ref()),
                (
                    "namespace label",
                    b.namespace.as_ref().and_then(|n| n.label_selector.as_ref()),
                ),
            ] {
                if let Some(Err(e)) = selector.map(LabelSelector::matcher) {
                    problems.push(format!("binding {:?}: {what} selector: {e}", b.name));
                }
            }
            for other in &b.include_snapshots_from {
                if self.binding(other).is_none() {
                    problems.push(format!(
                        "binding {:?} includes snapshots from {other:?}, which is no kubernetes binding",
                        b.name
                    ));
                }
            }
        }
        for s in &self.schedule {
            if s.name.is_empty() || !names.insert(s.name.as_str()) {
                problems.push(format!("binding name {:?} is empty or used twice", s.name));
            }
            let fields = s.crontab.split_whitespace().count();
            if !(s.crontab.starts_with('@') || (5..=6).contains(&fields)) {
                problems.push(format!(
                    "schedule {:?}: crontab {:?} needs 5 or 6 fields or an @every/@daily form",
                    s.name, s.crontab
                ));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_fill_every_field_and_leave_defaults_unset() {
        let b = KubeBinding::new("cm", "", "ConfigMap")
            .names(["a"])
            .namespaces(["ns"])
            .namespace_labels(LabelSelector::new().exists("team"))
            .label("app", "x")
            .labels(
                LabelSelector::new()
                    .matching("app", "y")
                    .none_of("tier", ["db"]),
            )
            .field("metadata.name", FieldOperator::NotEquals, "b")
            .on_events([WatchEvent::Added])
            .execute_hook_on_synchronization(false)
            .wait_for_synchronization(false)
            .keep_full_objects_in_memory(false)
            .jq_filter(".data")
            .include_snapshots_from(["cm"])
            .queue("q")
            .group("g")
            .allow_failure(true);
        assert_eq!(b.api_version, "v1", "module-sdk's default");
        assert_eq!(b.namespace.as_ref().unwrap().match_names, ["ns"]);
        assert!(b.namespace.as_ref().unwrap().label_selector.is_some());
        assert_eq!(
            b.label_selector.as_ref().unwrap().match_expressions.len(),
            1
        );
        assert_eq!(b.execute_hook_on_event, Some(vec![WatchEvent::Added]));
        assert_eq!(b.describe(), "ConfigMap a in ns (v1)");
        let plain = KubeBinding::new("n", "v1", "Node");
        assert_eq!(plain.execute_hook_on_event, None);
        assert_eq!(plain.keep_full_objects_in_memory, None);
        assert_eq!(
            KubeBinding::new("n", "v1", "Node")
                .snapshot_only()
                .execute_hook_on_event,
            Some(vec![])
        );
    }

    #[test]
    fn hook_config_builds_and_checks() {
        let config = HookConfig::new()
            .on_startup(1)
            .before_helm(2)
            .after_helm(3)
            .before_delete_helm(4)
            .after_delete_helm(5)
            .kubernetes(KubeBinding::new("a", "v1", "Pod"))
            .schedule(
                ScheduleBinding::new("s", "*/5 * * * *")
                    .queue("q")
                    .group("g"),
            )
            .settings(Duration::from_secs(3), 2)
            .allow_failure()
            .readiness(10);
        assert!(config.problems().is_empty(), "{:?}", config.problems());
        assert_eq!(config.binding("a").unwrap().kind, "Pod");
        let bad = HookConfig::new()
            .kubernetes(KubeBinding::new("a", "v1", "Pod"))
            .kubernetes(KubeBinding::new("a", "v1", "Pod-s").include_snapshots_from(["zzz"]))
            .kubernetes(KubeBinding::new("l", "v1", "Pod").label("bad key", "x"))
            .schedule(ScheduleBinding::new("s", "never"));
        let problems = bad.problems().join("\n");
        for needle in [
            "used twice",
            "letters only",
            "zzz",
            "label selector",
            "crontab",
        ] {
            assert!(problems.contains(needle), "{needle}: {problems}");
        }
    }
}
