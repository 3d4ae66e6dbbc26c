//! One native hook run, done as the host does it, and the Rust API over it.

use super::cluster::{Cluster, LogLine};
use super::contexts::{self, Filter};
use crate::config::HookConfig;
use crate::error::Error;
use crate::hook::{self, Hook, HookOutput, RawInput};
use crate::host::LogLevel;
use hooks_manifest::ObjectRef;
use hooks_manifest::binding_context::{self, BindingContext, Folded};
use hooks_manifest::output::{ObjectOperation, values_patch};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::marker::PhantomData;

/// A hook test, module-sdk's `HookExecutionConfigInit` in Rust: set the cluster state and
/// values, run, assert on the [`HookRun`].
///
/// ```
/// use deckhouse_hooks_sdk::prelude::*;
/// use deckhouse_hooks_sdk::testkit::HookTest;
///
/// struct CountPods;
/// impl Hook for CountPods {
///     const VALUES_KEY: &'static str = "myModule";
///     fn config() -> HookConfig {
///         HookConfig::new().before_helm(1).kubernetes(KubeBinding::new("pods", "v1", "Pod"))
///     }
///     fn run(input: &mut HookInput) -> Result<(), Error> {
///         let pods: Vec<Value> = input.snapshots.get("pods")?;
///         input.values.set("internal.pods", pods.len())?;
///         Ok(())
///     }
/// }
///
/// let run = HookTest::<CountPods>::new()
///     .cluster("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: default}\n")
///     .run();
/// assert_eq!(run.value("internal.pods"), Some(json!(1)));
/// ```
pub struct HookTest<H> {
    objects: Vec<Value>,
    values: Value,
    config_values: Value,
    filters: BTreeMap<String, Box<Filter>>,
    contexts: Option<String>,
    synchronization: bool,
    hook: PhantomData<H>,
}

impl<H: Hook> Default for HookTest<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H: Hook> HookTest<H> {
    /// An empty cluster, and values holding only empty global and module objects.
    pub fn new() -> Self {
        let empty = json!({"global": {}, H::VALUES_KEY: {}});
        Self {
            objects: Vec::new(),
            values: empty.clone(),
            config_values: empty,
            filters: BTreeMap::new(),
            contexts: None,
            synchronization: false,
            hook: PhantomData,
        }
    }

    /// Replaces the cluster with these YAML documents (module-sdk's `KubeStateSet`).
    /// Panics with the parser's message on bad YAML, as a test should fail.
    pub fn cluster(mut self, yaml: &str) -> Self {
        self.objects = super::cluster::objects_from_yaml(yaml)
            .unwrap_or_else(|e| panic!("the cluster state is not valid: {e}"));
        self
    }

    /// Adds one object.
    pub fn object(mut self, object: Value) -> Self {
        self.objects.push(object);
        self
    }

    /// The module's values (below the module key).
    pub fn values(mut self, module: Value) -> Self {
        self.values[H::VALUES_KEY] = module;
        self
    }

    /// The global values.
    pub fn global_values(mut self, global: Value) -> Self {
        self.values["global"] = global;
        self
    }

    /// The module's config values (below the module key).
    pub fn config_values(mut self, module: Value) -> Self {
        self.config_values[H::VALUES_KEY] = module;
        self
    }

    /// A native stand-in for a binding's jqFilter: the kit cannot run jq itself.
    pub fn filter(mut self, binding: &str, filter: impl Fn(&Value) -> Value + 'static) -> Self {
        self.filters.insert(binding.to_owned(), Box::new(filter));
        self
    }

    /// Deliver the bindings as shell-operator does at start: one Synchronization each
    /// (the default is one beforeHelm context with every snapshot).
    pub fn as_synchronization(mut self) -> Self {
        self.synchronization = true;
        self
    }

    /// Run on exactly these binding contexts (JSON array) instead of ones made from the cluster.
    pub fn binding_contexts(mut self, contexts: Value) -> Self {
        self.contexts = Some(contexts.to_string());
        self
    }

