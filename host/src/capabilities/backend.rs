//! The one trait every source of Kubernetes data implements: this run's snapshots
//! (hook mode), the live API server (job mode), or an in-memory store (simulation, tests).

use super::types::{
    CreateMode, DeleteMode, KubeError, ListPage, ListQuery, ObjectRef, PatchKind, PatchOptions,
};
use serde_json::Value;

/// A batch's answers in the batch's order: `places` holds the ones settled before the
/// backend was asked (refused, unreadable) and `None` where `answers` fill in, in order.
/// A place the backend left without an answer is `unavailable`, never silence.
pub fn in_order<T, E: From<KubeError>>(
    places: Vec<Option<Result<T, E>>>,
    answers: impl IntoIterator<Item = Result<T, E>>,
) -> Vec<Result<T, E>> {
    let mut answers = answers.into_iter();
    places
        .into_iter()
        .map(|place| {
            place
                .or_else(|| answers.next())
                .unwrap_or_else(|| Err(no_answer().into()))
        })
        .collect()
}

/// What a batch says for an object its backend did not answer (a backend bug).
pub fn no_answer() -> KubeError {
    KubeError::Unavailable("the backend gave no answer for this object".into())
}

/// An object to create, as the guest's JSON text, and the object it names.
#[derive(Clone, Debug)]
pub struct Submitted {
    pub target: ObjectRef,
    pub json: String,
}

/// Kubernetes calls as the guest makes them, after the grants check.
///
/// Calls are synchronous: the guest is synchronous, and a live backend blocks on its
/// own runtime. Errors are data, so the guest decides what a `not-found` means.
pub trait KubeBackend: Send {
    /// One object.
    fn get(&mut self, target: &ObjectRef) -> Result<Value, KubeError>;
    /// One page of the objects matching the query.
    fn list(&mut self, query: &ListQuery) -> Result<ListPage, KubeError>;
    /// Creates `object` as `mode` says.
    fn create(&mut self, object: Value, mode: CreateMode) -> Result<Value, KubeError>;
    /// Creates many objects; one result per object, in order. Backends that can send
    /// concurrently override this; the default sends one after the other.
    fn create_many(
        &mut self,
        objects: Vec<Value>,
        mode: CreateMode,
    ) -> Vec<Result<Value, KubeError>> {
        objects.into_iter().map(|o| self.create(o, mode)).collect()
    }
    /// Creates objects given as the guest's JSON text, each already read as naming
    /// `target`; answers are JSON text, one per object, in order. The default reads each
    /// text and calls [`KubeBackend::create_many`]; a backend that can pass text through
    /// (the live API) overrides it and saves a parse and a serialisation per object each
    /// way: the migration Job creates tens of thousands of objects.
    fn create_texts(
        &mut self,
        objects: Vec<Submitted>,
        mode: CreateMode,
    ) -> Vec<Result<String, KubeError>> {
        let mut answers: Vec<Option<Result<String, KubeError>>> = Vec::new();
        let mut parsed = Vec::new();
        for object in objects {
            match serde_json::from_str::<Value>(&object.json) {
                Ok(value) => {
                    parsed.push(value);
                    answers.push(None);
                }
                Err(e) => answers.push(Some(Err(KubeError::Invalid(format!(
                    "{}: the object is not JSON: {e}",
                    object.target
                ))))),
            }
        }
        let created = self.create_many(parsed, mode);
        in_order(
            answers,
            created.into_iter().map(|r| r.map(|v| v.to_string())),
        )
    }
    /// Patches one object (or its subresource) and returns the result.
    fn patch(
        &mut self,
        target: &ObjectRef,
        kind: PatchKind,
        patch: Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError>;
    /// Deletes one object; an object already gone is not an error.
    fn delete(&mut self, target: &ObjectRef, mode: DeleteMode) -> Result<(), KubeError>;
    /// Hands over the Deckhouse object operations this backend queued (hook mode), and
    /// forgets them. Backends that write directly queue nothing.
    fn take_operations(&mut self) -> Vec<Value> {
        Vec::new()
    }
}
