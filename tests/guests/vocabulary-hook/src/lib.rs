//! A hook guest that uses the whole 0.2.0 vocabulary: every binding field module-sdk has,
//! a schedule, settings, and in one run every object operation, metric action and both
//! values patches. Its golden fixtures and config goldens pin how the host renders each
//! form for Deckhouse. Native builds are empty.

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // the generated WIT glue is unsafe by nature
mod component {
    wit_bindgen::generate!({ path: "../../../wit", world: "hook-guest" });

    use deckhouse::hooks::kubernetes;
    use deckhouse::hooks::types::{CreateMode, DeleteMode, ObjectRef, PatchKind, PatchOptions};
    use exports::deckhouse::hooks::hook::*;

    struct Vocabulary;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn cm(name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("d8-vocabulary".into()),
            name: name.into(),
        }
    }

    fn object(name: &str, value: &str) -> String {
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "d8-vocabulary", "name": name}, "data": {"v": value}}).to_string()
    }

    fn metric(name: &str, action: MetricAction, value: f64, buckets: &[f64]) -> Metric {
        Metric {
            name: name.into(),
            group: Some("d8_vocabulary".into()),
            action,
            value,
            labels: vec![("kind".into(), "probe".into())],
            buckets: buckets.to_vec(),
        }
    }

    impl Guest for Vocabulary {
        fn config() -> HookConfig {
            let labels = LabelSelector {
                match_labels: vec![("app".into(), "probe".into())],
                match_expressions: vec![
                    LabelRequirement {
                        key: "tier".into(),
                        operator: LabelOperator::In,
                        values: strings(&["a", "b"]),
                    },
                    LabelRequirement {
                        key: "legacy".into(),
                        operator: LabelOperator::DoesNotExist,
                        values: vec![],
                    },
                ],
            };
            let base = KubeBinding {
                name: String::new(),
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                name_selector: vec![],
                namespace: None,
                label_selector: None,
                field_selector: vec![],
                execute_hook_on_event: None,
                execute_hook_on_synchronization: None,
                wait_for_synchronization: None,
                keep_full_objects_in_memory: None,
                jq_filter: None,
                include_snapshots_from: vec![],
                queue: None,
                group: None,
                allow_failure: None,
            };
            HookConfig {
                on_startup: Some(1),
                before_helm: Some(20),
                after_helm: Some(30),
                before_delete_helm: Some(40),
                after_delete_helm: Some(50),
                kubernetes: vec![
                    KubeBinding {
                        name: "configs".into(),
                        name_selector: strings(&["probe", "other"]),
                        namespace: Some(NamespaceSelector {
                            match_names: strings(&["d8-vocabulary"]),
                            label_selector: None,
                        }),
                        label_selector: Some(labels),
                        field_selector: vec![FieldRequirement {
                            field: "metadata.name".into(),
                            operator: FieldOperator::NotEquals,
                            value: "ignored".into(),
                        }],
                        execute_hook_on_event: Some(vec![WatchEvent::Added, WatchEvent::Deleted]),
                        execute_hook_on_synchronization: Some(true),
                        wait_for_synchronization: Some(false),
                        keep_full_objects_in_memory: Some(true),
                        jq_filter: Some(".data".into()),
                        allow_failure: Some(true),
                        ..base.clone()
                    },
                    KubeBinding {
                        name: "namespaces".into(),
                        kind: "Namespace".into(),
                        namespace: None,
                        label_selector: None,
                        execute_hook_on_event: Some(vec![]),
                        include_snapshots_from: strings(&["configs"]),
                        queue: Some("vocabulary-own".into()),
                        group: Some("main".into()),
                        ..base
                    },
                ],
                schedule: vec![ScheduleBinding {
                    name: "every-hour".into(),
                    crontab: "0 * * * *".into(),
                    queue: None,
                    group: None,
                    include_snapshots_from: vec![],
                }],
                settings: Some(RunSettings {
                    execution_min_interval_ms: 2500,
                    execution_burst: 3,
                }),
                allow_failure: false,
                readiness_interval_seconds: None,
            }
        }

        fn run(_input: HookInput) -> Result<HookOutput, String> {
            let plain = PatchOptions {
                subresource: None,
                ignore_missing_object: false,
            };
            let results = [
                kubernetes::create(&object("created", "1"), CreateMode::Create).map(drop),
                kubernetes::create(&object("probe", "2"), CreateMode::OrUpdate).map(drop),
                kubernetes::create(&object("kept", "3"), CreateMode::IfNotExists).map(drop),
                kubernetes::patch(&cm("probe"), PatchKind::Merge, r#"{"data":{"v":"4"}}"#, &plain).map(drop),
                kubernetes::patch(&cm("probe"), PatchKind::Merge, r#"{"phase":"Ready"}"#, &PatchOptions { subresource: Some("status".into()), ignore_missing_object: false }).map(drop),
                kubernetes::patch(
                    &cm("gone"),
                    PatchKind::Json,
                    r#"[{"op":"test","path":"/data/v","value":"1"},{"op":"remove","path":"/data/v"}]"#,
                    &PatchOptions { subresource: None, ignore_missing_object: true },
                )
                .map(drop),
                kubernetes::delete(&cm("old-a"), DeleteMode::Foreground),
                kubernetes::delete(&cm("old-b"), DeleteMode::Background),
                kubernetes::delete(&cm("old-c"), DeleteMode::Orphan),
            ];
            if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
                return Err(format!("a Kubernetes call failed: {e:?}"));
            }
            Ok(HookOutput {
                values_patch: vec![
                    ValuesOp {
                        op: ValuesOpKind::Add,
                        path: "/internal/vocabulary/seen".into(),
                        value: Some("true".into()),
                    },
                    ValuesOp {
                        op: ValuesOpKind::Remove,
                        path: "/internal/stale".into(),
                        value: None,
                    },
                ],
                config_values_patch: vec![ValuesOp {
                    op: ValuesOpKind::Add,
                    path: "/logLevel".into(),
                    value: Some("\"Debug\"".into()),
                }],
                metrics: vec![
                    metric("d8_vocabulary_items", MetricAction::Set, 3.0, &[]),
                    metric("d8_vocabulary_runs_total", MetricAction::Add, 1.0, &[]),
                    metric(
                        "d8_vocabulary_run_seconds",
                        MetricAction::Observe,
                        0.25,
                        &[0.1, 0.5, 1.0],
                    ),
                    Metric {
                        name: String::new(),
                        group: Some("d8_vocabulary_stale".into()),
                        action: MetricAction::Expire,
                        value: 0.0,
                        labels: vec![],
                        buckets: vec![],
                    },
                ],
            })
        }
    }

    export!(Vocabulary);
}
