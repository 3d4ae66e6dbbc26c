//! Job mode: the guest's Kubernetes calls go to the live API server through kube-rs.
//!
//! Objects travel as raw JSON (kube-rs request builder + `Client::request::<Value>`),
//! never through typed structs, so the migration sees and writes exactly what the API
//! server holds. Kinds are resolved by discovery once per group/version.
//!
//! Before any URL is built, names and namespaces are checked by Kubernetes' rules
//! (a namespace, and a Namespace's name, is a DNS-1123 label; other names are DNS-1123
//! subdomains, RBAC names path segments), so `..`, `/`, `%` or `?` never reach a path.
//! Answers are streamed and capped (`LiveOptions::max_response_bytes`); a redirect is
//! reported as one (redirects are never followed).
//!
//! Every attempt has a timeout. 429 (after its Retry-After, capped), 5xx, timeouts and
//! connection errors are retried with exponential backoff, a bounded number of times;
//! other answers, 409 included, are final. `create_many` sends up to
//! `LiveOptions::concurrency` creates at once (a slot freed by any answer is refilled) and
//! answers in the guest's order.
//! A retried create that had reached the server answers `Conflict` (or, with
//! `if_absent`, the existing object); a retried JSON patch may apply twice unless it
//! starts with a `test` operation — guests that care should use one.

use super::backend::{KubeBackend, Submitted, in_order, no_answer};
use super::types::{
    CreateMode, DeleteMode, KubeError, ListPage, ListQuery, ObjectRef, PatchKind, PatchOptions,
};
use crate::logging::{self, Level};
use anyhow::Context as _;
use futures::StreamExt as _;
use http_body_util::BodyExt as _;
use kube::api::{
    DeleteParams, DynamicObject, GetParams, ListParams, Patch, PatchParams, PostParams,
};
use kube::client::Body;
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
    /// Largest answer read from the API server; a bigger one fails the call.
    pub max_response_bytes: u64,
    /// Longest Retry-After of a 429 honoured; longer ones are cut to this.
    pub max_retry_after: Duration,
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
            max_response_bytes: 128 << 20,
            max_retry_after: Duration::from_secs(30),
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
    /// Discovery, once per group/version: every kind it serves.
    versions: HashMap<String, Vec<(String, Kind)>>,
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
            versions: HashMap::new(),
        })
    }

    /// The kind's scope and plural, from discovery of its group/version on first use.
    fn kind(&mut self, api_version: &str, kind: &str) -> Result<Kind, KubeError> {
        if !self.versions.contains_key(api_version) {
            let (group, version) = match api_version.split_once('/') {
                Some((group, version)) => (group, version),
                None => ("", api_version),
            };
            if version.is_empty() || kind.is_empty() {
                return Err(KubeError::Invalid(format!(
                    "apiVersion {api_version:?} kind {kind:?} is not a valid kind"
                )));
            }
            let gv = kube::core::GroupVersion::gv(group, version);
            let what = format!("discover {api_version}");
            let client = self.client.clone();
            let found = self.retrying(&what, || {
                let (client, gv) = (client.clone(), gv.clone());
                async move {
                    let group = kube::discovery::pinned_group(&client, &gv).await?;
                    Ok(group.versioned_resources(&gv.version))
                }
            })?;
            let kinds = found
                .into_iter()
                .map(|(resource, caps)| {
                    let namespaced = matches!(caps.scope, Scope::Namespaced);
                    (
                        resource.kind.clone(),
                        Kind {
                            resource,
                            namespaced,
                        },
                    )
                })
                .collect();
            self.versions.insert(api_version.to_owned(), kinds);
        }
        self.versions[api_version]
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, found)| found.clone())
            .ok_or_else(|| {
                KubeError::NotFound(format!(
                    "the API server does not serve kind {kind} in {api_version}"
                ))
            })
    }

    /// The collection path for one object's call, checking the namespace against the scope.
    fn object_path(&mut self, target: &ObjectRef) -> Result<(Kind, String), KubeError> {
        names::check_object(target)?;
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
    fn send<T: Decode>(&self, what: &str, path: &str, op: Op<'_>) -> Result<T, KubeError> {
        self.runtime
            .block_on(send(&self.client, &self.options, what, path, &op))
    }

    /// Runs `attempt` until it succeeds, fails for good, or attempts run out.
    fn retrying<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T, KubeError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        self.runtime.block_on(retrying(&self.options, what, || {
            let fut = attempt();
            async move { fut.await.map_err(|e| classify(&e)) }
        }))
    }
}

