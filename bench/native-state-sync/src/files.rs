//! The run's results in the files Deckhouse reads: a JSON Patch on values rooted at the
//! module key (missing parents added first), and NDJSON object and metric operations.

use guest_hook::logic::inputs::VALUES_KEY;
use guest_hook::logic::memory::Created;
use guest_hook::logic::{HookOutput, Metric, MetricAction, ValuesOpKind};
use serde_json::{Map, Value, json};

/// The values patch: each op rooted at `/sdsReplicatedVolume`, with an `add {}` before
/// it for every parent the values lack (`add` fails on a missing parent).
pub fn values_patch(values: &Value, out: &HookOutput) -> Value {
    let mut known = values.clone();
    let mut ops = Vec::new();
    for op in &out.values_patch {
        let path = format!("/{VALUES_KEY}{}", op.path);
        if op.op == ValuesOpKind::Add {
            add_missing_parents(&mut known, &path, &mut ops);
        }
        let kind = if op.op == ValuesOpKind::Add {
            "add"
        } else {
            "remove"
        };
        let mut line = json!({"op": kind, "path": path});
        if let Some(value) = &op.value {
            line["value"] = value.clone();
        }
        ops.push(line);
    }
    Value::Array(ops)
}

fn add_missing_parents(known: &mut Value, path: &str, ops: &mut Vec<Value>) {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut prefix = String::new();
    for segment in &segments[..segments.len().saturating_sub(1)] {
        prefix = format!("{prefix}/{segment}");
        if known.pointer(&prefix).is_none() {
            ops.push(json!({"op": "add", "path": prefix, "value": {}}));
            insert(known, &prefix);
        }
    }
}

/// Records an empty object at `pointer` (whose parent exists) in `known`.
fn insert(known: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    let target = if parent.is_empty() {
        Some(known)
    } else {
        known.pointer_mut(parent)
    };
    if let Some(Value::Object(map)) = target {
        map.insert(key.to_owned(), Value::Object(Map::new()));
    }
}

/// Object operations, one JSON object per line.
pub fn kubernetes_patch(created: &[Created]) -> String {
    ndjson(created.iter().map(|c| {
        let operation = if c.if_absent {
            "CreateIfNotExists"
        } else {
            "Create"
        };
        json!({"operation": operation, "object": c.object})
    }))
}

/// Metric operations, one JSON object per line; `expire` carries only its group.
pub fn metrics(metrics: &[Metric]) -> String {
    ndjson(metrics.iter().map(|m| {
        let mut line = json!({"action": m.action.as_str()});
        if let Some(group) = &m.group {
            line["group"] = json!(group);
        }
        if m.action != MetricAction::Expire {
            line["name"] = json!(m.name);
            line["value"] = json!(m.value);
            line["labels"] = m
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect::<Map<_, _>>()
                .into();
        }
        line
    }))
}

fn ndjson(lines: impl Iterator<Item = Value>) -> String {
    lines.map(|l| format!("{l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use guest_hook::logic::ValuesOp;

    fn output(op: ValuesOp) -> HookOutput {
        HookOutput {
            values_patch: vec![op],
            metrics: Vec::new(),
        }
    }

    #[test]
    fn ops_are_rooted_and_parents_added() {
        let op = ValuesOp::add("/internal/controlPlaneMigration", json!("x"));
        let with_parent = values_patch(
            &json!({"sdsReplicatedVolume": {"internal": {}}}),
            &output(op.clone()),
        );
        assert_eq!(
            with_parent,
            json!([{"op": "add", "path": "/sdsReplicatedVolume/internal/controlPlaneMigration", "value": "x"}])
        );
        let without = values_patch(&json!({"sdsReplicatedVolume": {}}), &output(op));
        assert_eq!(
            without[0],
            json!({"op": "add", "path": "/sdsReplicatedVolume/internal", "value": {}})
        );
        assert_eq!(without.as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn metrics_lines_follow_deckhouse() {
        let m = guest_hook::logic::metrics::metrics("a", None);
        let text = metrics(&m);
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0],
            json!({"action": "expire", "group": "d8_sds_control_plane_migration"})
        );
        assert_eq!(lines[1]["labels"], json!({"state": "a"}));
        assert_eq!(lines[1]["value"], json!(1.0));
    }

    #[test]
    fn creates_become_create_if_not_exists() {
        let text = kubernetes_patch(&[Created {
            object: json!({"kind": "ConfigMap"}),
            if_absent: true,
        }]);
        assert_eq!(
            text,
            "{\"object\":{\"kind\":\"ConfigMap\"},\"operation\":\"CreateIfNotExists\"}\n"
        );
    }
}
