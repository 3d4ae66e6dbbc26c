//! Binding contexts made from a cluster state, as Deckhouse would write them for a hook's
//! bindings: each binding's snapshot holds the objects its selectors pick.

use crate::config::{FieldOperator, HookConfig, KubeBinding};
use hooks_manifest::binding_context::{BindingContext, SnapshotItem};
use hooks_manifest::{FieldSelector, ObjectRef};
use serde_json::Value;
use std::collections::BTreeMap;

/// A native stand-in for a binding's jqFilter (the kit cannot run jq).
pub type Filter = dyn Fn(&Value) -> Value;

/// One `beforeHelm` context carrying every kubernetes binding's snapshot.
pub fn before_helm(
    config: &HookConfig,
    objects: &[Value],
    filters: &BTreeMap<String, Box<Filter>>,
) -> Result<Vec<BindingContext>, String> {
    let mut snapshots = BTreeMap::new();
    for binding in &config.kubernetes {
        snapshots.insert(binding.name.clone(), snapshot(binding, objects, filters)?);
    }
    Ok(vec![BindingContext {
        binding: "beforeHelm".into(),
        snapshots: Some(snapshots),
        ..BindingContext::default()
    }])
}

/// One `Synchronization` context per kubernetes binding, as shell-operator starts a hook.
pub fn synchronization(
    config: &HookConfig,
    objects: &[Value],
    filters: &BTreeMap<String, Box<Filter>>,
) -> Result<Vec<BindingContext>, String> {
    config
        .kubernetes
        .iter()
        .map(|binding| {
            Ok(BindingContext {
                binding: binding.name.clone(),
                kind: Some("Synchronization".into()),
                objects: Some(snapshot(binding, objects, filters)?),
                ..BindingContext::default()
            })
        })
        .collect()
}

fn snapshot(
    binding: &KubeBinding,
    objects: &[Value],
    filters: &BTreeMap<String, Box<Filter>>,
) -> Result<Vec<SnapshotItem>, String> {
    let filter = match (&binding.jq_filter, filters.get(&binding.name)) {
        (None, _) => None,
        (Some(_), Some(f)) => Some(f),
        (Some(jq), None) => {
            return Err(format!(
                "binding {:?} has jqFilter {jq:?}, which the test kit cannot run natively: register a native filter for it (HookTest::filter) or give the case an explicit binding-context",
                binding.name
            ));
        }
    };
    let keep = binding.keep_full_objects_in_memory != Some(false);
    let mut items = Vec::new();
    for object in objects {
        if selects(binding, object, objects)? {
            items.push(SnapshotItem {
                object: keep.then(|| object.clone()),
                filter_result: filter.map(|f| f(object)),
            });
        }
    }
    Ok(items)
}

/// Whether the binding's selectors pick `object`; `all` holds the Namespace objects a
/// namespace label selector looks at.
pub(crate) fn selects(
    binding: &KubeBinding,
    object: &Value,
    all: &[Value],
) -> Result<bool, String> {
    let Ok(id) = ObjectRef::of(object) else {
        return Ok(false);
    };
    if id.api_version != binding.api_version || id.kind != binding.kind {
        return Ok(false);
    }
    if !binding.name_selector.is_empty() && !binding.name_selector.contains(&id.name) {
        return Ok(false);
    }
    if let Some(ns) = &binding.namespace {
        let Some(namespace) = &id.namespace else {
            return Ok(false);
        };
        if !ns.match_names.is_empty() && !ns.match_names.contains(namespace) {
            return Ok(false);
        }
        if let Some(labels) = &ns.label_selector {
            let matcher = labels.matcher().map_err(|e| e.to_string())?;
            let ns_object = all.iter().find(|o| {
                ObjectRef::of(o).is_ok_and(|r| r.kind == "Namespace" && r.name == *namespace)
            });
            if !ns_object.is_some_and(|o| matcher.matches(o)) {
                return Ok(false);
            }
        }
    }
    if let Some(labels) = &binding.label_selector
        && !labels.matcher().map_err(|e| e.to_string())?.matches(object)
    {
        return Ok(false);
    }
    let fields = FieldSelector::from_parts(binding.field_selector.iter().map(|f| {
        (
            f.field.clone(),
            f.operator == FieldOperator::Equals,
            f.value.clone(),
        )
    }));
    Ok(fields.matches(object))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LabelSelector;
    use serde_json::json;

    fn objects() -> Vec<Value> {
        vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"team": "x"}}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "a", "name": "p1", "labels": {"app": "web"}}, "status": {"phase": "Running"}}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "b", "name": "p2", "labels": {"app": "web"}}, "status": {"phase": "Pending"}}),
        ]
    }

    fn names(binding: KubeBinding) -> Vec<String> {
        let config = HookConfig::new().kubernetes(binding);
        let contexts = before_helm(&config, &objects(), &BTreeMap::new()).unwrap();
        contexts[0]
            .snapshots
            .as_ref()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .iter()
            .map(|i| {
                i.object.as_ref().unwrap()["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn every_selector_narrows_the_snapshot() {
        let pods = || KubeBinding::new("pods", "v1", "Pod");
        assert_eq!(names(pods()), ["p1", "p2"]);
        assert_eq!(names(pods().names(["p2"])), ["p2"]);
        assert_eq!(names(pods().namespaces(["a"])), ["p1"]);
        assert_eq!(
            names(pods().namespace_labels(LabelSelector::new().exists("team"))),
            ["p1"]
        );
        assert_eq!(names(pods().label("app", "db")), Vec::<String>::new());
        assert_eq!(
            names(pods().field("status.phase", FieldOperator::NotEquals, "Running")),
            ["p2"]
        );
    }

    #[test]
    fn filters_stand_in_for_jq_and_are_required() {
        let config = HookConfig::new().kubernetes(
            KubeBinding::new("pods", "v1", "Pod")
                .jq_filter(".metadata.name")
                .keep_full_objects_in_memory(false),
        );
        let err = synchronization(&config, &objects(), &BTreeMap::new()).unwrap_err();
        assert!(err.contains("HookTest::filter"), "{err}");
        let mut filters: BTreeMap<String, Box<Filter>> = BTreeMap::new();
        filters.insert(
            "pods".into(),
            Box::new(|o: &Value| o["metadata"]["name"].clone()),
        );
        let contexts = synchronization(&config, &objects(), &filters).unwrap();
        let items = contexts[0].objects.as_ref().unwrap();
        assert_eq!(
            items[0],
            SnapshotItem {
                object: None,
                filter_result: Some(json!("p1"))
            }
        );
    }
}
