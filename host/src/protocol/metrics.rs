//! Metric operations in the NDJSON form Deckhouse reads from `METRICS_PATH`.

use crate::runtime::bindings::{Metric, MetricAction};
use serde_json::{Map, Value};

/// One metric operation as a JSON object; `expire` carries only its group.
pub fn to_json(metric: &Metric) -> Result<Value, String> {
    let action = match metric.action {
        MetricAction::Set => "set",
        MetricAction::Add => "add",
        MetricAction::Observe => "observe",
        MetricAction::Expire => "expire",
    };
    let mut m = Map::new();
    if metric.action == MetricAction::Expire {
        let group = metric.group.clone().filter(|g| !g.is_empty()).ok_or("an expire operation needs a group")?;
        m.insert("group".into(), group.into());
        m.insert("action".into(), action.into());
        return Ok(Value::Object(m));
    }
    if metric.name.is_empty() {
        return Err("a metric has no name".into());
    }
    if !metric.value.is_finite() {
        return Err(format!("metric {} has a non-finite value", metric.name));
    }
    m.insert("name".into(), metric.name.clone().into());
    if let Some(group) = metric.group.clone().filter(|g| !g.is_empty()) {
        m.insert("group".into(), group.into());
    }
    m.insert("action".into(), action.into());
    m.insert("value".into(), metric.value.into());
    if !metric.labels.is_empty() {
        let labels: Map<String, Value> = metric.labels.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        m.insert("labels".into(), Value::Object(labels));
    }
    Ok(Value::Object(m))
}
