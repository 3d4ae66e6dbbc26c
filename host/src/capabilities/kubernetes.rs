//! The WIT `kubernetes` interface on its own narrow context: the call's deadline, the
//! run's budgets, the grants check (with its audit line), then the backend. Nothing else
//! of the store is reachable from here.
//!
//! Budgets answer `limit-exceeded`: a call after the call's deadline, a hook's writes
//! past `maxObjectOps` / `maxObjectBytes` (they are queued in memory for Deckhouse), and
//! every call once `maxAuditLines` forbidden calls were made (each wrote an audit line).
//! Names, namespaces and kinds longer than Kubernetes allows are `invalid` before the
//! grants check, so an audit line is never longer than a few hundred bytes.

use super::backend::{KubeBackend, Submitted, in_order, no_answer};
use super::deadline::Deadline;
use super::grants::{self, Grants};
use super::types::{
    self, CreateMode, DeleteMode, KubeError, ListQuery, ObjectRef, PatchKind, PatchOptions,
};
use crate::bindings::hook::deckhouse::hooks::{kubernetes::Host, types::Host as TypesHost};
use crate::bindings::{self as wit};
use crate::manifest::{Limits, Verb};
use serde_json::Value;

/// A guest's Kubernetes access: who it is, its grants, and where calls go.
pub struct KubeCtx {
    guest: String,
    grants: Grants,
    backend: Box<dyn KubeBackend>,
    /// How many calls the guest made, for the run summary.
    pub calls: u64,
    limits: Limits,
    /// Whether writes are queued in memory (a hook run) and so count against the budget.
    queued: bool,
    deadline: Deadline,
    writes: u64,
    write_bytes: u64,
    denied: u64,
}

/// Longest name (DNS-1123 subdomain), namespace (label), and kind/apiVersion accepted.
const MAX_NAME: usize = 253;
const MAX_NAMESPACE: usize = 63;
const MAX_KIND: usize = 253;

impl KubeCtx {
    pub fn new(guest: &str, grants: Grants, backend: Box<dyn KubeBackend>) -> Self {
        Self {
            guest: guest.to_owned(),
            grants,
            backend,
            calls: 0,
            limits: Limits::default(),
            queued: false,
            deadline: Deadline::default(),
            writes: 0,
            write_bytes: 0,
            denied: 0,
        }
    }

    /// Applies the guest's budgets and shares its store's call deadline; `queued` says
    /// whether writes are held in memory for Deckhouse (a hook run).
    pub fn bind(&mut self, limits: &Limits, queued: bool, deadline: Deadline) {
        self.limits = *limits;
        self.queued = queued;
        self.deadline = deadline;
    }

    /// Before any call: the deadline and the forbidden-call budget.
    fn admit(&mut self) -> Result<(), KubeError> {
        self.calls += 1;
        self.deadline.check().map_err(KubeError::LimitExceeded)?;
        if self.denied >= u64::from(self.limits.max_audit_lines) {
            return Err(KubeError::LimitExceeded(format!(
                "{} made {} forbidden calls in this run (limits.maxAuditLines); no further calls are answered",
                self.guest, self.denied
            )));
        }
        Ok(())
    }

    /// Counts a forbidden answer (it wrote an audit line).
    fn audited<T>(&mut self, result: Result<T, KubeError>) -> Result<T, KubeError> {
        if matches!(result, Err(KubeError::Forbidden(_))) {
            self.denied += 1;
        }
        result
    }

    /// A queued write of `bytes`, within the run's budget.
    fn charge_write(&mut self, bytes: usize) -> Result<(), KubeError> {
        if !self.queued {
            return Ok(());
        }
        let writes = self.writes + 1;
        let total = self.write_bytes.saturating_add(bytes as u64);
        if writes > u64::from(self.limits.max_object_ops) {
            return Err(KubeError::LimitExceeded(format!(
                "a hook run may queue at most {} object operations (limits.maxObjectOps)",
                self.limits.max_object_ops
            )));
        }
        if total > self.limits.max_object_bytes {
            return Err(KubeError::LimitExceeded(format!(
                "a hook run may queue at most {} bytes of objects and patches (limits.maxObjectBytes); this one would make {total}",
                self.limits.max_object_bytes
            )));
        }
        self.writes = writes;
        self.write_bytes = total;
        Ok(())
    }