    /// Runs the hook once.
    pub fn run(&self) -> HookRun {
        let config = H::config();
        let contexts = match &self.contexts {
            Some(raw) => raw.clone(),
            None => {
                let made = if self.synchronization {
                    contexts::synchronization(&config, &self.objects, &self.filters)
                } else {
                    contexts::before_helm(&config, &self.objects, &self.filters)
                };
                let made = made.unwrap_or_else(|e| panic!("{e}"));
                serde_json::to_string(&made).unwrap_or_default()
            }
        };
        HookRun::new::<H>(&contexts, &self.values, &self.config_values, &self.objects)
    }
}

/// What one native run did, and the documents the host would have written.
pub struct HookRun {
    hook_name: String,
    values_key: &'static str,
    values: Value,
    config_values: Value,
    output: Result<HookOutput, Error>,
    skipped: bool,
    view: Cluster,
    after: Cluster,
}

impl HookRun {
    /// Runs `H` on `contexts` (JSON text), as the host would; `objects` is the cluster the
    /// run's operations are applied to afterwards (for [`HookRun::object`]).
    pub fn new<H: Hook>(
        contexts: &str,
        values: &Value,
        config_values: &Value,
        objects: &[Value],
    ) -> Self {
        let config = H::config();
        let parsed = binding_context::parse(contexts);
        let folded = parsed.as_ref().map(|c| Folded::new(c)).unwrap_or_default();
        let view = Cluster::from_snapshots(&folded, &config);
        let skipped = parsed
            .as_ref()
            .is_ok_and(|c| only_unwanted_events(&config, c));
        let raw = RawInput {
            binding_context: contexts.to_owned(),
            values: values.to_string(),
            config_values: config_values.to_string(),
        };
        let output = if skipped {
            Ok(HookOutput::default())
        } else {
            hook::run::<H>(&view, &raw)
        };
        let mut all: BTreeMap<ObjectRef, Value> = folded.objects();
        for o in objects {
            if let Ok(id) = ObjectRef::of(o) {
                all.insert(id, o.clone());
            }
        }
        let after = Cluster::with_objects(all.into_values()).unwrap_or_default();
        if output.is_ok() {
            // A failed run is applied by nobody; a queued operation that cannot apply
            // shows in `object`, not here.
            let _ = after.apply(&view.operations());
        }
        Self {
            hook_name: std::any::type_name::<H>().to_owned(),
            values_key: H::VALUES_KEY,
            values: values.clone(),
            config_values: config_values.clone(),
            output,
            skipped,
            view,
            after,
        }
    }

    /// The hook's error, if the run failed.
    pub fn error(&self) -> Option<&str> {
        self.output.as_ref().err().map(Error::message)
    }

    /// The run's output; panics with the hook's error when it failed.
    pub fn output(&self) -> &HookOutput {
        match &self.output {
            Ok(o) => o,
            Err(e) => panic!("the hook run failed: {e}"),
        }
    }

    /// Whether the host would not even have called the hook (only unwanted event types).
    pub fn skipped(&self) -> bool {
        self.skipped
    }

    /// `VALUES_JSON_PATCH_PATH` as the host writes it.
    pub fn values_patch(&self) -> Result<Vec<Value>, String> {
        match &self.output {
            Ok(o) => values_patch(self.values_key, &self.values, o.values_patch.clone()),
            Err(_) => Ok(Vec::new()),
        }
    }

    /// The config values patch, rooted like the values patch.
    pub fn config_values_patch(&self) -> Result<Vec<Value>, String> {
        match &self.output {
            Ok(o) => values_patch(
                self.values_key,
                &self.config_values,
                o.config_values_patch.clone(),
            ),
            Err(_) => Ok(Vec::new()),
        }
    }

    /// `KUBERNETES_PATCH_PATH` as the host writes it (nothing when the run failed).
    pub fn kubernetes_patch(&self) -> Vec<Value> {
        if self.output.is_err() {
            return Vec::new();
        }
        self.operations()
            .iter()
            .map(ObjectOperation::to_json)
            .collect()
    }

