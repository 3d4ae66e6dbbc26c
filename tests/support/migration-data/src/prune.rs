//! Fields a CRD's schema does not declare: a real API server drops them without a
//! word, so an object that passes schema validation can still lose data.

use serde_json::Value;

/// Pushes one problem per undeclared field below `spec`.
pub fn pruned_fields(spec: &Value, spec_schema: &Value, found: &mut Vec<String>) {
    walk("", spec, spec_schema, found);
}

fn walk(path: &str, value: &Value, schema: &Value, found: &mut Vec<String>) {
    if schema["x-kubernetes-preserve-unknown-fields"] == true {
        return;
    }
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let declared = &schema["properties"][key];
                let open = &schema["additionalProperties"];
                let field_schema = if !declared.is_null() { declared } else { open };
                if field_schema.is_null() || *field_schema == false {
                    found.push(format!(
                        "spec{path}.{key} is not in the CRD schema and would be pruned"
                    ));
                } else {
                    walk(&format!("{path}.{key}"), field, field_schema, found);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(&format!("{path}[{i}]"), item, &schema["items"], found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn undeclared_fields_are_named_with_their_path() {
        let schema = json!({"properties": {
            "a": {"type": "string"},
            "list": {"type": "array", "items": {"properties": {"b": {}}}},
            "open": {"x-kubernetes-preserve-unknown-fields": true},
            "map": {"additionalProperties": {"type": "string"}}}});
        let spec = json!({"a": "x", "list": [{"b": 1, "c": 2}], "open": {"any": 1},
                          "map": {"k": "v"}, "d": 3});
        let mut found = Vec::new();
        pruned_fields(&spec, &schema, &mut found);
        found.sort();
        assert_eq!(
            found,
            [
                "spec.d is not in the CRD schema and would be pruned",
                "spec.list[0].c is not in the CRD schema and would be pruned",
            ]
        );
    }
}