/// One call with its retries, as [`LiveBackend::send`].
async fn send<T: Decode>(
    client: &Client,
    options: &LiveOptions,
    what: &str,
    path: &str,
    op: &Op<'_>,
) -> Result<T, KubeError> {
    retrying(options, what, || perform(client, options, path, op)).await
}

/// The retry loop: per-attempt timeout, exponential backoff, Retry-After of a 429.
async fn retrying<T, F, Fut>(
    options: &LiveOptions,
    what: &str,
    mut attempt: F,
) -> Result<T, KubeError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let attempts = options.attempts.max(1);
    let mut delay = options.backoff;
    for number in 1..=attempts {
        let failure = match tokio::time::timeout(options.timeout, attempt()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(failure)) => failure,
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
        let wait = match failure.retry_after {
            Some(asked) => asked.min(options.max_retry_after).max(delay),
            None => delay,
        };
        warn_retry(what, number, attempts, wait, &failure.message);
        tokio::time::sleep(wait).await;
        delay = (delay * 2).min(options.max_backoff);
    }
    Err(KubeError::Unavailable(format!(
        "{what}: no attempt was made"
    )))
}

impl KubeBackend for LiveBackend {
    fn get(&mut self, target: &ObjectRef) -> Result<Value, KubeError> {
        let (kind, path) = self.object_path(target)?;
        let object = self.send(&format!("get {target}"), &path, Op::Get(&target.name))?;
        Ok(typed(object, &kind.resource))
    }

    fn list(&mut self, query: &ListQuery) -> Result<ListPage, KubeError> {
        if let Some(namespace) = &query.namespace {
            names::check_namespace(namespace)?;
        }
        let kind = self.kind(&query.api_version, &query.kind)?;
        if !kind.namespaced && query.namespace.is_some() {
            return Err(KubeError::Invalid(format!(
                "list {}: the kind is cluster-scoped; drop the namespace",
                query.kind
            )));
        }
        let path = DynamicObject::url_path(&kind.resource, query.namespace.as_deref());
        let what = format!("list {} ({})", query.kind, query.api_version);
        let list: Value = self.send(&what, &path, Op::List(query))?;
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
        let mut created = self.create_many(vec![object], mode);
        created.pop().unwrap_or_else(|| Err(no_answer()))
    }

    fn create_many(
        &mut self,
        objects: Vec<Value>,
        mode: CreateMode,
    ) -> Vec<Result<Value, KubeError>> {
        let mut places = Vec::with_capacity(objects.len());
        let mut readable = Vec::new();
        for object in objects {
            match ObjectRef::of(&object) {
                Ok(target) => {
                    let json = object.to_string();
                    readable.push(Submitted { target, json });
                    places.push(None);
                }
                Err(error) => places.push(Some(Err(error))),
            }
        }
        let created = self.create_texts(readable, mode);
        in_order(places, created)
            .into_iter()
            .map(|text| {
                serde_json::from_str(&text?).map_err(|e| {
                    KubeError::Unavailable(format!("the created object is not JSON: {e}"))
                })
            })
            .collect()
    }

