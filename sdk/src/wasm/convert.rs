//! The SDK's plain config and output types as the generated WIT records.

use super::hook::exports::deckhouse::hooks::hook as wit;
use crate::config::{
    FieldOperator, HookConfig, KubeBinding, LabelSelector, ScheduleBinding, WatchEvent,
};
use crate::hook::HookOutput;
use hooks_manifest::Operator;
use hooks_manifest::output::{MetricAction, ValuesChange};

pub fn hook_config(c: &HookConfig) -> wit::HookConfig {
    wit::HookConfig {
        on_startup: c.on_startup,
        before_helm: c.before_helm,
        after_helm: c.after_helm,
        before_delete_helm: c.before_delete_helm,
        after_delete_helm: c.after_delete_helm,
        kubernetes: c.kubernetes.iter().map(kube_binding).collect(),
        schedule: c.schedule.iter().map(schedule_binding).collect(),
        settings: c.settings.map(|s| wit::RunSettings {
            execution_min_interval_ms: u64::try_from(s.execution_min_interval.as_millis())
                .unwrap_or(u64::MAX),
            execution_burst: s.execution_burst,
        }),
        allow_failure: c.allow_failure,
        readiness_interval_seconds: c.readiness_interval_seconds,
    }
}

fn kube_binding(b: &KubeBinding) -> wit::KubeBinding {
    wit::KubeBinding {
        name: b.name.clone(),
        api_version: b.api_version.clone(),
        kind: b.kind.clone(),
        name_selector: b.name_selector.clone(),
        namespace: b.namespace.as_ref().map(|n| wit::NamespaceSelector {
            match_names: n.match_names.clone(),
            label_selector: n.label_selector.as_ref().map(label_selector),
        }),
        label_selector: b.label_selector.as_ref().map(label_selector),
        field_selector: b
            .field_selector
            .iter()
            .map(|f| wit::FieldRequirement {
                field: f.field.clone(),
                operator: match f.operator {
                    FieldOperator::Equals => wit::FieldOperator::Equals,
                    FieldOperator::NotEquals => wit::FieldOperator::NotEquals,
                },
                value: f.value.clone(),
            })
            .collect(),
        execute_hook_on_event: b.execute_hook_on_event.as_ref().map(|events| {
            events
                .iter()
                .map(|e| match e {
                    WatchEvent::Added => wit::WatchEvent::Added,
                    WatchEvent::Modified => wit::WatchEvent::Modified,
                    WatchEvent::Deleted => wit::WatchEvent::Deleted,
                })
                .collect()
        }),
        execute_hook_on_synchronization: b.execute_hook_on_synchronization,
        wait_for_synchronization: b.wait_for_synchronization,
        keep_full_objects_in_memory: b.keep_full_objects_in_memory,
        jq_filter: b.jq_filter.clone(),
        include_snapshots_from: b.include_snapshots_from.clone(),
        queue: b.queue.clone(),
        group: b.group.clone(),
        allow_failure: b.allow_failure,
    }
}

fn label_selector(s: &LabelSelector) -> wit::LabelSelector {
    wit::LabelSelector {
        match_labels: s.match_labels.clone(),
        match_expressions: s
            .match_expressions
            .iter()
            .map(|r| wit::LabelRequirement {
                key: r.key.clone(),
                operator: match r.operator {
                    Operator::In => wit::LabelOperator::In,
                    Operator::NotIn => wit::LabelOperator::NotIn,
                    Operator::Exists => wit::LabelOperator::Exists,
                    Operator::DoesNotExist => wit::LabelOperator::DoesNotExist,
                },
                values: r.values.clone(),
            })
            .collect(),
    }
}

fn schedule_binding(s: &ScheduleBinding) -> wit::ScheduleBinding {
    wit::ScheduleBinding {
        name: s.name.clone(),
        crontab: s.crontab.clone(),
        queue: s.queue.clone(),
        group: s.group.clone(),
        include_snapshots_from: s.include_snapshots_from.clone(),
    }
}

pub fn hook_output(o: HookOutput) -> wit::HookOutput {
    wit::HookOutput {
        values_patch: o.values_patch.into_iter().map(values_op).collect(),
        config_values_patch: o.config_values_patch.into_iter().map(values_op).collect(),
        metrics: o
            .metrics
            .into_iter()
            .map(|m| wit::Metric {
                name: m.name,
                group: m.group,
                action: match m.action {
                    MetricAction::Set => wit::MetricAction::Set,
                    MetricAction::Add => wit::MetricAction::Add,
                    MetricAction::Observe => wit::MetricAction::Observe,
                    MetricAction::Expire => wit::MetricAction::Expire,
                },
                value: m.value,
                labels: m.labels,
                buckets: m.buckets,
            })
            .collect(),
    }
}

fn values_op(change: ValuesChange) -> wit::ValuesOp {
    match change {
        ValuesChange::Add { path, value } => wit::ValuesOp {
            op: wit::ValuesOpKind::Add,
            path,
            value: Some(value.to_string()),
        },
        ValuesChange::Remove { path } => wit::ValuesOp {
            op: wit::ValuesOpKind::Remove,
            path,
            value: None,
        },
    }
}
