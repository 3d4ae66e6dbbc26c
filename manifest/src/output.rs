//! What a hook run hands Deckhouse, in the files Deckhouse reads: the values JSON patch
//! (`VALUES_JSON_PATCH_PATH`), object operations (`KUBERNETES_PATCH_PATH`) and metric
//! operations (`METRICS_PATH`). The host writes these files; the SDK's test kit builds the
//! same documents natively, so a fixture's expected files mean one thing.

use crate::kube::{CreateMode, DeleteMode, ObjectRef, PatchKind, PatchOptions};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// One change below the module's values key, as a guest asks for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum ValuesChange {
    /// Sets the value at `path`, a JSON pointer below the module key (`/internal/x`).
    Add {
        /// The JSON pointer.
        path: String,
        /// The new value.
        value: Value,
    },
    /// Removes the value at `path`.
    Remove {
        /// The JSON pointer.
        path: String,
    },
}

/// Builds the patch Deckhouse accepts: only `add` and `remove`, rooted at the module's values
/// key, with missing parents created first (Deckhouse's `add` fails on a missing parent) and
/// removes of absent paths dropped (its `remove` fails on them). `values` is the whole values
/// document the run started from.
pub fn values_patch(
    values_key: &str,
    values: &Value,
    changes: Vec<ValuesChange>,
) -> Result<Vec<Value>, String> {
    let mut doc = values.clone();
    let mut ops = Vec::new();
    for change in changes {
        match change {
            ValuesChange::Add { path, value } => {
                let full = rooted(values_key, &path)?;
                for parent in parents(&full) {
                    if doc.pointer(&parent).is_none() {
                        ops.push(json!({"op": "add", "path": parent, "value": {}}));
                        set(&mut doc, &parent, json!({}))?;
                    }
                }
                set(&mut doc, &full, value.clone())?;
                ops.push(json!({"op": "add", "path": full, "value": value}));
            }
            ValuesChange::Remove { path } => {
                let full = rooted(values_key, &path)?;
                if doc.pointer(&full).is_some() {
                    remove(&mut doc, &full);
                    ops.push(json!({"op": "remove", "path": full}));
                }
            }
        }
    }
    Ok(ops)
}

/// `/<valuesKey>` + the guest's pointer, which must be a non-root JSON pointer.
fn rooted(values_key: &str, path: &str) -> Result<String, String> {
    if !path.starts_with('/') || path.len() < 2 || path.ends_with('/') {
        return Err(format!(
            "values path {path:?} must be a JSON pointer below the module key, like /internal/x"
        ));
    }
    Ok(format!("/{values_key}{path}"))
}

/// Every proper prefix of a pointer, shortest first: `/a/b/c` -> `/a`, `/a/b`.
fn parents(pointer: &str) -> Vec<String> {
    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
    (1..segments.len())
        .map(|n| format!("/{}", segments[..n].join("/")))
        .collect()
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

fn set(doc: &mut Value, pointer: &str, value: Value) -> Result<(), String> {
    let (parent, last) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    let target = if parent.is_empty() {
        Some(&mut *doc)
    } else {
        doc.pointer_mut(parent)
    };
    match target {
        Some(Value::Object(map)) => {
            map.insert(unescape(last), value);
            Ok(())
        }
        _ => Err(format!(
            "cannot add {pointer}: its parent is not an object in values"
        )),
    }
}

fn remove(doc: &mut Value, pointer: &str) {
    let (parent, last) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    if let Some(Value::Object(map)) = doc.pointer_mut(parent) {
        map.remove(&unescape(last));
    }
}

/// A metric operation's action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricAction {
    /// Gauge: set the value.
    Set,
    /// Counter: add the value.
    Add,
    /// Histogram: observe the value.
    Observe,
    /// Drop every series of the group.
    Expire,
}

impl MetricAction {
    /// The `action` Deckhouse reads.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricAction::Set => "set",
            MetricAction::Add => "add",
            MetricAction::Observe => "observe",
            MetricAction::Expire => "expire",
        }
    }
}

/// One metric operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    /// Empty for `Expire`, which addresses a whole group.
    pub name: String,
    /// None: Deckhouse's default group (the hook's name).
    pub group: Option<String>,
    /// What to do.
    pub action: MetricAction,
    /// The value.
    pub value: f64,
    /// Labels, in order.
    pub labels: Vec<(String, String)>,
    /// Histogram buckets, for `Observe`.
    pub buckets: Vec<f64>,
}