    fn create_texts(
        &mut self,
        objects: Vec<Submitted>,
        mode: CreateMode,
    ) -> Vec<Result<String, KubeError>> {
        // Kinds are resolved first, one after the other (discovery is cached); then the
        // creates go out with at most `concurrency` in flight, answers kept in order.
        let planned: Vec<Result<(Kind, String, Submitted), KubeError>> = objects
            .into_iter()
            .map(|object| {
                let (kind, path) = self.object_path(&object.target)?;
                Ok((kind, path, object))
            })
            .collect();
        let (client, options) = (&self.client, &self.options);
        let width = options.concurrency.max(1) as usize;
        // Unordered, so one slow answer does not hold the slots of those behind it; each
        // answer is put back at its object's place.
        let mut answers: Vec<Option<Result<String, KubeError>>> =
            (0..planned.len()).map(|_| None).collect();
        let done: Vec<(usize, Result<String, KubeError>)> = self.runtime.block_on(
            futures::stream::iter(planned.into_iter().enumerate())
                .map(|(at, planned)| async move {
                    let answer = match planned {
                        Ok((kind, path, object)) => {
                            create_one(client, options, &kind, &path, object, mode).await
                        }
                        Err(error) => Err(error),
                    };
                    (at, answer)
                })
                .buffer_unordered(width)
                .collect(),
        );
        for (at, answer) in done {
            answers[at] = Some(answer);
        }
        answers
            .into_iter()
            .map(|a| a.unwrap_or_else(|| Err(no_answer())))
            .collect()
    }

    fn patch(
        &mut self,
        target: &ObjectRef,
        kind: PatchKind,
        patch: Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        if let Some(sub) = &options.subresource {
            names::check_subresource(sub)?;
        }
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
        match self.send::<Value>(
            &format!("delete {target}"),
            &path,
            Op::Delete(&target.name, mode),
        ) {
            Ok(_) | Err(KubeError::NotFound(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }
}

/// One create as `mode` says: a conflict is the existing object (`IfNotExists`) or a
/// replace carrying its resourceVersion (`OrUpdate`, as Deckhouse's CreateOrUpdate).
/// The body goes out as the guest wrote it and the answer comes back as the server wrote
/// it, read only to check it names its kind.
async fn create_one(
    client: &Client,
    options: &LiveOptions,
    kind: &Kind,
    path: &str,
    object: Submitted,
    mode: CreateMode,
) -> Result<String, KubeError> {
    let Submitted { target, json } = object;
    let get = |what: String| {
        let target = &target;
        async move {
            let existing: Value =
                send(client, options, &what, path, &Op::Get(&target.name)).await?;
            Ok::<_, KubeError>(typed(existing, &kind.resource))
        }
    };
    let what = format!("create {target}");
    match send::<Text>(
        client,
        options,
        &what,
        path,
        &Op::Create(json.as_bytes().to_vec()),
    )
    .await
    {
        Ok(Text(created)) => typed_text(created, &kind.resource, &what),
        Err(KubeError::Conflict(_)) if mode == CreateMode::IfNotExists => {
            Ok(get(format!("get {target}")).await?.to_string())
        }
        Err(KubeError::Conflict(_)) if mode == CreateMode::OrUpdate => {
            let existing = get(format!("get {target}")).await?;
            let mut replacement: Value = serde_json::from_str(&json)
                .map_err(|e| KubeError::Invalid(format!("update {target}: {e}")))?;
            if let Some(version) = existing.pointer("/metadata/resourceVersion") {
                replacement["metadata"]["resourceVersion"] = version.clone();
            }
            let body = serde_json::to_vec(&replacement)
                .map_err(|e| KubeError::Invalid(format!("update {target}: {e}")))?;
            let updated: Value = send(
                client,
                options,
                &format!("update {target}"),
                path,
                &Op::Replace(&target.name, body),
            )
            .await?;
            Ok(typed(updated, &kind.resource).to_string())
        }
        Err(error) => Err(error),
    }
}

/// An answer's text as [`typed`] would make it: passed through when it names its
/// apiVersion and kind (a create's answer always does), else read, filled in, written.
fn typed_text(text: String, resource: &ApiResource, what: &str) -> Result<String, KubeError> {
    if ObjectRef::of_json(&text).is_some() {
        return Ok(text);
    }
    let object: Value = serde_json::from_str(&text).map_err(|e| {
        KubeError::Unavailable(format!("{what}: the API server's answer is not JSON: {e}"))
    })?;
    Ok(typed(object, resource).to_string())
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

async fn perform<T: Decode>(
    client: &Client,
    options: &LiveOptions,
    path: &str,
    op: &Op<'_>,
) -> Result<T, Failure> {
    let dry_run = options.dry_run;
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
    let built = built.map_err(|e| classify(&kube::Error::BuildRequest(e)))?;
    let response = client
        .send(built.map(Body::from))
        .await
        .map_err(|e| classify(&e))?;
    answer(response, options.max_response_bytes).await
}

/// How a successful answer is read: as JSON ([`Value`]) or passed through ([`Text`]).
trait Decode: Sized {
    fn decode(bytes: Vec<u8>, status: http::StatusCode) -> Result<Self, Failure>;
}

impl Decode for Value {
    fn decode(bytes: Vec<u8>, status: http::StatusCode) -> Result<Self, Failure> {
        serde_json::from_slice(&bytes).map_err(|e| {
            Failure::fatal(format!(
                "the API server's answer (HTTP {}) is not JSON: {e}",
                status.as_u16()
            ))
        })
    }
}

/// An answer kept as the API server's text: a create's answer goes back to the guest
/// as it came, without a parse and a serialisation in between.
struct Text(String);

impl Decode for Text {
    fn decode(bytes: Vec<u8>, status: http::StatusCode) -> Result<Self, Failure> {
        String::from_utf8(bytes).map(Text).map_err(|e| {
            Failure::fatal(format!(
                "the API server's answer (HTTP {}) is not UTF-8 text: {e}",
                status.as_u16()
            ))
        })
    }
}

/// Reads an answer, at most `max` bytes of it, and decodes it or makes it a failure.
async fn answer<T: Decode>(response: http::Response<Body>, max: u64) -> Result<T, Failure> {
    let status = response.status();
    if status.is_redirection() {
        let to = response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(|l| format!(" to {}", l.chars().take(200).collect::<String>()))
            .unwrap_or_default();
        return Err(Failure::fatal(format!(
            "the API server answered with a redirect (HTTP {}{to}); redirects are not followed: point the kubeconfig at the API server itself",
            status.as_u16()
        )));
    }
    let retry_after = response
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| classify(&e))?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() as u64 + data.len() as u64 > max {
                return Err(Failure::fatal(format!(
                    "the API server's answer is larger than {max} bytes (the response limit); page the list with a smaller limit"
                )));
            }
            bytes.extend_from_slice(&data);
        }
    }
    if status.is_client_error() || status.is_server_error() {
        let text = String::from_utf8_lossy(&bytes);
        let api_status = serde_json::from_slice::<kube::core::Status>(&bytes)
            .ok()
            .filter(|s| s.code != 0)
            .unwrap_or_else(|| {
                kube::core::Status::failure(text.trim(), "Failed to parse error data")
                    .with_code(status.as_u16())
            });
        let mut failure = classify(&kube::Error::Api(api_status.boxed()));
        if status.as_u16() == 429 {
            failure.retry_after = retry_after;
        }
        return Err(failure);
    }
    T::decode(bytes, status)
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
    /// A 429's Retry-After.
    retry_after: Option<Duration>,
}

impl Failure {
    fn retry(message: String) -> Self {
        Self {
            error: KubeError::Unavailable,
            message,
            retryable: true,
            retry_after: None,
        }
    }

