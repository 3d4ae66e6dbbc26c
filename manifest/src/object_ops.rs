//! Object operations as Deckhouse's object patcher reads them from
//! `KUBERNETES_PATCH_PATH`, checked against the rules of shell-operator's
//! `object_patch/validation.go` (schema v0) before anything is written: a run whose
//! operations Deckhouse would reject fails here, naming the operation, instead of
//! exiting 0 and being retried forever.

use serde_json::Value;

const CREATES: [&str; 3] = ["Create", "CreateOrUpdate", "CreateIfNotExists"];
const DELETES: [&str; 3] = ["Delete", "DeleteInBackground", "DeleteNonCascading"];
const PATCHES: [&str; 2] = ["MergePatch", "JSONPatch"];
/// The keys the schema allows at the top level (`additionalProperties: false`).
const KEYS: [&str; 12] = [
    "operation",
    "namespace",
    "subresource",
    "apiVersion",
    "kind",
    "name",
    "object",
    "jsonPatch",
    "jqFilter",
    "mergePatch",
    "ignoreMissingObject",
    "ignoreHookError",
];

/// Checks one operation; the error says which rule it breaks.
pub fn check(op: &Value) -> Result<(), String> {
    let Some(map) = op.as_object() else {
        return Err("an operation must be a JSON object".into());
    };
    if let Some(extra) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("unknown field {extra:?}"));
    }
    let string = |key: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    for key in ["namespace", "subresource", "apiVersion", "kind", "name"] {
        if map.get(key).is_some_and(|v| !v.is_string()) {
            return Err(format!("{key} must be a string"));
        }
    }
    let operation = string("operation").ok_or("no operation")?;
    if CREATES.contains(&operation) {
        match map.get("object") {
            Some(Value::Object(o)) if !o.is_empty() => Ok(()),
            Some(Value::String(s)) if !s.is_empty() => Ok(()),
            _ => Err(format!("{operation} needs a non-empty `object`")),
        }
    } else if DELETES.contains(&operation) || PATCHES.contains(&operation) {
        if string("kind").is_none() || string("name").is_none() {
            return Err(format!("{operation} needs `kind` and `name`"));
        }
        if map
            .get("ignoreMissingObject")
            .is_some_and(|v| !v.is_boolean())
        {
            return Err("ignoreMissingObject must be a boolean".into());
        }
        match operation {
            "MergePatch" => match map.get("mergePatch") {
                Some(Value::Object(p)) if !p.is_empty() => Ok(()),
                Some(Value::String(s)) if !s.is_empty() => Ok(()),
                _ => Err(
                    "MergePatch needs a non-empty `mergePatch` object (an empty one is rejected)"
                        .into(),
                ),
            },
            "JSONPatch" => match map.get("jsonPatch") {
                // Draft-4 tuple `items`: the schema checks the FIRST item only, and requires
                // `value` on it even for `remove`.
                Some(Value::Array(items)) => match items.first() {
                    None => Err("JSONPatch needs at least one operation".into()),
                    Some(first) => {
                        let field = |k: &str| {
                            first
                                .get(k)
                                .and_then(Value::as_str)
                                .is_some_and(|s| !s.is_empty())
                        };
                        if !field("op") || !field("path") || first.get("value").is_none() {
                            Err("JSONPatch: Deckhouse requires `op`, `path` and `value` on the first operation; put an operation with a value (e.g. `test`) first".into())
                        } else {
                            Ok(())
                        }
                    }
                },
                Some(Value::String(s)) if !s.is_empty() => Ok(()),
                _ => Err("JSONPatch needs a `jsonPatch` array".into()),
            },
            _ => Ok(()),
        }
    } else {
        Err(format!(
            "operation {operation:?} is not one Deckhouse knows ({})",
            [&CREATES[..], &DELETES[..], &PATCHES[..]]
                .concat()
                .join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_the_patcher_accepts_passes() {
        for op in [
            json!({"operation": "Create", "object": {"kind": "ConfigMap"}}),
            json!({"operation": "DeleteNonCascading", "kind": "ConfigMap", "name": "x", "namespace": "ns"}),
            json!({"operation": "MergePatch", "kind": "ConfigMap", "name": "x", "mergePatch": {"a": 1}, "subresource": "status", "ignoreMissingObject": true}),
            json!({"operation": "JSONPatch", "kind": "ConfigMap", "name": "x", "jsonPatch": [{"op": "test", "path": "/a", "value": 1}, {"op": "remove", "path": "/a"}]}),
        ] {
            check(&op).unwrap();
        }
    }

    #[test]
    fn what_the_patcher_rejects_is_named() {
        for (op, needle) in [
            (
                json!({"operation": "MergePatch", "kind": "C", "name": "x", "mergePatch": {}}),
                "non-empty",
            ),
            (
                json!({"operation": "JSONPatch", "kind": "C", "name": "x", "jsonPatch": [{"op": "remove", "path": "/a"}]}),
                "first operation",
            ),
            (json!({"operation": "Delete", "name": "x"}), "kind"),
            (
                json!({"operation": "Replace", "kind": "C", "name": "x"}),
                "not one Deckhouse knows",
            ),
            (
                json!({"operation": "Create", "object": {}, "extra": 1}),
                "unknown field",
            ),
            (json!({"operation": "Create", "object": {}}), "non-empty"),
        ] {
            let err = check(&op).unwrap_err();
            assert!(err.contains(needle), "{op}: {err}");
        }
    }
}
