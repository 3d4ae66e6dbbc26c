//! The WIT shapes a guest returns, turned into the host's own protocol types, so the
//! protocol layer never depends on the bindings.

use crate::bindings::hook_api as wit;
use crate::protocol::hook_config::{
    FieldRequirement, HookConfig, KubeBinding, LabelRequirement, LabelSelector, NamespaceSelector,
    RunSettings, ScheduleBinding, WatchEvent,
};
use crate::protocol::metrics::{Metric, MetricAction};
use crate::protocol::values_patch::Change;

/// A hook guest's `config` answer.
pub fn hook_config(c: wit::HookConfig) -> HookConfig {
    HookConfig {
        on_startup: c.on_startup,
        before_helm: c.before_helm,
        after_helm: c.after_helm,
        before_delete_helm: c.before_delete_helm,
        after_delete_helm: c.after_delete_helm,
        kubernetes: c.kubernetes.into_iter().map(kube_binding).collect(),
        schedule: c.schedule.into_iter().map(schedule).collect(),
        settings: c.settings.map(|s| RunSettings {
            execution_min_interval_ms: s.execution_min_interval_ms,
            execution_burst: s.execution_burst,
        }),
        allow_failure: c.allow_failure,
        readiness_interval_seconds: c.readiness_interval_seconds,
    }
}

fn kube_binding(b: wit::KubeBinding) -> KubeBinding {
    KubeBinding {
        name: b.name,
        api_version: b.api_version,
        kind: b.kind,
        name_selector: b.name_selector,
        namespace: b.namespace.map(|n| NamespaceSelector {
            match_names: n.match_names,
            label_selector: n.label_selector.map(label_selector),
        }),
        label_selector: b.label_selector.map(label_selector),
        field_selector: b
            .field_selector
            .into_iter()
            .map(|f| FieldRequirement {
                field: f.field,
                operator: match f.operator {
                    wit::FieldOperator::Equals => "Equals",
                    wit::FieldOperator::NotEquals => "NotEquals",
                },
                value: f.value,
            })
            .collect(),
        execute_hook_on_event: b
            .execute_hook_on_event
            .map(|events| events.into_iter().map(watch_event).collect()),
        execute_hook_on_synchronization: b.execute_hook_on_synchronization,
        wait_for_synchronization: b.wait_for_synchronization,
        keep_full_objects_in_memory: b.keep_full_objects_in_memory,
        jq_filter: b.jq_filter,
        include_snapshots_from: b.include_snapshots_from,
        queue: b.queue,
        group: b.group,
        allow_failure: b.allow_failure,
    }
}

fn schedule(s: wit::ScheduleBinding) -> ScheduleBinding {
    ScheduleBinding {
        name: s.name,
        crontab: s.crontab,
        queue: s.queue,
        group: s.group,
        include_snapshots_from: s.include_snapshots_from,
    }
}

fn watch_event(e: wit::WatchEvent) -> WatchEvent {
    match e {
        wit::WatchEvent::Added => WatchEvent::Added,
        wit::WatchEvent::Modified => WatchEvent::Modified,
        wit::WatchEvent::Deleted => WatchEvent::Deleted,
    }
}

fn label_selector(s: wit::LabelSelector) -> LabelSelector {
    LabelSelector {
        match_labels: s.match_labels,
        match_expressions: s
            .match_expressions
            .into_iter()
            .map(|r| LabelRequirement {
                key: r.key,
                operator: match r.operator {
                    wit::LabelOperator::In => "In",
                    wit::LabelOperator::NotIn => "NotIn",
                    wit::LabelOperator::Exists => "Exists",
                    wit::LabelOperator::DoesNotExist => "DoesNotExist",
                },
                values: r.values,
            })
            .collect(),
    }
}

/// One values operation; `add` needs a JSON value.
pub fn values_change(op: wit::ValuesOp) -> Result<Change, String> {
    match op.op {
        wit::ValuesOpKind::Remove => Ok(Change::Remove { path: op.path }),
        wit::ValuesOpKind::Add => {
            let text = op
                .value
                .ok_or_else(|| format!("add {} has no value", op.path))?;
            let value = serde_json::from_str(&text)
                .map_err(|e| format!("add {}: value is not JSON: {e}", op.path))?;
            Ok(Change::Add {
                path: op.path,
                value,
            })
        }
    }
}

/// One metric operation.
pub fn metric(m: wit::Metric) -> Metric {
    Metric {
        name: m.name,
        group: m.group,
        action: match m.action {
            wit::MetricAction::Set => MetricAction::Set,
            wit::MetricAction::Add => MetricAction::Add,
            wit::MetricAction::Observe => MetricAction::Observe,
            wit::MetricAction::Expire => MetricAction::Expire,
        },
        value: m.value,
        labels: m.labels,
        buckets: m.buckets,
    }
}
