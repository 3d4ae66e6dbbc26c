//! [`Host`] over the WIT `kubernetes` and `log` imports.

use super::hook::deckhouse::hooks::{kubernetes, log, types};
use crate::host::{Host, LogLevel};
use hooks_manifest::{
    CreateMode, DeleteMode, KubeError, ListPage, ListQuery, ObjectRef, PatchKind, PatchOptions,
};
use serde_json::Value;

/// The imports; a unit value, since the imports are free functions.
pub struct Imports;

impl Host for Imports {
    fn get(&self, target: &ObjectRef) -> Result<Value, KubeError> {
        let text = kubernetes::get(&object_ref(target)).map_err(kube_error)?;
        parse(&text, "get")
    }

    fn list(&self, query: &ListQuery) -> Result<ListPage, KubeError> {
        let query = types::ListQuery {
            api_version: query.api_version.clone(),
            kind: query.kind.clone(),
            namespace: query.namespace.clone(),
            label_selector: query.label_selector.clone(),
            field_selector: query.field_selector.clone(),
            limit: query.limit,
            continue_token: query.continue_token.clone(),
        };
        let page = kubernetes::list(&query).map_err(kube_error)?;
        Ok(ListPage {
            items: page
                .items
                .iter()
                .map(|i| parse(i, "list"))
                .collect::<Result<_, _>>()?,
            continue_token: page.continue_token,
        })
    }

    fn create(&self, object: &Value, mode: CreateMode) -> Result<Value, KubeError> {
        let text =
            kubernetes::create(&object.to_string(), create_mode(mode)).map_err(kube_error)?;
        parse(&text, "create")
    }

    fn create_many(&self, objects: &[Value], mode: CreateMode) -> Vec<Result<Value, KubeError>> {
        let texts: Vec<String> = objects.iter().map(Value::to_string).collect();
        kubernetes::create_many(&texts, create_mode(mode))
            .into_iter()
            .map(|r| r.map_err(kube_error).and_then(|t| parse(&t, "create-many")))
            .collect()
    }

    fn patch(
        &self,
        target: &ObjectRef,
        kind: PatchKind,
        patch: &Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        let kind = match kind {
            PatchKind::Merge => types::PatchKind::Merge,
            PatchKind::Json => types::PatchKind::Json,
        };
        let options = types::PatchOptions {
            subresource: options.subresource.clone(),
            ignore_missing_object: options.ignore_missing_object,
        };
        let text = kubernetes::patch(&object_ref(target), kind, &patch.to_string(), &options)
            .map_err(kube_error)?;
        parse(&text, "patch")
    }

    fn delete(&self, target: &ObjectRef, mode: DeleteMode) -> Result<(), KubeError> {
        let mode = match mode {
            DeleteMode::Foreground => types::DeleteMode::Foreground,
            DeleteMode::Background => types::DeleteMode::Background,
            DeleteMode::Orphan => types::DeleteMode::Orphan,
        };
        kubernetes::delete(&object_ref(target), mode).map_err(kube_error)
    }

    fn log(&self, level: LogLevel, message: &str, fields: &[(&str, &str)]) {
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

fn create_mode(mode: CreateMode) -> types::CreateMode {
    match mode {
        CreateMode::Create => types::CreateMode::Create,
        CreateMode::IfNotExists => types::CreateMode::IfNotExists,
        CreateMode::OrUpdate => types::CreateMode::OrUpdate,
    }
}

fn object_ref(r: &ObjectRef) -> types::ObjectRef {
    types::ObjectRef {
        api_version: r.api_version.clone(),
        kind: r.kind.clone(),
        namespace: r.namespace.clone(),
        name: r.name.clone(),
    }
}

fn kube_error(e: types::KubeError) -> KubeError {
    match e {
        types::KubeError::NotFound(m) => KubeError::NotFound(m),
        types::KubeError::Forbidden(m) => KubeError::Forbidden(m),
        types::KubeError::Conflict(m) => KubeError::Conflict(m),
        types::KubeError::Invalid(m) => KubeError::Invalid(m),
        types::KubeError::Unavailable(m) => KubeError::Unavailable(m),
        types::KubeError::LimitExceeded(m) => KubeError::LimitExceeded(m),
    }
}

fn parse(text: &str, call: &str) -> Result<Value, KubeError> {
    serde_json::from_str(text)
        .map_err(|e| KubeError::Invalid(format!("the host's {call} answer is not JSON: {e}")))
}
