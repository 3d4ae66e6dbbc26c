//! Validation of created objects against the real CRDs in tests/crds: the
//! openAPIV3Schema (jsonschema) and fields the API server would silently prune, and
//! on request the CRDs' CEL rules re-stated in `cel`.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::{Error, cel, crd_files, prune, yaml_documents};

/// The CRDs of the kinds the migration creates or reads (sds-replicated-volume's and
/// sds-node-configurator's), all under this file name prefix.
const STORAGE_CRD_PREFIX: &str = "storage.deckhouse.io_";

struct Kind {
    schema: Value,
    validator: jsonschema::Validator,
}

/// One compiled schema per kind of storage.deckhouse.io/v1alpha1.
pub struct Schemas {
    kinds: HashMap<String, Kind>,
    cel: bool,
}

impl Schemas {
    /// Schema and pruning checks, what the API server's structural validation does.
    pub fn load() -> Result<Self, Error> {
        let mut kinds = HashMap::new();
        for file in crd_files()? {
            let storage = file
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(STORAGE_CRD_PREFIX));
            if storage {
                for crd in yaml_documents(&file)? {
                    let (kind, compiled) = compile(&file, &crd)?;
                    kinds.insert(kind, compiled);
                }
            }
        }
        Ok(Self { kinds, cel: false })
    }

    /// Also checks the CEL rules (x-kubernetes-validations), as a real API server would.
    pub fn with_cel_rules(self) -> Self {
        Self { cel: true, ..self }
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
        prune::pruned_fields(
            object.get("spec").unwrap_or(&Value::Null),
            &schema.schema["properties"]["spec"],
            &mut found,
        );
        if self.cel {
            found.extend(cel::problems(object));
        }
        found.into_iter().map(|p| format!("{name}: {p}")).collect()
    }

    /// Panics listing every problem of every object; returns how many were checked.
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

/// The CRD's kind and its compiled v1alpha1 schema.
fn compile(file: &Path, crd: &Value) -> Result<(String, Kind), Error> {
    let error = |message: String| Error::Crd {
        path: file.to_path_buf(),
        message,
    };
    let kind = crd["spec"]["names"]["kind"]
        .as_str()
        .ok_or_else(|| error("the CRD names no spec.names.kind".into()))?;
    let version = crd["spec"]["versions"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["name"] == "v1alpha1"))
        .ok_or_else(|| error(format!("{kind}: no v1alpha1 version")))?;
    let schema = version["schema"]["openAPIV3Schema"].clone();
    let validator =
        jsonschema::draft4::new(&schema).map_err(|e| error(format!("{kind}: schema: {e}")))?;
    Ok((kind.to_owned(), Kind { schema, validator }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schemas() -> Schemas {
        Schemas::load().expect("tests/crds compiles")
    }

    #[test]
    fn the_golden_runs_objects_pass_every_check() {
        let objects = crate::golden::objects("small-cluster").expect("golden run loads");
        let count = schemas().with_cel_rules().assert_all_valid(&objects);
        assert_eq!(count, objects.len());
    }

    #[test]
    fn unknown_kinds_pruned_fields_and_schema_errors_are_named() {
        let schemas = schemas();
        let stray = json!({"kind": "Stray", "metadata": {"name": "s"}});
        assert_eq!(
            schemas.problems(&stray),
            ["Stray s: no CRD for this kind in tests/crds"]
        );
        let golden = crate::golden::objects("small-cluster").expect("golden run loads");
        let mut pool = golden
            .into_iter()
            .find(|o| o["kind"] == "ReplicatedStoragePool")
            .expect("the golden run creates a pool");
        let name = pool["metadata"]["name"].as_str().unwrap_or("?").to_owned();
        assert_eq!(schemas.problems(&pool), Vec::<String>::new());
        pool["spec"]["colour"] = json!("red");
        assert_eq!(
            schemas.problems(&pool),
            [format!(
                "ReplicatedStoragePool {name}: spec.colour is not in the CRD schema and would be pruned"
            )]
        );
        pool["spec"]["type"] = json!(7);
        assert!(
            schemas
                .problems(&pool)
                .iter()
                .any(|p| p.contains("/spec/type")),
            "{:?}",
            schemas.problems(&pool)
        );
    }

    #[test]
    fn cel_rules_apply_only_on_request() {
        let replica = json!({"apiVersion": "storage.deckhouse.io/v1alpha1",
            "kind": "ReplicatedVolumeReplica", "metadata": {"name": "other-1"},
            "spec": {"replicatedVolumeName": "pvc-1", "nodeName": "n", "type": "Diskful"}});
        let schemas = schemas();
        let without = schemas.problems(&replica);
        let with = schemas.with_cel_rules().problems(&replica);
        assert!(with.len() > without.len(), "{without:?} vs {with:?}");
        assert!(
            with.iter().any(|p| p.contains("CEL rule fails")),
            "{with:?}"
        );
    }
}
