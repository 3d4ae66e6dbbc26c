//! Job mode: the guest's Kubernetes calls go to the live API server through kube-rs.
//!
//! Objects travel as raw JSON (kube-rs request builder + `Client::request::<Value>`),
//! never through typed structs, so the migration sees and writes exactly what the API
//! server holds. Kinds are resolved by discovery once per apiVersion/kind.
//!
//! Every attempt has a timeout. 429, 5xx, timeouts and connection errors are retried
//! with exponential backoff, a bounded number of times; other answers are final.
//! A retried create that had reached the server answers `Conflict` (or, with
//! `if_absent`, the existing object); a retried JSON patch may apply twice unless it
//! starts with a `test` operation — guests that care should use one.

use super::backend::KubeBackend;
use super::types::{
    CreateMode, DeleteMode, KubeError, ListPage, ListQuery, ObjectRef, PatchKind, PatchOptions,
};
use crate::logging::{self, Level};
use anyhow::Context as _;
use kube::api::{
    DeleteParams, DynamicObject, GetParams, ListParams, Patch, PatchParams, PostParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::Request;
use kube::discovery::{ApiResource, Scope};
use kube::{Client, Config, Resource as _};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// The field manager recorded in managedFields for our writes.
const FIELD_MANAGER: &str = "wasm-hooks";

/// How to reach the API server and how patient to be with it.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// A kubeconfig file; `None` infers (KUBECONFIG, ~/.kube/config, then in-cluster).
    pub kubeconfig: Option<PathBuf>,
    /// Limit for one attempt of one call.
    pub timeout: Duration,
    /// Attempts per call, the first included (at least 1).
    pub attempts: u32,
    /// Wait before the first retry; doubles per retry up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Send every write with `dryRun=All`: the API server validates and admits it, and
    /// stores nothing (a rehearsal).
    pub dry_run: bool,
    /// How many creates of one `create_many` may be in flight at once.
    pub concurrency: u32,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            kubeconfig: None,
            timeout: Duration::from_secs(30),
            attempts: 5,
            backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            dry_run: false,
            concurrency: 16,
        }
    }
}

/// A served kind: where its objects live.
#[derive(Clone, Debug)]
struct Kind {
    resource: ApiResource,
    namespaced: bool,
}

/// [`KubeBackend`] over a live API server; owns the runtime it blocks on.
pub struct LiveBackend {
    runtime: tokio::runtime::Runtime,
    client: Client,
    options: LiveOptions,
    kinds: HashMap<(String, String), Kind>,
}

impl LiveBackend {
    /// Loads the configuration and builds a client; nothing is sent yet.
    pub fn connect(options: LiveOptions) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the runtime for Kubernetes calls")?;
        let client = runtime.block_on(client(&options))?;
        Ok(Self {
            runtime,
            client,
            options,
            kinds: HashMap::new(),
        })
    }

    /// The kind's scope and plural, from discovery on first use.
    fn kind(&mut self, api_version: &str, kind: &str) -> Result<Kind, KubeError> {
        let cache_key = (api_version.to_owned(), kind.to_owned());
        if let Some(found) = self.kinds.get(&cache_key) {
            return Ok(found.clone());
        }
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group, version),
            None => ("", api_version),
        };
        if version.is_empty() || kind.is_empty() {
            return Err(KubeError::Invalid(format!(
                "apiVersion {api_version:?} kind {kind:?} is not a valid kind"
            )));
        }
        let gvk = kube::core::GroupVersionKind::gvk(group, version, kind);
        let what = format!("discover {kind} ({api_version})");
        let client = self.client.clone();
        let (resource, caps) =
            self.retrying(&what, || kube::discovery::pinned_kind(&client, &gvk))?;
        let found = Kind {
            resource,
            namespaced: matches!(caps.scope, Scope::Namespaced),
        };
        self.kinds.insert(cache_key, found.clone());
        Ok(found)
    }

    /// The collection path for one object's call, checking the namespace against the scope.
    fn object_path(&mut self, target: &ObjectRef) -> Result<(Kind, String), KubeError> {
        let kind = self.kind(&target.api_version, &target.kind)?;
        match (kind.namespaced, target.namespace.as_deref()) {
            (true, None) => Err(KubeError::Invalid(format!(
                "{target}: {} is namespaced; give metadata.namespace",
                target.kind
            ))),
            (false, Some(_)) => Err(KubeError::Invalid(format!(
                "{target}: {} is cluster-scoped; drop the namespace",
                target.kind
            ))),
            (_, namespace) => {
                let path = DynamicObject::url_path(&kind.resource, namespace);
                Ok((kind, path))
            }
        }
    }

    /// Sends one request built by `op`, retrying as the module docs say.
    fn send(&self, what: &str, path: &str, op: Op<'_>) -> Result<Value, KubeError> {
        let client = &self.client;
        let dry_run = self.options.dry_run;
        self.retrying(what, || perform(client, path, &op, dry_run))
    }

    /// Runs `attempt` until it succeeds, fails for good, or attempts run out.
    fn retrying<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T, KubeError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        let options = &self.options;
        let attempts = options.attempts.max(1);
        self.runtime.block_on(async {
            let mut delay = options.backoff;
            for number in 1..=attempts {
                let failure = match tokio::time::timeout(options.timeout, attempt()).await {
                    Ok(Ok(value)) => return Ok(value),
                    Ok(Err(error)) => classify(&error),
                    Err(_) => Failure::retry(format!("timed out after {:?}", options.timeout)),
                };
                if !failure.retryable {
                    return Err(failure.into_error(what));
                }
                if number == attempts {
                    let gave_up = format!(
                        "{what}: {} (gave up after {attempts} attempts)",
                        failure.message
                    );
                    return Err(KubeError::Unavailable(gave_up));
                }
                warn_retry(what, number, attempts, delay, &failure.message);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(options.max_backoff);
            }
            Err(KubeError::Unavailable(format!(
                "{what}: no attempt was made"
            )))
        })
    }
}

