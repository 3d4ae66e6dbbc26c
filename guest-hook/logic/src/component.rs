//! The WIT glue: converts between the generated `hook-guest` types and the plain ones.
//!
//! No export happens here. A final guest crate names its table and exports with
//! `guest_hook_logic::component::bindings::export_state_sync_hook!(MyHook);`
//! where `type MyHook = guest_hook_logic::component::StateSyncHook<MyTable>;`.

/// The generated bindings; public so a final guest crate can invoke the export macro.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "hook-guest",
        pub_export_macro: true,
        export_macro_name: "export_state_sync_hook",
        default_bindings_module: "guest_hook_logic::component::bindings",
    });
}

use crate::bindings::{Binding, SPEC};
use crate::env::{HookEnv, KubeError, LogLevel, ObjectRef};
use crate::output::{Metric, MetricAction, ValuesOp, ValuesOpKind};
use crate::states::Table;
use bindings::deckhouse::hooks::{kubernetes, log, types};
use bindings::exports::deckhouse::hooks::hook as wit;
use serde_json::Value;
use std::marker::PhantomData;

/// The hook over table `T`; a final crate exports `StateSyncHook<ItsTable>`.
pub struct StateSyncHook<T>(PhantomData<T>);

impl<T: Table> wit::Guest for StateSyncHook<T> {
    fn config() -> wit::HookConfig {
        wit::HookConfig {
            on_startup: None,
            before_helm: Some(SPEC.before_helm),
            after_helm: None,
            before_delete_helm: None,
            after_delete_helm: None,
            kubernetes: SPEC.kubernetes.iter().map(kube_binding).collect(),
            schedule: Vec::new(),
            settings: None,
            allow_failure: false,
            readiness_interval_seconds: None,
        }
    }

    fn run(input: wit::HookInput) -> Result<wit::HookOutput, String> {
        let values: Value = serde_json::from_str(&input.values)
            .map_err(|e| format!("the host passed values that are not JSON: {e}"))?;
        let output = crate::run::run(&T::TABLE, &mut Imports, &values)?;
        Ok(wit::HookOutput {
            values_patch: output.values_patch.into_iter().map(values_op).collect(),
            config_values_patch: Vec::new(),
            metrics: output.metrics.into_iter().map(metric).collect(),
        })
    }
}

fn kube_binding(b: &Binding) -> wit::KubeBinding {
    wit::KubeBinding {
        name: b.name.to_owned(),
        api_version: b.target.api_version.to_owned(),
        kind: b.target.kind.to_owned(),
        name_selector: vec![b.target.name.to_owned()],
        namespace: b.target.namespace.map(|ns| wit::NamespaceSelector { match_names: vec![ns.to_owned()], label_selector: None }),
        label_selector: None,
        field_selector: Vec::new(),
        execute_hook_on_event: None,
        execute_hook_on_synchronization: Some(b.execute_hook_on_synchronization),
        wait_for_synchronization: None,
        keep_full_objects_in_memory: Some(b.keep_full_objects_in_memory),
        jq_filter: None,
        include_snapshots_from: Vec::new(),
        queue: None,
        group: None,
        allow_failure: None,
    }
}

fn values_op(op: ValuesOp) -> wit::ValuesOp {
    wit::ValuesOp {
        op: match op.op {
            ValuesOpKind::Add => wit::ValuesOpKind::Add,
            ValuesOpKind::Remove => wit::ValuesOpKind::Remove,
        },
        path: op.path,
        value: op.value.map(|v| v.to_string()),
    }
}

fn metric(m: Metric) -> wit::Metric {
    wit::Metric {
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
        buckets: Vec::new(),
    }
}

/// [`HookEnv`] over the host's `kubernetes` and `log` imports.
struct Imports;

impl HookEnv for Imports {
    fn get(&mut self, target: &ObjectRef) -> Result<Value, KubeError> {
        let found = kubernetes::get(&object_ref(target)).map_err(kube_error)?;
        parse_object(&found, "get")
    }

    fn create(&mut self, object: Value, if_absent: bool) -> Result<Value, KubeError> {
        let mode = if if_absent { types::CreateMode::IfNotExists } else { types::CreateMode::Create };
        let created = kubernetes::create(&object.to_string(), mode).map_err(kube_error)?;
        parse_object(&created, "create")
    }

    fn log(&mut self, level: LogLevel, message: &str, fields: &[(&str, &str)]) {
        let level = match level {
            LogLevel::Debug => types::LogLevel::Debug,
            LogLevel::Info => types::LogLevel::Info,
            LogLevel::Warn => types::LogLevel::Warn,
            LogLevel::Error => types::LogLevel::Error,
        };
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        log::emit(level, message, &fields);
    }
}

fn object_ref(r: &ObjectRef) -> types::ObjectRef {
    types::ObjectRef {
        api_version: r.api_version.to_owned(),
        kind: r.kind.to_owned(),
        namespace: r.namespace.map(str::to_owned),
        name: r.name.to_owned(),
    }
}

fn kube_error(e: types::KubeError) -> KubeError {
    match e {
        types::KubeError::NotFound(m) => KubeError::NotFound(m),
        types::KubeError::Forbidden(m) => KubeError::Forbidden(m),
        types::KubeError::Conflict(m) => KubeError::Conflict(m),
        types::KubeError::Invalid(m) => KubeError::Invalid(m),
        types::KubeError::Unavailable(m) | types::KubeError::LimitExceeded(m) => KubeError::Unavailable(m),
    }
}

fn parse_object(text: &str, call: &str) -> Result<Value, KubeError> {
    serde_json::from_str(text)
        .map_err(|e| KubeError::Invalid(format!("the host's {call} answer is not JSON: {e}")))
}
