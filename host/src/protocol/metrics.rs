//! Metric operations in the NDJSON form Deckhouse reads from `METRICS_PATH`, checked by
//! the rules its runners and Prometheus apply (shell-operator's `ValidateMetricOperation`,
//! addon-operator's batch hook reader, client_golang's name rules), so a file Deckhouse
//! would reject is never written.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One metric operation of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    pub name: String,
    /// None: Deckhouse's default group (the hook's name).
    pub group: Option<String>,
    pub action: MetricAction,
    pub value: f64,
    pub labels: Vec<(String, String)>,
    /// Histogram buckets, for `observe`.
    pub buckets: Vec<f64>,
}

/// What a metric operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricAction {
    Set,
    Add,
    Observe,
    Expire,
}

impl MetricAction {
    fn as_str(self) -> &'static str {
        match self {
            MetricAction::Set => "set",
            MetricAction::Add => "add",
            MetricAction::Observe => "observe",
            MetricAction::Expire => "expire",
        }
    }
}

/// Labels addon-operator sets itself on every hook metric.
const RESERVED_LABELS: [&str; 2] = ["hook", "module"];

/// Every operation as a JSON object, or the first problem, naming the metric.
pub fn to_json(metrics: &[Metric]) -> Result<Vec<Value>, String> {
    let mut shapes: BTreeMap<&str, (MetricAction, Vec<&str>)> = BTreeMap::new();
    let mut out = Vec::with_capacity(metrics.len());
    for metric in metrics {
        out.push(one(metric)?);
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

fn one(metric: &Metric) -> Result<Value, String> {
    let mut m = Map::new();
    let group = metric.group.clone().filter(|g| !g.is_empty());
    if metric.action == MetricAction::Expire {
        // Without a group, Deckhouse expires the hook's default group.
        if let Some(group) = group {
            m.insert("group".into(), group.into());
        }
        m.insert("action".into(), "expire".into());
        return Ok(Value::Object(m));
    }
    let name = &metric.name;
    if !valid_metric_name(name) {
        return Err(format!(
            "metric name {name:?} is not a valid Prometheus name ([a-zA-Z_:][a-zA-Z0-9_:]*)"
        ));
    }
    if !metric.value.is_finite() {
        return Err(format!("metric {name} has a non-finite value"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (key, _) in &metric.labels {
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
    if metric.action == MetricAction::Observe {
        if metric.buckets.is_empty() {
            return Err(format!(
                "metric {name}: observe needs buckets (shell-operator requires them)"
            ));
        }
        if metric.buckets.iter().any(|b| !b.is_finite())
            || metric.buckets.windows(2).any(|w| w[0] >= w[1])
        {
            return Err(format!(
                "metric {name}: buckets must be finite and strictly increasing"
            ));
        }
    } else if !metric.buckets.is_empty() {
        return Err(format!("metric {name}: only observe takes buckets"));
    }
    m.insert("name".into(), name.clone().into());
    if let Some(group) = group {
        m.insert("group".into(), group.into());
    }
    m.insert("action".into(), metric.action.as_str().into());
    m.insert("value".into(), metric.value.into());
    if !metric.buckets.is_empty() {
        m.insert("buckets".into(), metric.buckets.clone().into());
    }
    if !metric.labels.is_empty() {
        let labels: Map<String, Value> = metric
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        m.insert("labels".into(), Value::Object(labels));
    }
    Ok(Value::Object(m))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn gauge(name: &str, labels: &[(&str, &str)]) -> Metric {
        Metric {
            name: name.into(),
            group: None,
            action: MetricAction::Set,
            value: 1.0,
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            buckets: vec![],
        }
    }

    #[test]
    fn valid_operations_render_as_deckhouse_reads_them() {
        let mut observe = gauge("d8_latency_seconds", &[]);
        observe.action = MetricAction::Observe;
        observe.buckets = vec![0.1, 1.0];
        let expire = Metric {
            action: MetricAction::Expire,
            group: Some("g".into()),
            ..gauge("", &[])
        };
        let out = to_json(&[gauge("d8_x", &[("state", "a")]), observe, expire]).unwrap();
        assert_eq!(
            out[0],
            serde_json::json!({"name": "d8_x", "action": "set", "value": 1.0, "labels": {"state": "a"}})
        );
        assert_eq!(out[1]["buckets"], serde_json::json!([0.1, 1.0]));
        assert_eq!(
            out[2],
            serde_json::json!({"group": "g", "action": "expire"})
        );
    }

    #[test]
    fn what_deckhouse_or_prometheus_would_reject_is_named() {
        for (metrics, needle) in [
            (vec![gauge("1bad", &[])], "Prometheus name"),
            (vec![gauge("ok", &[("bad-label", "x")])], "label name"),
            (vec![gauge("ok", &[("hook", "x")])], "set by Deckhouse"),
            (
                vec![gauge("ok", &[("a", "x")]), gauge("ok", &[("b", "x")])],
                "same action kind and label names",
            ),
            (
                vec![Metric {
                    action: MetricAction::Observe,
                    ..gauge("ok", &[])
                }],
                "needs buckets",
            ),
            (
                vec![Metric {
                    value: f64::NAN,
                    ..gauge("ok", &[])
                }],
                "non-finite",
            ),
        ] {
            let err = to_json(&metrics).unwrap_err();
            assert!(err.contains(needle), "{err}");
        }
    }
}
