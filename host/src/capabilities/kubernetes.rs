//! The WIT `kubernetes` interface: grants check, audit line, then the backend.

use super::backend::KubeBackend;
use super::grants::Grants;
use super::types::{self, KubeError, ObjectRef};
use crate::logging;
use crate::manifest::Verb;
use crate::runtime::bindings::hook::deckhouse::hooks::kubernetes::Host;
use crate::runtime::bindings::{self as wit};
use crate::runtime::state::HostState;
use serde_json::Value;

/// A guest's Kubernetes access: its grants and where calls go.
pub struct KubeCapability {
    pub grants: Grants,
    pub backend: Box<dyn KubeBackend>,
    /// How many calls the guest made, for the run summary.
    pub calls: u64,
}

impl KubeCapability {
    pub fn new(grants: Grants, backend: Box<dyn KubeBackend>) -> Self {
        Self { grants, backend, calls: 0 }
    }
}

impl HostState {
    /// The capability, or `forbidden` when the guest has none.
    fn kube(&mut self, verb: Verb, what: &str) -> Result<&mut KubeCapability, KubeError> {
        let guest = self.guest.clone();
        match self.kube.as_mut() {
            Some(k) => {
                k.calls += 1;
                Ok(k)
            }
            None => Err(deny(&guest, verb, what)),
        }
    }

    fn checked(&mut self, verb: Verb, target: &ObjectRef) -> Result<&mut KubeCapability, KubeError> {
        let guest = self.guest.clone();
        let cap = self.kube(verb, &target.to_string())?;
        if cap.grants.allows(verb, target) {
            Ok(cap)
        } else {
            Err(deny(&guest, verb, &target.to_string()))
        }
    }
}

/// Logs the audit line and builds the `forbidden` answer.
fn deny(guest: &str, verb: Verb, what: &str) -> KubeError {
    let verb = format!("{verb:?}").to_lowercase();
    logging::warn(
        "guest call denied by the grants manifest",
        &[("guest", guest.into()), ("verb", verb.clone().into()), ("object", what.into()), ("audit", true.into())],
    );
    KubeError::Forbidden(format!("{guest} may not {verb} {what}: not granted in grants.yaml"))
}

fn parse(text: &str, what: &str) -> Result<Value, KubeError> {
    serde_json::from_str(text).map_err(|e| KubeError::Invalid(format!("{what} is not JSON: {e}")))
}

impl Host for HostState {
    fn get(&mut self, target: wit::ObjectRef) -> Result<String, wit::KubeError> {
        let target = from_wit(target);
        let cap = self.checked(Verb::Get, &target)?;
        Ok(cap.backend.get(&target)?.to_string())
    }

    fn list(&mut self, query: wit::ListQuery) -> Result<Vec<String>, wit::KubeError> {
        let query = types::ListQuery {
            api_version: query.api_version,
            kind: query.kind,
            namespace: query.namespace,
            label_selector: query.label_selector,
        };
        let guest = self.guest.clone();
        let what = format!("{} ({}) list", query.kind, query.api_version);
        let cap = self.kube(Verb::List, &what)?;
        if !cap.grants.allows_list(&query) {
            return Err(deny(&guest, Verb::List, &what).into());
        }
        let objects = cap.backend.list(&query)?;
        Ok(cap.grants.filter_listed(&query, objects).iter().map(Value::to_string).collect())
    }

    fn create(&mut self, object: String, if_absent: bool) -> Result<String, wit::KubeError> {
        let object = parse(&object, "the object to create")?;
        let target = ObjectRef::of(&object)?;
        let cap = self.checked(Verb::Create, &target)?;
        Ok(cap.backend.create(object, if_absent)?.to_string())
    }

    fn patch(&mut self, target: wit::ObjectRef, kind: wit::PatchKind, patch: String) -> Result<String, wit::KubeError> {
        let target = from_wit(target);
        let patch = parse(&patch, "the patch")?;
        let kind = match kind {
            wit::PatchKind::Merge => types::PatchKind::Merge,
            wit::PatchKind::Json => types::PatchKind::Json,
        };
        let cap = self.checked(Verb::Patch, &target)?;
        Ok(cap.backend.patch(&target, kind, patch)?.to_string())
    }

    fn delete(&mut self, target: wit::ObjectRef) -> Result<(), wit::KubeError> {
        let target = from_wit(target);
        let cap = self.checked(Verb::Delete, &target)?;
        Ok(cap.backend.delete(&target)?)
    }
}

impl crate::runtime::bindings::hook::deckhouse::hooks::types::Host for HostState {}

fn from_wit(r: wit::ObjectRef) -> ObjectRef {
    ObjectRef { api_version: r.api_version, kind: r.kind, namespace: r.namespace.filter(|n| !n.is_empty()), name: r.name }
}

impl From<KubeError> for wit::KubeError {
    fn from(e: KubeError) -> Self {
        match e {
            KubeError::NotFound(m) => wit::KubeError::NotFound(m),
            KubeError::Forbidden(m) => wit::KubeError::Forbidden(m),
            KubeError::Conflict(m) => wit::KubeError::Conflict(m),
            KubeError::Invalid(m) => wit::KubeError::Invalid(m),
            KubeError::Unavailable(m) => wit::KubeError::Unavailable(m),
        }
    }
}
