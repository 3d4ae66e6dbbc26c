//! Pass 2's comparison: every spec field the migration wrote must still hold its value
//! (sizes compared as quantities, lists in any order); fields others added are fine.

use serde_json::Value;

use crate::quantity::value_bytes;

/// One line per differing field: `spec.type is "Access", expected "Diskful"`.
pub fn differences(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk("spec", expected, Some(actual), &mut out);
    out
}

fn walk(path: &str, expected: &Value, actual: Option<&Value>, out: &mut Vec<String>) {
    let Some(actual) = actual else {
        out.push(format!("{path} is missing, expected {expected}"));
        return;
    };
    match expected {
        Value::Object(fields) if actual.is_object() => {
            for (key, want) in fields {
                walk(&format!("{path}.{key}"), want, actual.get(key), out);
            }
        }
        _ if !same(path, expected, actual) => {
            out.push(format!("{path} is {actual}, expected {expected}"))
        }
        _ => {}
    }
}

/// Equal as the migration means it: subset for objects, any order for lists.
fn same(path: &str, expected: &Value, actual: &Value) -> bool {
    if path.ends_with(".size") {
        return matches!((value_bytes(expected), value_bytes(actual)), (Ok(a), Ok(b)) if a == b);
    }
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => want.iter().all(|(k, v)| {
            have.get(k)
                .is_some_and(|h| same(&format!("{path}.{k}"), v, h))
        }),
        (Value::Array(want), Value::Array(have)) => same_items(path, want, have),
        _ => expected == actual,
    }
}

fn same_items(path: &str, want: &[Value], have: &[Value]) -> bool {
    if want.len() != have.len() {
        return false;
    }
    let mut used = vec![false; have.len()];
    want.iter().all(|w| {
        let found = have
            .iter()
            .enumerate()
            .find(|(i, h)| !used[*i] && same(path, w, h));
        found.map(|(i, _)| used[i] = true).is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extra_actual_fields_and_list_order_do_not_matter() {
        let want = json!({"type": "LVM", "lvmVolumeGroups": [{"name": "a"}, {"name": "b"}]});
        let have =
            json!({"type": "LVM", "lvmVolumeGroups": [{"name": "b"}, {"name": "a"}], "zones": []});
        assert!(differences(&want, &have).is_empty());
    }

    #[test]
    fn sizes_compare_as_quantities() {
        assert!(
            differences(&json!({"size": "5Gi"}), &json!({"size": 5_368_709_120u64})).is_empty()
        );
        assert_eq!(
            differences(&json!({"size": "5Gi"}), &json!({"size": "4Gi"})).len(),
            1
        );
    }

    #[test]
    fn reports_each_differing_and_missing_field() {
        let want = json!({"type": "Diskful", "nodeName": "n1", "lvmVolumeGroupName": "vg"});
        let have = json!({"type": "Access", "nodeName": "n1"});
        let found = differences(&want, &have);
        assert_eq!(
            found,
            [
                "spec.lvmVolumeGroupName is missing, expected \"vg\"",
                "spec.type is \"Access\", expected \"Diskful\""
            ]
        );
    }
}
