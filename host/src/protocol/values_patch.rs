//! Turns a guest's values changes into the JSON patch Deckhouse accepts: only `add` and
//! `remove`, rooted at the module's values key, with missing parents created first
//! (Deckhouse's `add` fails on a missing parent) and removes of absent paths dropped
//! (its `remove` fails on them).

use serde_json::{Value, json};

/// One change below the module's values key, as the guest asked for it.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// `path` is a JSON pointer below the module key.
    Add {
        path: String,
        value: Value,
    },
    Remove {
        path: String,
    },
}

/// Builds the rooted patch; `values` is the whole values document the run started from.
pub fn build(values_key: &str, values: &Value, changes: Vec<Change>) -> Result<Vec<Value>, String> {
    let mut doc = values.clone();
    let mut ops = Vec::new();
    for change in changes {
        match change {
            Change::Add { path, value } => {
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
            Change::Remove { path } => {
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

/// `/sdsReplicatedVolume` + the guest's pointer, which must be a non-root JSON pointer.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_parents_are_created_and_rooted() {
        let values = json!({"sdsReplicatedVolume": {}});
        let ops = build(
            "sdsReplicatedVolume",
            &values,
            vec![Change::Add {
                path: "/internal/state".into(),
                value: json!("x"),
            }],
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
        let values = json!({"sdsReplicatedVolume": {"internal": {"a": 1}}});
        let ops = build(
            "sdsReplicatedVolume",
            &values,
            vec![
                Change::Add {
                    path: "/internal/b".into(),
                    value: json!(2),
                },
                Change::Remove {
                    path: "/internal/zzz".into(),
                },
                Change::Remove {
                    path: "/internal/a".into(),
                },
            ],
        )
        .unwrap();
        assert_eq!(
            ops,
            vec![
                json!({"op": "add", "path": "/sdsReplicatedVolume/internal/b", "value": 2}),
                json!({"op": "remove", "path": "/sdsReplicatedVolume/internal/a"})
            ]
        );
    }

    #[test]
    fn paths_must_stay_below_the_module_key() {
        let values = json!({});
        for bad in ["", "/", "internal", "/internal/"] {
            assert!(
                build("m", &values, vec![Change::Remove { path: bad.into() }]).is_err(),
                "{bad:?}"
            );
        }
        // A pointer cannot climb out: it is always prefixed with the module key.
        let ops = build(
            "m",
            &values,
            vec![Change::Add {
                path: "/global".into(),
                value: json!(1),
            }],
        )
        .unwrap();
        assert_eq!(ops.last().unwrap()["path"], "/m/global");
    }

    #[test]
    fn a_scalar_in_the_way_is_an_error() {
        let values = json!({"m": {"internal": 5}});
        assert!(
            build(
                "m",
                &values,
                vec![Change::Add {
                    path: "/internal/x".into(),
                    value: json!(1)
                }]
            )
            .is_err()
        );
    }
}
