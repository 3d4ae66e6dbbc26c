//! The WIT `kubernetes` interface on its own narrow context: the grants check (with its
//! audit line), then the backend. Nothing else of the store is reachable from here.

use super::backend::KubeBackend;
use super::grants::Grants;
use super::types::{
    self, CreateMode, DeleteMode, KubeError, ListQuery, ObjectRef, PatchKind, PatchOptions,
};
use crate::manifest::Verb;
use crate::runtime::bindings::hook::deckhouse::hooks::{
    kubernetes::Host, types::Host as TypesHost,
};
use crate::runtime::bindings::{self as wit};
use serde_json::Value;

/// A guest's Kubernetes access: who it is, its grants, and where calls go.
pub struct KubeCtx {
    guest: String,
    grants: Grants,
    backend: Box<dyn KubeBackend>,
    /// How many calls the guest made, for the run summary.
    pub calls: u64,
}

impl KubeCtx {
    pub fn new(guest: &str, grants: Grants, backend: Box<dyn KubeBackend>) -> Self {
        Self {
            guest: guest.to_owned(),
            grants,
            backend,
            calls: 0,
        }
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
        self.calls += 1;
        self.grants.check(&self.guest, verb, target)?;
        Ok(self.backend.as_mut())
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
        self.calls += 1;
        self.grants.check_list(&self.guest, &query)?;
        let page = self.backend.list(&query)?;
        let items = self.grants.filter_listed(&query, page.items);
        Ok(wit::ListPage {
            items: items.iter().map(Value::to_string).collect(),
            continue_token: page.continue_token,
        })
    }

    fn create(&mut self, object: String, mode: wit::CreateMode) -> Result<String, wit::KubeError> {
        let object = parse(&object, "the object to create")?;
        let target = ObjectRef::of(&object)?;
        Ok(self
            .checked(Verb::Create, &target)?
            .create(object, create_mode(mode))?
            .to_string())
    }

    fn create_many(
        &mut self,
        objects: Vec<String>,
        mode: wit::CreateMode,
    ) -> Vec<Result<String, wit::KubeError>> {
        // Each object is checked on its own; only the allowed ones reach the backend, and
        // the answers are put back in the guest's order.
        let mode = create_mode(mode);
        let mut answers: Vec<Option<Result<String, wit::KubeError>>> =
            Vec::with_capacity(objects.len());
        let mut allowed = Vec::new();
        for (i, text) in objects.iter().enumerate() {
            let checked = parse(text, "the object to create").and_then(|o| {
                let target = ObjectRef::of(&o)?;
                self.checked(Verb::Create, &target)?;
                Ok(o)
            });
            match checked {
                Ok(object) => {
                    allowed.push((i, object));
                    answers.push(None);
                }
                Err(e) => answers.push(Some(Err(e.into()))),
            }
        }
        let (indexes, objects): (Vec<usize>, Vec<Value>) = allowed.into_iter().unzip();
        for (i, result) in indexes
            .into_iter()
            .zip(self.backend.create_many(objects, mode))
        {
            answers[i] = Some(result.map(|v| v.to_string()).map_err(Into::into));
        }
        answers
            .into_iter()
            .map(|a| {
                a.unwrap_or_else(|| {
                    Err(wit::KubeError::Unavailable(
                        "the backend gave no answer for this object".into(),
                    ))
                })
            })
            .collect()
    }

    fn patch(
        &mut self,
        target: wit::ObjectRef,
        kind: wit::PatchKind,
        patch: String,
        options: wit::PatchOptions,
    ) -> Result<String, wit::KubeError> {
        let target = object_ref(target);
        let patch = parse(&patch, "the patch")?;
        let kind = match kind {
            wit::PatchKind::Merge => PatchKind::Merge,
            wit::PatchKind::Json => PatchKind::Json,
        };
        let options = PatchOptions {
            subresource: options.subresource.filter(|s| !s.is_empty()),
            ignore_missing_object: options.ignore_missing_object,
        };
        Ok(self
            .checked(Verb::Patch, &target)?
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
        Ok(self.checked(Verb::Delete, &target)?.delete(&target, mode)?)
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
