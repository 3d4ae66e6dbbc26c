//! The wasm glue: the WIT `kubernetes` and `log` imports as [`Cluster`] and [`Log`],
//! and the `job` export calling one [`Migrator`] per Job (kept between steps, since
//! the host calls the same instance until the Job is done).

use std::cell::RefCell;

use serde_json::Value;

use crate::clock::SystemClock;
use crate::kube::{
    Cluster, CreateMode, DeleteMode, KubeError, ListQuery, ObjRef, Page, PatchKind, PatchOptions,
};
use crate::log::{Level, Log};
use crate::machine::{Migrator, Step};
use crate::report::Report;
use crate::settings::Settings;

wit_bindgen::generate!({ path: "../wit", world: "job-guest" });

use deckhouse::hooks::types as wit;
use deckhouse::hooks::{kubernetes, log as wit_log};
use exports::deckhouse::hooks::job::{Guest, Report as WitReport, StepResult};

thread_local! {
    static MIGRATOR: RefCell<Option<Migrator>> = const { RefCell::new(None) };
}

/// Runs `f` on this instance's migrator, made on first use, with these settings.
fn with_migrator<T>(settings: &str, f: impl FnOnce(&mut Migrator) -> T) -> Result<T, String> {
    let settings = Settings::parse(settings)?;
    MIGRATOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let migrator = slot
            .get_or_insert_with(|| Migrator::new(settings.clone(), Box::new(SystemClock::new())));
        migrator.settings = settings;
        Ok(f(migrator))
    })
}

fn report(report: Report) -> WitReport {
    WitReport {
        markdown: report.markdown,
        json: report.json.to_string(),
        ok: report.ok,
    }
}

struct Job;

impl Guest for Job {
    fn step(settings: String) -> Result<StepResult, String> {
        match with_migrator(&settings, |m| m.step(&mut Imports, &mut Imports))?? {
            Step::Done(summary) => Ok(StepResult::Done(summary)),
            Step::Wait(ms, why) => Ok(StepResult::Wait((ms, why))),
        }
    }

    fn rehearse(settings: String) -> Result<WitReport, String> {
        with_migrator(&settings, |m| m.rehearse(&mut Imports, &mut Imports))?.map(report)
    }

    fn status(settings: String) -> Result<WitReport, String> {
        with_migrator(&settings, |m| m.status(&mut Imports, &mut Imports))?.map(report)
    }
}

export!(Job);

/// The host's imports; stateless, the host keeps the connection.
struct Imports;

impl Cluster for Imports {
    fn get(&mut self, object: &ObjRef) -> Result<Value, KubeError> {
        parse(kubernetes::get(&to_wit_ref(object)).map_err(from_wit)?)
    }

    fn list(&mut self, query: &ListQuery) -> Result<Page, KubeError> {
        let query = wit::ListQuery {
            api_version: query.api_version.clone(),
            kind: query.kind.clone(),
            namespace: query.namespace.clone(),
            label_selector: query.label_selector.clone(),
            field_selector: query.field_selector.clone(),
            limit: query.limit,
            continue_token: query.continue_token.clone(),
        };
        let page = kubernetes::list(&query).map_err(from_wit)?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(parse)
                .collect::<Result<_, _>>()?,
            continue_token: page.continue_token,
        })
    }

    fn create(&mut self, object: &Value, mode: CreateMode) -> Result<Value, KubeError> {
        parse(kubernetes::create(&object.to_string(), to_wit_mode(mode)).map_err(from_wit)?)
    }

    fn create_many(
        &mut self,
        objects: &[Value],
        mode: CreateMode,
    ) -> Vec<Result<Value, KubeError>> {
        let texts: Vec<String> = objects.iter().map(Value::to_string).collect();
        kubernetes::create_many(&texts, to_wit_mode(mode))
            .into_iter()
            .map(|result| result.map_err(from_wit).and_then(parse))
            .collect()
    }

    fn patch(
        &mut self,
        object: &ObjRef,
        kind: PatchKind,
        patch: &Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        let kind = match kind {
            PatchKind::Merge => wit::PatchKind::Merge,
            PatchKind::Json => wit::PatchKind::Json,
        };
        let options = wit::PatchOptions {
            subresource: options.subresource.clone(),
            ignore_missing_object: options.ignore_missing_object,
        };
        let text = kubernetes::patch(&to_wit_ref(object), kind, &patch.to_string(), &options);
        parse(text.map_err(from_wit)?)
    }

    fn delete(&mut self, object: &ObjRef, mode: DeleteMode) -> Result<(), KubeError> {
        let mode = match mode {
            DeleteMode::Foreground => wit::DeleteMode::Foreground,
            DeleteMode::Background => wit::DeleteMode::Background,
            DeleteMode::Orphan => wit::DeleteMode::Orphan,
        };
        kubernetes::delete(&to_wit_ref(object), mode).map_err(from_wit)
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

fn to_wit_mode(mode: CreateMode) -> wit::CreateMode {
    match mode {
        CreateMode::Create => wit::CreateMode::Create,
        CreateMode::IfNotExists => wit::CreateMode::IfNotExists,
        CreateMode::OrUpdate => wit::CreateMode::OrUpdate,
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
        wit::KubeError::Unavailable(m) => KubeError::Unavailable(m),
        wit::KubeError::LimitExceeded(m) => KubeError::LimitExceeded(m),
    }
}

/// The host returns JSON text; anything else is the host's bug, reported as invalid.
fn parse(text: String) -> Result<Value, KubeError> {
    serde_json::from_str(&text)
        .map_err(|e| KubeError::Invalid(format!("host returned an object that is not JSON: {e}")))
}
