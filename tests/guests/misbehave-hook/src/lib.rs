//! A hook guest that misbehaves on request (`mode` in the config values), so the
//! sandbox tests can prove the host contains it. Native builds are empty.

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // the generated WIT glue is unsafe by nature
mod component {
    wit_bindgen::generate!({ path: "../../../wit", world: "hook-guest" });

    use deckhouse::hooks::kubernetes;
    use deckhouse::hooks::types::{KubeError, ObjectRef};
    use exports::deckhouse::hooks::hook::{Guest, HookConfig, HookInput, HookOutput, KubeBinding, NamespaceSelector, ValuesOp, ValuesOpKind};

    struct Misbehave;

    fn mode(input: &HookInput) -> String {
        let v: serde_json::Value = serde_json::from_str(&input.config_values).unwrap_or_default();
        v.pointer("/misbehave/mode").and_then(|m| m.as_str()).unwrap_or("ok").to_owned()
    }

    fn outcome(what: &str, result: Result<String, String>) -> Result<HookOutput, String> {
        // Report what happened through a values op, so the test can read it.
        let result = match result {
            Ok(v) => serde_json::json!({"Ok": v}),
            Err(e) => serde_json::json!({"Err": e}),
        };
        let value = serde_json::json!({"what": what, "result": result}).to_string();
        Ok(HookOutput { values_patch: vec![ValuesOp { op: ValuesOpKind::Add, path: "/internal/probe".into(), value: Some(value) }], config_values_patch: vec![], metrics: vec![] })
    }

    fn secret() -> ObjectRef {
        ObjectRef { api_version: "v1".into(), kind: "Secret".into(), namespace: Some("kube-system".into()), name: "admin-token".into() }
    }

    impl Guest for Misbehave {
        fn config() -> HookConfig {
            HookConfig {
                on_startup: None,
                before_helm: Some(1),
                after_helm: None,
                before_delete_helm: None,
                after_delete_helm: None,
                kubernetes: vec![KubeBinding {
                    name: "state".into(),
                    api_version: "v1".into(),
                    kind: "ConfigMap".into(),
                    name_selector: vec!["probe".into()],
                    namespace: Some(NamespaceSelector { match_names: vec!["probe-ns".into()], label_selector: None }),
                    label_selector: None,
                    field_selector: vec![],
                    execute_hook_on_event: None,
                    execute_hook_on_synchronization: Some(true),
                    wait_for_synchronization: None,
                    keep_full_objects_in_memory: Some(true),
                    jq_filter: None,
                    include_snapshots_from: vec![],
                    queue: None,
                    group: None,
                    allow_failure: None,
                }],
                schedule: vec![],
                settings: None,
                allow_failure: false,
                readiness_interval_seconds: None,
            }
        }

        fn run(input: HookInput) -> Result<HookOutput, String> {
            match mode(&input).as_str() {
                "ok" => outcome("ok", Ok("fine".into())),
                "error" => Err("the guest says no: ConfigMap probe-ns/probe has no data.state".into()),
                "panic" => panic!("deliberate panic in misbehave-hook"),
                "loop" => loop {
                    std::hint::black_box(0u64);
                },
                "oom" => {
                    let mut hoard: Vec<Vec<u8>> = Vec::new();
                    loop {
                        hoard.push(vec![1u8; 1 << 20]);
                        std::hint::black_box(&hoard);
                    }
                }
                "read-file" => outcome("read-file", std::fs::read_to_string("/etc/passwd").map_err(|e| e.to_string())),
                "list-dir" => outcome("list-dir", std::fs::read_dir("/").map(|d| format!("{} entries", d.count())).map_err(|e| e.to_string())),
                "env" => outcome("env", Ok(format!("{:?} {:?}", std::env::vars().collect::<Vec<_>>(), std::env::args().collect::<Vec<_>>()))),
                "network" => outcome(
                    "network",
                    std::net::TcpStream::connect("127.0.0.1:1").map(|_| "connected".to_owned()).map_err(|e| e.to_string()),
                ),
                "forbidden-get" => outcome("forbidden-get", kubernetes::get(&secret()).map_err(|e| match e {
                    KubeError::Forbidden(m) => format!("forbidden: {m}"),
                    other => format!("{other:?}"),
                })),
                "granted-get" => outcome(
                    "granted-get",
                    kubernetes::get(&ObjectRef { api_version: "v1".into(), kind: "ConfigMap".into(), namespace: Some("probe-ns".into()), name: "probe".into() })
                        .map_err(|e| format!("{e:?}")),
                ),
                "bad-values-op" => Ok(HookOutput {
                    values_patch: vec![ValuesOp { op: ValuesOpKind::Add, path: "/internal/x".into(), value: Some("{not json".into()) }],
                    config_values_patch: vec![],
                    metrics: vec![],
                }),
                other => Err(format!("unknown mode {other}")),
            }
        }
    }

    export!(Misbehave);
}
