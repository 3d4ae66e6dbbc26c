//! Validation of created objects against the real CRDs in tests/crds: the
//! openAPIV3Schema (jsonschema), fields the API server would silently prune, and the
//! CRDs' CEL rules re-stated in `rules`.

use std::collections::HashMap;

use serde_json::Value;

use super::data::load_yaml;
use super::rules;

const CRD_FILES: [&str; 7] = [
    "storage.deckhouse.io_replicatedvolumes.yaml",
    "storage.deckhouse.io_replicatedvolumereplicas.yaml",
    "storage.deckhouse.io_replicatedvolumeattachments.yaml",
    "storage.deckhouse.io_drbdresources.yaml",
    "storage.deckhouse.io_replicatedstoragepools.yaml",
    "storage.deckhouse.io_lvmlogicalvolumes.yaml",
    "storage.deckhouse.io_lvmvolumegroups.yaml",
];

struct Kind {
    schema: Value,
    validator: jsonschema::Validator,
}

/// One compiled schema per kind of storage.deckhouse.io/v1alpha1.
pub struct Schemas {
    kinds: HashMap<String, Kind>,
}

impl Schemas {
    pub fn load() -> Self {
        let mut kinds = HashMap::new();
        for file in CRD_FILES {
            for crd in load_yaml(&format!("crds/{file}")) {
                let kind = crd["spec"]["names"]["kind"]
                    .as_str()
                    .expect("CRD names a kind")
                    .to_owned();
                let version = crd["spec"]["versions"]
                    .as_array()
                    .and_then(|vs| vs.iter().find(|v| v["name"] == "v1alpha1"))
                    .unwrap_or_else(|| panic!("{file}: no v1alpha1 version"));
                let schema = version["schema"]["openAPIV3Schema"].clone();
                let validator = jsonschema::draft4::new(&schema)
                    .unwrap_or_else(|e| panic!("{file}: schema: {e}"));
                kinds.insert(kind, Kind { schema, validator });
            }
        }
        Self { kinds }
    }

    /// Every reason the API server would reject or alter the object, prefixed by its name.
    pub fn problems(&self, object: &Value) -> Vec<String> {
        let kind = object["kind"].as_str().unwrap_or("");
        let name = format!(
            "{kind} {}",
            object["metadata"]["name"].as_str().unwrap_or("?")
        );
        let Some(schema) = self.kinds.get(kind) else {
            return vec![format!("{name}: no CRD for this kind in tests/crds")];
        };
        let mut found: Vec<String> = schema
            .validator
            .iter_errors(object)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        pruned(
            "",
            object.get("spec").unwrap_or(&Value::Null),
            &schema.schema["properties"]["spec"],
            &mut found,
        );
        found.extend(rules::problems(object));
        found.into_iter().map(|p| format!("{name}: {p}")).collect()
    }

    /// Panics listing every problem of every object.
    pub fn assert_all_valid<'a>(&self, objects: impl IntoIterator<Item = &'a Value>) -> usize {
        let mut count = 0;
        let mut problems = Vec::new();
        for object in objects {
            count += 1;
            problems.extend(self.problems(object));
        }
        assert!(
            problems.is_empty(),
            "objects fail their CRDs:\n{}",
            problems.join("\n")
        );
        count
    }
}

/// Fields the schema does not declare: a real API server drops them without a word.
fn pruned(path: &str, value: &Value, schema: &Value, found: &mut Vec<String>) {
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
                    pruned(&format!("{path}.{key}"), field, field_schema, found);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pruned(&format!("{path}[{i}]"), item, &schema["items"], found);
            }
        }
        _ => {}
    }
}
