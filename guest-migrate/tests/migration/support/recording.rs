//! A `Host` that records every call (verb, apiVersion, kind, namespace, name, and a
//! detail) and can act on the store just before a call is served, to stage races.

use deckhouse_hooks_sdk::{
    CreateMode, DeleteMode, Host, KubeError, ListPage, ListQuery, LogLevel, ObjectRef, PatchKind,
    PatchOptions,
};
use serde_json::Value;
use std::cell::RefCell;

use super::cluster::{Served, StoreCluster};

/// One call as the guest made it; `create-many` records one `create` per object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub verb: &'static str,
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    /// None for lists.
    pub name: Option<String>,
    /// The create mode, patch body, label selector or page limit.
    pub detail: String,
    /// For creates: the size of the batch it went in (1 for a single create).
    pub batch: usize,
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.verb,
            self.kind,
            self.name.as_deref().unwrap_or("*"),
            self.detail
        )
    }
}

type Hook<'a> = Box<dyn FnMut(&Call, &mut StoreCluster) + 'a>;

/// A `Host` over the store that records every call, and can run a hook on the store
/// just before a call is served.
pub struct Recording<'a, 'b> {
    inner: &'a Served<'b>,
    pub calls: RefCell<Vec<Call>>,
    hook: RefCell<Option<Hook<'a>>>,
}

impl<'a, 'b> Recording<'a, 'b> {
    pub fn new(inner: &'a Served<'b>) -> Self {
        Self {
            inner,
            calls: RefCell::default(),
            hook: RefCell::new(None),
        }
    }

    /// Runs `hook` before each call is served.
    pub fn with_hook(
        inner: &'a Served<'b>,
        hook: impl FnMut(&Call, &mut StoreCluster) + 'a,
    ) -> Self {
        Self {
            inner,
            calls: RefCell::default(),
            hook: RefCell::new(Some(Box::new(hook))),
        }
    }

    fn note(&self, call: Call) {
        if let Some(hook) = self.hook.borrow_mut().as_mut() {
            hook(&call, &mut self.inner.cluster());
        }
        self.calls.borrow_mut().push(call);
    }
}

fn of_ref(verb: &'static str, r: &ObjectRef, detail: String) -> Call {
    Call {
        verb,
        api_version: r.api_version.clone(),
        kind: r.kind.clone(),
        namespace: r.namespace.clone(),
        name: Some(r.name.clone()),
        detail,
        batch: 1,
    }
}

fn of_object(o: &Value, mode: CreateMode, batch: usize) -> Call {
    let text = |p: &str| o.pointer(p).and_then(Value::as_str).map(str::to_owned);
    Call {
        verb: "create",
        api_version: text("/apiVersion").unwrap_or_default(),
        kind: text("/kind").unwrap_or_default(),
        namespace: text("/metadata/namespace"),
        name: text("/metadata/name"),
        detail: format!("{mode:?}"),
        batch,
    }
}

impl Host for Recording<'_, '_> {
    fn get(&self, o: &ObjectRef) -> Result<Value, KubeError> {
        self.note(of_ref("get", o, String::new()));
        self.inner.get(o)
    }
    fn list(&self, q: &ListQuery) -> Result<ListPage, KubeError> {
        self.note(Call {
            verb: "list",
            api_version: q.api_version.clone(),
            kind: q.kind.clone(),
            namespace: q.namespace.clone(),
            name: None,
            detail: format!(
                "selector={} limit={:?}",
                q.label_selector.as_deref().unwrap_or(""),
                q.limit
            ),
            batch: 0,
        });
        self.inner.list(q)
    }
    fn create(&self, o: &Value, mode: CreateMode) -> Result<Value, KubeError> {
        self.note(of_object(o, mode, 1));
        self.inner.create(o, mode)
    }
    fn create_many(&self, objects: &[Value], mode: CreateMode) -> Vec<Result<Value, KubeError>> {
        for o in objects {
            self.note(of_object(o, mode, objects.len()));
        }
        self.inner.create_many(objects, mode)
    }
    fn patch(
        &self,
        o: &ObjectRef,
        kind: PatchKind,
        patch: &Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        self.note(of_ref("patch", o, format!("{kind:?} {patch}")));
        self.inner.patch(o, kind, patch, options)
    }
    fn delete(&self, o: &ObjectRef, mode: DeleteMode) -> Result<(), KubeError> {
        self.note(of_ref("delete", o, format!("{mode:?}")));
        self.inner.delete(o, mode)
    }
    fn log(&self, level: LogLevel, message: &str, fields: &[(&str, &str)]) {
        self.inner.log(level, message, fields);
    }
}