    /// `METRICS_PATH` as the host writes it.
    pub fn metrics(&self) -> Result<Vec<Value>, String> {
        match &self.output {
            Ok(o) => o.metrics.iter().map(|m| m.to_json()).collect(),
            Err(_) => Ok(Vec::new()),
        }
    }

    /// The object operations the run made, in call order.
    pub fn operations(&self) -> Vec<ObjectOperation> {
        self.view.operations()
    }

    /// The values after Deckhouse applied the patch, at a dotted path below the module key
    /// (module-sdk's `ValuesGet`); None when absent.
    pub fn value(&self, path: &str) -> Option<Value> {
        let patch = self.values_patch().ok()?;
        let mut doc = self.values.clone();
        let patch: json_patch::Patch = serde_json::from_value(Value::Array(patch)).ok()?;
        json_patch::patch(&mut doc, &patch).ok()?;
        let pointer: String = std::iter::once(self.values_key)
            .chain(path.split('.'))
            .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
            .collect();
        doc.pointer(&pointer).cloned()
    }

    /// An object after Deckhouse applied the run's operations (module-sdk's
    /// `KubernetesResource`).
    pub fn object(&self, target: &ObjectRef) -> Option<Value> {
        self.after.object(target)
    }

    /// The guest's log lines.
    pub fn logs(&self) -> Vec<LogLine> {
        self.view.logs()
    }

    /// Whether a line at `level` has `text` in its message or a field value.
    pub fn logged(&self, level: LogLevel, text: &str) -> bool {
        self.view.logged(level, text)
    }

    /// The exit code the host would give: 0, or 1 for a failed run or invalid output.
    pub fn exit_code(&self) -> i32 {
        let valid = self.output.is_ok() && self.values_patch().is_ok() && self.metrics().is_ok();
        if valid { 0 } else { 1 }
    }

    /// stderr as the host writes it at the default level (info): one JSON line per guest
    /// log line, then the run's outcome.
    pub fn stderr(&self) -> String {
        let mut lines: Vec<Value> = self
            .view
            .logs()
            .iter()
            .filter(|l| l.level >= LogLevel::Info)
            .map(|l| {
                let fields: Map<String, Value> =
                    l.fields.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                json!({"level": l.level.as_str(), "msg": l.message, "guest": self.hook_name, "fields": fields})
            })
            .collect();
        let problem = match (&self.output, self.values_patch(), self.metrics()) {
            (Err(e), _, _) => Some(format!("guest {} failed: {e}", self.hook_name)),
            (_, Err(p), _) => Some(format!(
                "guest {} returned an invalid values patch: {p}",
                self.hook_name
            )),
            (_, _, Err(p)) => Some(format!(
                "guest {} returned an invalid metric: {p}",
                self.hook_name
            )),
            _ => None,
        };
        lines.push(match problem {
            Some(message) => json!({"level": "error", "msg": message}),
            None => json!({"level": "info", "msg": "hook run succeeded", "guest": self.hook_name}),
        });
        lines.iter().map(|l| format!("{l}\n")).collect()
    }
}