    /// The backend, for the caller to take back its queued operations or reuse it.
    pub fn into_backend(self) -> Box<dyn KubeBackend> {
        self.backend
    }

    /// Points later calls at another backend: a hook run learns which snapshots it has
    /// only after asking the guest for its bindings.
    pub fn replace_backend(&mut self, backend: Box<dyn KubeBackend>) {
        self.backend = backend;
    }

    /// The backend, borrowed.
    pub fn backend(&mut self) -> &mut dyn KubeBackend {
        self.backend.as_mut()
    }

    fn checked(
        &mut self,
        verb: Verb,
        target: &ObjectRef,
    ) -> Result<&mut dyn KubeBackend, KubeError> {
        self.admit()?;
        sized(
            &target.api_version,
            &target.kind,
            target.namespace.as_deref(),
            &target.name,
        )?;
        let checked = grants::check(&self.grants, &self.guest, verb, target);
        self.audited(checked)?;
        Ok(self.backend.as_mut())
    }
}

/// Refuses identifiers longer than Kubernetes allows, before they reach a log or a URL.
fn sized(
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
) -> Result<(), KubeError> {
    let too_long = |what: &str, text: &str, max: usize| {
        KubeError::Invalid(format!(
            "{what} is {} characters long; Kubernetes allows at most {max}",
            text.len()
        ))
    };
    if api_version.len() > MAX_KIND {
        return Err(too_long("apiVersion", api_version, MAX_KIND));
    }
    if kind.len() > MAX_KIND {
        return Err(too_long("kind", kind, MAX_KIND));
    }
    if let Some(ns) = namespace.filter(|ns| ns.len() > MAX_NAMESPACE) {
        return Err(too_long("namespace", ns, MAX_NAMESPACE));
    }
    if name.len() > MAX_NAME {
        return Err(too_long("name", name, MAX_NAME));
    }
    Ok(())
}

impl KubeCtx {
    /// Reads which object a create names (the text's head only, when well-formed),
    /// checks it against the grants and charges the write budget.
    fn admit_create(&mut self, json: String) -> Result<Submitted, wit::KubeError> {
        let target = match ObjectRef::of_json(&json) {
            Some(target) => target,
            None => ObjectRef::of(&parse(&json, "the object to create")?)?,
        };
        self.checked(Verb::Create, &target)?;
        self.charge_write(json.len())?;
        Ok(Submitted { target, json })
    }
}

fn parse(text: &str, what: &str) -> Result<Value, KubeError> {
    serde_json::from_str(text).map_err(|e| KubeError::Invalid(format!("{what} is not JSON: {e}")))
}

impl Host for KubeCtx {
    fn get(&mut self, target: wit::ObjectRef) -> Result<String, wit::KubeError> {
        let target = object_ref(target);
        Ok(self.checked(Verb::Get, &target)?.get(&target)?.to_string())
    }

    fn list(&mut self, query: wit::ListQuery) -> Result<wit::ListPage, wit::KubeError> {
        let query = list_query(query);
        self.admit()?;
        sized(
            &query.api_version,
            &query.kind,
            query.namespace.as_deref(),
            "",
        )?;
        let checked = grants::check_list(&self.grants, &self.guest, &query);
        self.audited(checked)?;
        let page = self.backend.list(&query)?;
        let items = self.grants.filter_listed(&query, page.items);
        Ok(wit::ListPage {
            items: items.iter().map(Value::to_string).collect(),
            continue_token: page.continue_token,
        })
    }

    fn create(&mut self, object: String, mode: wit::CreateMode) -> Result<String, wit::KubeError> {
        let submitted = self.admit_create(object)?;
        let mut answers = self
            .backend
            .create_texts(vec![submitted], create_mode(mode));
        Ok(answers.pop().unwrap_or_else(|| Err(no_answer()))?)
    }