/// Labels addon-operator sets itself on every hook metric.
const RESERVED_LABELS: [&str; 2] = ["hook", "module"];

impl Metric {
    /// The line Deckhouse reads from `METRICS_PATH`, or the rule it breaks (shell-operator's
    /// `ValidateMetricOperation`, addon-operator's reader, Prometheus' name rules). Without
    /// a group, `expire` expires the hook's default group.
    pub fn to_json(&self) -> Result<Value, String> {
        let mut m = Map::new();
        let group = self.group.clone().filter(|g| !g.is_empty());
        if self.action == MetricAction::Expire {
            if let Some(group) = group {
                m.insert("group".into(), group.into());
            }
            m.insert("action".into(), "expire".into());
            return Ok(Value::Object(m));
        }
        let name = &self.name;
        if !valid_metric_name(name) {
            return Err(format!(
                "metric name {name:?} is not a valid Prometheus name ([a-zA-Z_:][a-zA-Z0-9_:]*)"
            ));
        }
        if !self.value.is_finite() {
            return Err(format!("metric {name} has a non-finite value"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (key, _) in &self.labels {
            if !valid_label_name(key) {
                return Err(format!(
                    "metric {name}: label {key:?} is not a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)"
                ));
            }
            if RESERVED_LABELS.contains(&key.as_str()) {
                return Err(format!(
                    "metric {name}: label {key:?} is set by Deckhouse itself on every hook metric; use another name"
                ));
            }
            if !seen.insert(key) {
                return Err(format!("metric {name}: label {key:?} is given twice"));
            }
        }
        if self.action == MetricAction::Observe {
            if self.buckets.is_empty() {
                return Err(format!(
                    "metric {name}: observe needs buckets (shell-operator requires them)"
                ));
            }
            if self.buckets.iter().any(|b| !b.is_finite())
                || self.buckets.windows(2).any(|w| w[0] >= w[1])
            {
                return Err(format!(
                    "metric {name}: buckets must be finite and strictly increasing"
                ));
            }
        } else if !self.buckets.is_empty() {
            return Err(format!("metric {name}: only observe takes buckets"));
        }
        m.insert("name".into(), name.clone().into());
        if let Some(group) = group {
            m.insert("group".into(), group.into());
        }
        m.insert("action".into(), self.action.as_str().into());
        m.insert("value".into(), self.value.into());
        if !self.buckets.is_empty() {
            m.insert("buckets".into(), self.buckets.clone().into());
        }
        if !self.labels.is_empty() {
            let labels: Map<String, Value> = self
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            m.insert("labels".into(), Value::Object(labels));
        }
        Ok(Value::Object(m))
    }
}

/// Every metric operation of a run as the lines of `METRICS_PATH`, or the first problem,
/// naming the metric. Besides each operation's own rules, every operation on one metric
/// must have the same action kind and label names: Prometheus rejects a second shape.
pub fn metrics_to_json(metrics: &[Metric]) -> Result<Vec<Value>, String> {
    let mut shapes: BTreeMap<&str, (MetricAction, Vec<&str>)> = BTreeMap::new();
    let mut out = Vec::with_capacity(metrics.len());
    for metric in metrics {
        out.push(metric.to_json()?);
        if metric.action == MetricAction::Expire {
            continue;
        }
        let mut keys: Vec<&str> = metric.labels.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        match shapes.get(metric.name.as_str()) {
            Some((action, known)) if *action != metric.action || *known != keys => {
                return Err(format!(
                    "metric {}: every operation on one metric needs the same action kind and label names (Prometheus rejects a second shape); saw {} with {known:?} and {} with {keys:?}",
                    metric.name,
                    action.as_str(),
                    metric.action.as_str()
                ));
            }
            _ => {
                shapes.insert(&metric.name, (metric.action, keys));
            }
        }
    }
    Ok(out)
}

fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    !name.starts_with("__")
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One object operation, as Deckhouse applies it after a successful run.
#[derive(Clone, Debug, PartialEq)]
pub enum ObjectOperation {
    /// `Create`, `CreateIfNotExists` or `CreateOrUpdate`.
    Create {
        /// The object.
        object: Value,
        /// Which of the three.
        mode: CreateMode,
    },
    /// `MergePatch` or `JSONPatch`.
    Patch {
        /// The object.
        target: ObjectRef,
        /// Which of the two.
        kind: PatchKind,
        /// The patch document.
        patch: Value,
        /// Subresource and ignoreMissingObject.
        options: PatchOptions,
    },
    /// `Delete`, `DeleteInBackground` or `DeleteNonCascading`.
    Delete {
        /// The object.
        target: ObjectRef,
        /// Which of the three.
        mode: DeleteMode,
    },
}

impl ObjectOperation {
    /// The operation's line in `KUBERNETES_PATCH_PATH` (shell-operator's `OperationSpec`).
    pub fn to_json(&self) -> Value {
        match self {
            ObjectOperation::Create { object, mode } => {
                json!({"operation": mode.operation(), "object": object})
            }
            ObjectOperation::Patch {
                target,
                kind,
                patch,
                options,
            } => {
                let mut m = reference(target);
                let (operation, key) = match kind {
                    PatchKind::Merge => ("MergePatch", "mergePatch"),
                    PatchKind::Json => ("JSONPatch", "jsonPatch"),
                };
                m.insert("operation".into(), operation.into());
                m.insert(key.into(), patch.clone());
                if let Some(sub) = &options.subresource {
                    m.insert("subresource".into(), sub.clone().into());
                }
                if options.ignore_missing_object {
                    m.insert("ignoreMissingObject".into(), true.into());
                }
                Value::Object(m)
            }
            ObjectOperation::Delete { target, mode } => {
                let mut m = reference(target);
                m.insert("operation".into(), mode.operation().into());
                Value::Object(m)
            }
        }
    }
}

fn reference(target: &ObjectRef) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("apiVersion".into(), target.api_version.clone().into());
    m.insert("kind".into(), target.kind.clone().into());
    if let Some(ns) = &target.namespace {
        m.insert("namespace".into(), ns.clone().into());
    }
    m.insert("name".into(), target.name.clone().into());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(path: &str, value: Value) -> ValuesChange {
        ValuesChange::Add {
            path: path.into(),
            value,
        }
    }

    fn remove_at(path: &str) -> ValuesChange {
        ValuesChange::Remove { path: path.into() }
    }

    #[test]
    fn missing_parents_are_created_and_rooted() {
        let values = json!({"sdsReplicatedVolume": {}});
        let ops = values_patch(
            "sdsReplicatedVolume",
            &values,
            vec![add("/internal/state", json!("x"))],
        )
        .unwrap();
        assert_eq!(
            ops,
            vec![
                json!({"op": "add", "path": "/sdsReplicatedVolume/internal", "value": {}}),
                json!({"op": "add", "path": "/sdsReplicatedVolume/internal/state", "value": "x"}),
            ]
        );
    }

    #[test]
    fn existing_parents_are_not_recreated_and_absent_removes_are_dropped() {
        let values = json!({"m": {"internal": {"a": 1}}});
        let changes = vec![
            add("/internal/b", json!(2)),
            remove_at("/internal/zzz"),
            remove_at("/internal/a"),
        ];
        let ops = values_patch("m", &values, changes).unwrap();
        assert_eq!(
            ops,
            vec![
                json!({"op": "add", "path": "/m/internal/b", "value": 2}),
                json!({"op": "remove", "path": "/m/internal/a"})
            ]
        );
    }

    #[test]
    fn paths_must_stay_below_the_module_key() {
        for bad in ["", "/", "internal", "/internal/"] {
            assert!(
                values_patch("m", &json!({}), vec![remove_at(bad)]).is_err(),
                "{bad:?}"
            );
        }
        let ops = values_patch("m", &json!({}), vec![add("/global", json!(1))]).unwrap();
        assert_eq!(ops.last().unwrap()["path"], "/m/global");
        let in_the_way = json!({"m": {"internal": 5}});
        assert!(values_patch("m", &in_the_way, vec![add("/internal/x", json!(1))]).is_err());
    }

    fn metric(action: MetricAction) -> Metric {
        Metric {
            name: "m".into(),
            group: Some("g".into()),
            action,
            value: 1.0,
            labels: vec![("a".into(), "b".into())],
            buckets: vec![],
        }
    }

    #[test]
    fn metric_lines_follow_deckhouse() {
        let expire = Metric {
            name: String::new(),
            labels: vec![],
            ..metric(MetricAction::Expire)
        };
        assert_eq!(
            expire.to_json().unwrap(),
            json!({"group": "g", "action": "expire"})
        );
        assert_eq!(
            metric(MetricAction::Set).to_json().unwrap(),
            json!({"name": "m", "group": "g", "action": "set", "value": 1.0, "labels": {"a": "b"}})
        );
        let observed = Metric {
            buckets: vec![0.1, 1.0],
            group: None,
            ..metric(MetricAction::Observe)
        };
        assert_eq!(observed.to_json().unwrap()["buckets"], json!([0.1, 1.0]));
        assert!(observed.to_json().unwrap().get("group").is_none());
    }

    #[test]
    fn bad_metrics_are_refused() {
        // Without a group, expire addresses the hook's default group: valid.
        let no_group = Metric {
            group: None,
            ..metric(MetricAction::Expire)
        };
        assert_eq!(no_group.to_json().unwrap(), json!({"action": "expire"}));
        for (metrics, needle) in [
            (
                vec![Metric {
                    name: "1bad".into(),
                    ..metric(MetricAction::Set)
                }],
                "Prometheus name",
            ),
            (
                vec![Metric {
                    labels: vec![("bad-label".into(), "x".into())],
                    ..metric(MetricAction::Set)
                }],
                "label name",
            ),
            (
                vec![Metric {
                    labels: vec![("hook".into(), "x".into())],
                    ..metric(MetricAction::Set)
                }],
                "set by Deckhouse",
            ),
            (
                vec![
                    Metric {
                        labels: vec![("a".into(), "x".into())],
                        ..metric(MetricAction::Set)
                    },
                    Metric {
                        labels: vec![("b".into(), "x".into())],
                        ..metric(MetricAction::Set)
                    },
                ],
                "same action kind and label names",
            ),
            (
                vec![Metric {
                    buckets: vec![],
                    ..metric(MetricAction::Observe)
                }],
                "needs buckets",
            ),
            (
                vec![Metric {
                    buckets: vec![1.0, 0.5],
                    ..metric(MetricAction::Observe)
                }],
                "strictly increasing",
            ),
        ] {
            let err = metrics_to_json(&metrics).unwrap_err();
            assert!(err.contains(needle), "{err}");
        }
        let nameless = Metric {
            name: String::new(),
            ..metric(MetricAction::Set)
        };
        assert!(nameless.to_json().is_err());
        let infinite = Metric {
            value: f64::INFINITY,
            ..metric(MetricAction::Set)
        };
        assert!(infinite.to_json().is_err());
        let set_with_buckets = Metric {
            buckets: vec![1.0],
            ..metric(MetricAction::Set)
        };
        assert!(set_with_buckets.to_json().is_err());
    }

    #[test]
    fn object_operations_follow_shell_operator() {
        let cm = ObjectRef::namespaced("v1", "ConfigMap", "ns", "cm");
        let create = ObjectOperation::Create {
            object: json!({"kind": "ConfigMap"}),
            mode: CreateMode::IfNotExists,
        };
        assert_eq!(
            create.to_json(),
            json!({"operation": "CreateIfNotExists", "object": {"kind": "ConfigMap"}})
        );
        let patch = ObjectOperation::Patch {
            target: cm.clone(),
            kind: PatchKind::Merge,
            patch: json!({"data": {"a": "b"}}),
            options: PatchOptions::default()
                .subresource("status")
                .ignore_missing_object(true),
        };
        assert_eq!(
            patch.to_json(),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "namespace": "ns", "name": "cm",
                   "operation": "MergePatch", "mergePatch": {"data": {"a": "b"}},
                   "subresource": "status", "ignoreMissingObject": true})
        );
        let json_patch = ObjectOperation::Patch {
            target: cm.clone(),
            kind: PatchKind::Json,
            patch: json!([]),
            options: PatchOptions::default(),
        };
        assert_eq!(json_patch.to_json()["operation"], "JSONPatch");
        assert!(json_patch.to_json().get("ignoreMissingObject").is_none());
        let delete = ObjectOperation::Delete {
            target: ObjectRef::cluster("v1", "Namespace", "ns"),
            mode: DeleteMode::Orphan,
        };
        assert_eq!(
            delete.to_json(),
            json!({"apiVersion": "v1", "kind": "Namespace", "name": "ns", "operation": "DeleteNonCascading"})
        );
    }
}