/// True when every context is an Event of a type its binding does not want: Deckhouse's
/// batch config can only switch events on or off, so the host filters by type itself.
fn only_unwanted_events(config: &HookConfig, contexts: &[BindingContext]) -> bool {
    !contexts.is_empty()
        && contexts.iter().all(|ctx| {
            let Some(event) = ctx
                .watch_event
                .as_deref()
                .filter(|_| ctx.kind.as_deref() == Some("Event"))
            else {
                return false;
            };
            config.binding(&ctx.binding).is_some_and(|b| {
                b.execute_hook_on_event
                    .as_ref()
                    .is_some_and(|wanted| !wanted.iter().any(|e| e.as_str() == event))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{KubeBinding, WatchEvent};
    use crate::prelude::*;

    struct Probe;

    impl Hook for Probe {
        const VALUES_KEY: &'static str = "probe";

        fn config() -> HookConfig {
            HookConfig::new().before_helm(1).kubernetes(
                KubeBinding::new("cms", "v1", "ConfigMap").on_events([WatchEvent::Added]),
            )
        }

        fn run(input: &mut HookInput) -> Result<(), Error> {
            let cms: Vec<Value> = input.snapshots.get("cms")?;
            if input.values.get::<bool>("fail")?.unwrap_or(false) {
                return Err(Error::msg("asked to fail"));
            }
            input.values.set("internal.count", cms.len())?;
            input
                .log
                .info("counted", &[("count", &cms.len().to_string())]);
            input
                .metrics
                .group("probe")
                .set("probe_count", cms.len() as f64, &[]);
            for cm in &cms {
                let id = ObjectRef::of(cm)?;
                input.kube.merge_patch(
                    &id,
                    &json!({"data": {"seen": "yes"}}),
                    &PatchOptions::default(),
                )?;
            }
            input
                .kube
                .create_if_not_exists(&json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"namespace": "default", "name": "summary"}}))?;
            Ok(())
        }
    }

    const CLUSTER: &str =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n";

    #[test]
    fn a_run_yields_every_document_the_host_writes() {
        let run = HookTest::<Probe>::new().cluster(CLUSTER).run();
        assert_eq!(run.exit_code(), 0, "{}", run.stderr());
        assert_eq!(run.value("internal.count"), Some(json!(1)));
        assert_eq!(
            run.values_patch().unwrap(),
            vec![
                json!({"op": "add", "path": "/probe/internal", "value": {}}),
                json!({"op": "add", "path": "/probe/internal/count", "value": 1})
            ]
        );
        let ops = run.kubernetes_patch();
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0]["operation"], "MergePatch");
        assert_eq!(ops[1]["operation"], "CreateIfNotExists");
        assert_eq!(run.metrics().unwrap()[0]["name"], "probe_count");
        let a = ObjectRef::namespaced("v1", "ConfigMap", "default", "a");
        assert_eq!(run.object(&a).unwrap()["data"]["seen"], "yes");
        assert!(
            run.object(&ObjectRef::namespaced(
                "v1",
                "ConfigMap",
                "default",
                "summary"
            ))
            .is_some()
        );
        assert!(run.logged(LogLevel::Info, "counted"));
        assert!(
            run.stderr().contains("\"fields\":{\"count\":\"1\"}"),
            "{}",
            run.stderr()
        );
    }

    #[test]
    fn a_failed_run_writes_nothing_and_says_why() {
        let run = HookTest::<Probe>::new()
            .cluster(CLUSTER)
            .values(json!({"fail": true}))
            .run();
        assert_eq!(run.exit_code(), 1);
        assert_eq!(run.error(), Some("asked to fail"));
        assert!(run.kubernetes_patch().is_empty() && run.values_patch().unwrap().is_empty());
        assert!(run.stderr().contains("asked to fail"));
    }

    #[test]
    fn unwanted_event_types_do_not_run_the_hook() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "d"}});
        let run = HookTest::<Probe>::new()
            .binding_contexts(json!([{"binding": "cms", "type": "Event", "watchEvent": "Modified", "object": cm}]))
            .run();
        assert!(run.skipped());
        assert!(run.values_patch().unwrap().is_empty());
        let added = HookTest::<Probe>::new()
            .binding_contexts(
                json!([{"binding": "cms", "type": "Event", "watchEvent": "Added", "object": cm}]),
            )
            .run();
        assert!(!added.skipped());
        assert_eq!(added.value("internal.count"), Some(json!(1)));
    }

    #[test]
    fn synchronization_contexts_deliver_the_same_snapshot() {
        let run = HookTest::<Probe>::new()
            .cluster(CLUSTER)
            .as_synchronization()
            .run();
        assert_eq!(run.value("internal.count"), Some(json!(1)));
    }
}