    fn create_many(
        &mut self,
        objects: Vec<String>,
        mode: wit::CreateMode,
    ) -> Vec<Result<String, wit::KubeError>> {
        // Each object is checked on its own; only the allowed ones reach the backend, and
        // the answers are put back in the guest's order.
        let mut answers: Vec<Option<Result<String, wit::KubeError>>> =
            Vec::with_capacity(objects.len());
        let mut allowed = Vec::new();
        for object in objects {
            match self.admit_create(object) {
                Ok(submitted) => {
                    allowed.push(submitted);
                    answers.push(None);
                }
                Err(e) => answers.push(Some(Err(e))),
            }
        }
        let created = self.backend.create_texts(allowed, create_mode(mode));
        in_order(answers, created.into_iter().map(|r| r.map_err(Into::into)))
    }

    fn patch(
        &mut self,
        target: wit::ObjectRef,
        kind: wit::PatchKind,
        patch: String,
        options: wit::PatchOptions,
    ) -> Result<String, wit::KubeError> {
        let target = object_ref(target);
        let bytes = patch.len();
        let patch = parse(&patch, "the patch")?;
        let kind = match kind {
            wit::PatchKind::Merge => PatchKind::Merge,
            wit::PatchKind::Json => PatchKind::Json,
        };
        let options = PatchOptions {
            subresource: options.subresource.filter(|s| !s.is_empty()),
            ignore_missing_object: options.ignore_missing_object,
        };
        self.checked(Verb::Patch, &target)?;
        self.charge_write(bytes)?;
        Ok(self
            .backend
            .patch(&target, kind, patch, &options)?
            .to_string())
    }

    fn delete(
        &mut self,
        target: wit::ObjectRef,
        mode: wit::DeleteMode,
    ) -> Result<(), wit::KubeError> {
        let target = object_ref(target);
        let mode = match mode {
            wit::DeleteMode::Foreground => DeleteMode::Foreground,
            wit::DeleteMode::Background => DeleteMode::Background,
            wit::DeleteMode::Orphan => DeleteMode::Orphan,
        };
        self.checked(Verb::Delete, &target)?;
        self.charge_write(target.name.len())?;
        Ok(self.backend.delete(&target, mode)?)
    }
}

impl TypesHost for KubeCtx {}

fn object_ref(r: wit::ObjectRef) -> ObjectRef {
    ObjectRef {
        api_version: r.api_version,
        kind: r.kind,
        namespace: r.namespace.filter(|n| !n.is_empty()),
        name: r.name,
    }
}

fn list_query(q: wit::ListQuery) -> ListQuery {
    let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
    types::ListQuery {
        api_version: q.api_version,
        kind: q.kind,
        namespace: nonempty(q.namespace),
        label_selector: nonempty(q.label_selector),
        field_selector: nonempty(q.field_selector),
        limit: q.limit.filter(|l| *l > 0),
        continue_token: nonempty(q.continue_token),
    }
}

fn create_mode(mode: wit::CreateMode) -> CreateMode {
    match mode {
        wit::CreateMode::Create => CreateMode::Create,
        wit::CreateMode::IfNotExists => CreateMode::IfNotExists,
        wit::CreateMode::OrUpdate => CreateMode::OrUpdate,
    }
}

impl From<KubeError> for wit::KubeError {
    fn from(e: KubeError) -> Self {
        match e {
            KubeError::NotFound(m) => wit::KubeError::NotFound(m),
            KubeError::Forbidden(m) => wit::KubeError::Forbidden(m),
            KubeError::Conflict(m) => wit::KubeError::Conflict(m),
            KubeError::Invalid(m) => wit::KubeError::Invalid(m),
            KubeError::Unavailable(m) => wit::KubeError::Unavailable(m),
            KubeError::LimitExceeded(m) => wit::KubeError::LimitExceeded(m),
        }
    }
}
