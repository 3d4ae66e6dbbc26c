//! The wasm glue: the WIT `kubernetes` and `log` imports as [`Cluster`] and [`Log`],
//! and the `job` export calling [`crate::step`].

use serde_json::Value;

use crate::kube::{Cluster, KubeError, ListQuery, ObjRef, PatchKind};
use crate::log::{Level, Log};
use crate::machine::Step;

wit_bindgen::generate!({ path: "../wit", world: "job-guest" });

use deckhouse::hooks::types as wit;
use deckhouse::hooks::{kubernetes, log as wit_log};
use exports::deckhouse::hooks::job::{Guest, Report, StepResult};

struct Migrator;

impl Guest for Migrator {
    fn step(_settings: String) -> Result<StepResult, String> {
        match crate::step(&mut Imports, &mut Imports)? {
            Step::Done(summary) => Ok(StepResult::Done(summary)),
            Step::Wait(ms, why) => Ok(StepResult::Wait((ms, why))),
        }
    }

    fn rehearse(_settings: String) -> Result<Report, String> {
        Err("this build of the migrator has no rehearsal yet".into())
    }

    fn status(_settings: String) -> Result<Report, String> {
        Err("this build of the migrator has no status report yet".into())
    }
}

export!(Migrator);

/// The host's imports; stateless, the host keeps the connection.
struct Imports;

impl Cluster for Imports {
    fn get(&mut self, object: &ObjRef) -> Result<Value, KubeError> {
        parse(kubernetes::get(&to_wit_ref(object)).map_err(from_wit)?)
    }

    fn list(&mut self, query: &ListQuery) -> Result<Vec<Value>, KubeError> {
        let mut query = wit::ListQuery {
            api_version: query.api_version.clone(),
            kind: query.kind.clone(),
            namespace: query.namespace.clone(),
            label_selector: query.label_selector.clone(),
            field_selector: None,
            limit: Some(500),
            continue_token: None,
        };
        let mut all = Vec::new();
        loop {
            let page = kubernetes::list(&query).map_err(from_wit)?;
            for item in page.items {
                all.push(parse(item)?);
            }
            match page.continue_token {
                Some(token) => query.continue_token = Some(token),
                None => return Ok(all),
            }
        }
    }

    fn create(&mut self, object: &Value, if_absent: bool) -> Result<Value, KubeError> {
        let mode = if if_absent { wit::CreateMode::IfNotExists } else { wit::CreateMode::Create };
        parse(kubernetes::create(&object.to_string(), mode).map_err(from_wit)?)
    }

    fn patch(
        &mut self,
        object: &ObjRef,
        kind: PatchKind,
        patch: &Value,
    ) -> Result<Value, KubeError> {
        let kind = match kind {
            PatchKind::Merge => wit::PatchKind::Merge,
            PatchKind::Json => wit::PatchKind::Json,
        };
        let options = wit::PatchOptions { subresource: None, ignore_missing_object: false };
        parse(kubernetes::patch(&to_wit_ref(object), kind, &patch.to_string(), &options).map_err(from_wit)?)
    }

    fn delete(&mut self, object: &ObjRef) -> Result<(), KubeError> {
        kubernetes::delete(&to_wit_ref(object), wit::DeleteMode::Background).map_err(from_wit)
    }
}

impl Log for Imports {
    fn emit(&mut self, level: Level, message: &str, fields: &[(&str, String)]) {
        let level = match level {
            Level::Debug => wit::LogLevel::Debug,
            Level::Info => wit::LogLevel::Info,
            Level::Warn => wit::LogLevel::Warn,
            Level::Error => wit::LogLevel::Error,
        };
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        wit_log::emit(level, message, &fields);
    }
}

fn to_wit_ref(object: &ObjRef) -> wit::ObjectRef {
    wit::ObjectRef {
        api_version: object.api_version.clone(),
        kind: object.kind.clone(),
        namespace: object.namespace.clone(),
        name: object.name.clone(),
    }
}

fn from_wit(error: wit::KubeError) -> KubeError {
    match error {
        wit::KubeError::NotFound(m) => KubeError::NotFound(m),
        wit::KubeError::Forbidden(m) => KubeError::Forbidden(m),
        wit::KubeError::Conflict(m) => KubeError::Conflict(m),
        wit::KubeError::Invalid(m) => KubeError::Invalid(m),
        wit::KubeError::Unavailable(m) | wit::KubeError::LimitExceeded(m) => KubeError::Unavailable(m),
    }
}

/// The host returns JSON text; anything else is the host's bug, reported as invalid.
fn parse(text: String) -> Result<Value, KubeError> {
    serde_json::from_str(&text)
        .map_err(|e| KubeError::Invalid(format!("host returned an object that is not JSON: {e}")))
}