impl KubeBackend for LiveBackend {
    fn get(&mut self, target: &ObjectRef) -> Result<Value, KubeError> {
        let (kind, path) = self.object_path(target)?;
        let object = self.send(&format!("get {target}"), &path, Op::Get(&target.name))?;
        Ok(typed(object, &kind.resource))
    }

    fn list(&mut self, query: &ListQuery) -> Result<ListPage, KubeError> {
        let kind = self.kind(&query.api_version, &query.kind)?;
        if !kind.namespaced && query.namespace.is_some() {
            return Err(KubeError::Invalid(format!(
                "list {}: the kind is cluster-scoped; drop the namespace",
                query.kind
            )));
        }
        let path = DynamicObject::url_path(&kind.resource, query.namespace.as_deref());
        let what = format!("list {} ({})", query.kind, query.api_version);
        let list = self.send(&what, &path, Op::List(query))?;
        let continue_token = list
            .pointer("/metadata/continue")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let items = match list.get("items") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| typed(i.clone(), &kind.resource))
                .collect(),
            Some(Value::Null) | None => Vec::new(),
            Some(_) => {
                return Err(KubeError::Unavailable(format!(
                    "{what}: the API server's list has a non-array `items`"
                )));
            }
        };
        Ok(ListPage {
            items,
            continue_token,
        })
    }

    fn create(&mut self, object: Value, mode: CreateMode) -> Result<Value, KubeError> {
        let target = ObjectRef::of(&object)?;
        let (kind, path) = self.object_path(&target)?;
        let body = serde_json::to_vec(&object)
            .map_err(|e| KubeError::Invalid(format!("create {target}: {e}")))?;
        match self.send(&format!("create {target}"), &path, Op::Create(body)) {
            Ok(created) => Ok(typed(created, &kind.resource)),
            Err(KubeError::Conflict(_)) if mode == CreateMode::IfNotExists => self.get(&target),
            Err(KubeError::Conflict(_)) if mode == CreateMode::OrUpdate => {
                // As Deckhouse's CreateOrUpdate: replace the existing object, carrying its
                // resourceVersion so a concurrent change is a conflict, not lost.
                let existing = self.get(&target)?;
                let mut replacement = object;
                if let Some(version) = existing.pointer("/metadata/resourceVersion") {
                    replacement["metadata"]["resourceVersion"] = version.clone();
                }
                let body = serde_json::to_vec(&replacement)
                    .map_err(|e| KubeError::Invalid(format!("update {target}: {e}")))?;
                let updated = self.send(
                    &format!("update {target}"),
                    &path,
                    Op::Replace(&target.name, body),
                )?;
                Ok(typed(updated, &kind.resource))
            }
            Err(error) => Err(error),
        }
    }

    fn patch(
        &mut self,
        target: &ObjectRef,
        kind: PatchKind,
        patch: Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        let (resolved, path) = self.object_path(target)?;
        let name = match &options.subresource {
            Some(sub) => format!("{}/{sub}", target.name),
            None => target.name.clone(),
        };
        match self.send(
            &format!("patch {target}"),
            &path,
            Op::Patch(&name, kind, patch.clone()),
        ) {
            Ok(patched) => Ok(typed(patched, &resolved.resource)),
            Err(KubeError::NotFound(_)) if options.ignore_missing_object => Ok(patch),
            Err(error) => Err(error),
        }
    }

    fn delete(&mut self, target: &ObjectRef, mode: DeleteMode) -> Result<(), KubeError> {
        let (_, path) = self.object_path(target)?;
        match self.send(
            &format!("delete {target}"),
            &path,
            Op::Delete(&target.name, mode),
        ) {
            Ok(_) | Err(KubeError::NotFound(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }
}

/// One request, rebuilt for every attempt (a built request cannot be cloned).
enum Op<'a> {
    Get(&'a str),
    List(&'a ListQuery),
    Create(Vec<u8>),
    Replace(&'a str, Vec<u8>),
    Patch(&'a str, PatchKind, Value),
    Delete(&'a str, DeleteMode),
}

async fn perform(
    client: &Client,
    path: &str,
    op: &Op<'_>,
    dry_run: bool,
) -> Result<Value, kube::Error> {
    let request = Request::new(path);
    let post = PostParams {
        field_manager: Some(FIELD_MANAGER.into()),
        dry_run,
    };
    let built = match op {
        Op::Get(name) => request.get(name, &GetParams::default()),
        Op::List(query) => {
            let params = ListParams {
                label_selector: query.label_selector.clone(),
                field_selector: query.field_selector.clone(),
                limit: query.limit,
                continue_token: query.continue_token.clone(),
                ..ListParams::default()
            };
            request.list(&params)
        }
        Op::Create(body) => request.create(&post, body.clone()),
        Op::Replace(name, body) => request.replace(name, &post, body.clone()),
        Op::Patch(name, kind, patch) => {
            let params = PatchParams {
                field_manager: Some(FIELD_MANAGER.into()),
                dry_run,
                ..PatchParams::default()
            };
            request
                .patch(name, &params, &Patch::Merge(patch))
                .map(|mut built| {
                    // kube-rs's own JSON-patch type needs an extra feature; the body is the
                    // same JSON either way, only the media type differs.
                    if *kind == PatchKind::Json {
                        let media = "application/json-patch+json"
                            .parse()
                            .expect("a valid header value");
                        built.headers_mut().insert("content-type", media);
                    }
                    built
                })
        }
        Op::Delete(name, mode) => {
            let params = DeleteParams {
                dry_run,
                propagation_policy: Some(match mode {
                    DeleteMode::Foreground => kube::api::PropagationPolicy::Foreground,
                    DeleteMode::Background => kube::api::PropagationPolicy::Background,
                    DeleteMode::Orphan => kube::api::PropagationPolicy::Orphan,
                }),
                ..DeleteParams::default()
            };
            request.delete(name, &params)
        }
    };
    client
        .request::<Value>(built.map_err(kube::Error::BuildRequest)?)
        .await
}

/// Builds the kube-rs client from an explicit kubeconfig or by inference.
async fn client(options: &LiveOptions) -> anyhow::Result<Client> {
    let mut config = match &options.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path).with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .with_context(|| format!("kubeconfig {} has no usable current context", path.display()))?
        }
        None => Config::infer()
            .await
            .context("no Kubernetes configuration found: set KUBECONFIG, or run in a pod with a service account")?,
    };
    // Our retry loop is the only one: bounded, logged, and aware of per-attempt timeouts.
    config.default_retry = false;
    Client::try_from(config).context("cannot build a Kubernetes client from the configuration")
}

/// Fills apiVersion and kind where the API server left them out (list items of built-ins).
fn typed(mut object: Value, resource: &ApiResource) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.entry("apiVersion")
            .or_insert_with(|| resource.api_version.clone().into());
        map.entry("kind")
            .or_insert_with(|| resource.kind.clone().into());
    }
    object
}

/// A failed attempt: what to tell the guest and whether another attempt may help.
struct Failure {
    error: fn(String) -> KubeError,
    message: String,
    retryable: bool,
}

impl Failure {
    fn retry(message: String) -> Self {
        Self {
            error: KubeError::Unavailable,
            message,
            retryable: true,
        }
    }

    fn into_error(self, what: &str) -> KubeError {
        (self.error)(format!("{what}: {}", self.message))
    }
}

/// Maps a kube-rs error to the guest's error kinds, keeping the API server's message.
fn classify(error: &kube::Error) -> Failure {
    use kube::error::DiscoveryError;
    let (error, message, retryable): (fn(String) -> KubeError, String, bool) = match error {
        kube::Error::Api(status) => {
            let message = if status.message.is_empty() {
                status.reason.clone()
            } else {
                status.message.clone()
            };
            let message = format!("{message} (HTTP {})", status.code);
            match status.code {
                404 => (KubeError::NotFound, message, false),
                401 | 403 => (KubeError::Forbidden, message, false),
                409 => (KubeError::Conflict, message, false),
                400 | 422 => (KubeError::Invalid, message, false),
                code => (KubeError::Unavailable, message, code == 429 || code >= 500),
            }
        }
        kube::Error::Discovery(
            e @ (DiscoveryError::MissingKind(_)
            | DiscoveryError::MissingResource(_)
            | DiscoveryError::MissingApiGroup(_)),
        ) => (
            KubeError::NotFound,
            format!("the API server does not serve this kind ({e})"),
            false,
        ),
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::Auth(_) => (
            KubeError::Unavailable,
            format!("cannot reach the API server: {error}"),
            true,
        ),
        kube::Error::BuildRequest(_) => (KubeError::Invalid, error.to_string(), false),
        other => (KubeError::Unavailable, other.to_string(), false),
    };
    Failure {
        error,
        message,
        retryable,
    }
}

/// The one place retries are logged.
fn warn_retry(what: &str, attempt: u32, attempts: u32, delay: Duration, error: &str) {
    logging::log(
        Level::Warn,
        "Kubernetes call failed; retrying",
        &[
            ("call", what.into()),
            ("attempt", attempt.into()),
            ("attempts", attempts.into()),
            ("retry_in_ms", (delay.as_millis() as u64).into()),
            ("error", error.into()),
        ],
    );
}