    fn fatal(message: String) -> Self {
        Self {
            error: KubeError::Unavailable,
            message,
            retryable: false,
            retry_after: None,
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
        retry_after: None,
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

/// Kubernetes' naming rules, checked before a name or namespace goes into a URL path.
pub mod names {
    use super::super::types::{KubeError, ObjectRef};

    /// A DNS-1123 label: at most 63 of `[a-z0-9-]`, alphanumeric at both ends.
    pub fn is_label(text: &str) -> bool {
        !text.is_empty()
            && text.len() <= 63
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !text.starts_with('-')
            && !text.ends_with('-')
    }

    /// A DNS-1123 subdomain: at most 253 characters of dot-separated parts, each
    /// `[a-z0-9-]` and alphanumeric at both ends. Unlike a label, a part has no 63-character
    /// limit (Kubernetes' `IsDNS1123Subdomain` checks only the total): the migration's
    /// LVMLogicalVolume names are 75 characters without a dot.
    pub fn is_subdomain(text: &str) -> bool {
        let part = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !p.starts_with('-')
                && !p.ends_with('-')
        };
        !text.is_empty() && text.len() <= 253 && text.split('.').all(part)
    }

    /// A path segment name (RBAC objects): anything but `.`, `..`, `/` and `%`.
    pub fn is_path_segment(text: &str) -> bool {
        !text.is_empty()
            && text != "."
            && text != ".."
            && !text.contains(['/', '%', '?', '#'])
            && !text.chars().any(char::is_control)
    }

    /// A namespace must be a DNS-1123 label.
    pub fn check_namespace(namespace: &str) -> Result<(), KubeError> {
        if is_label(namespace) {
            Ok(())
        } else {
            Err(KubeError::Invalid(format!(
                "namespace {:?} is not a valid DNS-1123 label",
                shown(namespace)
            )))
        }
    }

    /// The object's name by its kind's rule, and its namespace.
    pub fn check_object(target: &ObjectRef) -> Result<(), KubeError> {
        if let Some(namespace) = &target.namespace {
            check_namespace(namespace)?;
        }
        let group = target.api_version.split_once('/').map_or("", |(g, _)| g);
        let (valid, rule) = if target.kind == "Namespace" && group.is_empty() {
            (is_label(&target.name), "a DNS-1123 label")
        } else if group == "rbac.authorization.k8s.io" {
            (is_path_segment(&target.name), "a path segment name")
        } else {
            (is_subdomain(&target.name), "a DNS-1123 subdomain")
        };
        if valid {
            Ok(())
        } else {
            Err(KubeError::Invalid(format!(
                "{} name {:?} is not {rule}",
                target.kind,
                shown(&target.name)
            )))
        }
    }

    /// A subresource is a lowercase word (`status`, `scale`).
    pub fn check_subresource(sub: &str) -> Result<(), KubeError> {
        if !sub.is_empty() && sub.len() <= 63 && sub.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(())
        } else {
            Err(KubeError::Invalid(format!(
                "subresource {:?} is not a lowercase word",
                shown(sub)
            )))
        }
    }

    fn shown(text: &str) -> String {
        text.chars().take(100).collect()
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use proptest::prelude::*;

        fn target(kind: &str, api: &str, ns: Option<&str>, name: &str) -> ObjectRef {
            ObjectRef {
                api_version: api.into(),
                kind: kind.into(),
                namespace: ns.map(Into::into),
                name: name.into(),
            }
        }

        #[test]
        fn hostile_names_never_reach_a_url() {
            for name in [
                "..",
                "../secrets",
                "%2e%2e",
                "a?dryRun=All",
                "a/b",
                "A",
                "",
                "a..b",
            ] {
                let err = check_object(&target("ConfigMap", "v1", Some("ns"), name)).unwrap_err();
                assert!(matches!(err, KubeError::Invalid(_)), "{name}: {err:?}");
            }
            assert!(check_object(&target("ConfigMap", "v1", Some("../x"), "a")).is_err());
            assert!(check_object(&target("Namespace", "v1", None, "a.b")).is_err());
            check_object(&target(
                "ConfigMap",
                "v1",
                Some("d8-x"),
                "control-plane-migration",
            ))
            .unwrap();
            check_object(&target(
                "ReplicatedVolume",
                "storage.deckhouse.io/v1alpha1",
                None,
                "pvc-1.a",
            ))
            .unwrap();
            check_object(&target(
                "ClusterRole",
                "rbac.authorization.k8s.io/v1",
                None,
                "system:aggregate",
            ))
            .unwrap();
            assert!(
                check_object(&target(
                    "ClusterRole",
                    "rbac.authorization.k8s.io/v1",
                    None,
                    ".."
                ))
                .is_err()
            );
            assert!(check_subresource("status").is_ok() && check_subresource("../x").is_err());
        }

        proptest! {
            /// Fuzz target: whatever passes the check is safe in a URL path.
            #[test]
            fn accepted_names_are_url_safe(name in ".{0,80}", ns in "[a-z0-9.%/?-]{0,20}") {
                let t = target("ConfigMap", "v1", Some(&ns), &name);
                if check_object(&t).is_ok() {
                    for text in [&name, &ns] {
                        prop_assert!(!text.contains(['/', '%', '?', '#']) && text.as_str() != "..");
                    }
                }
            }
        }
    }
}
