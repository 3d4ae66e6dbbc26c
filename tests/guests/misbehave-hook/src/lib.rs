//! A hook guest that misbehaves on request (`mode` in the config values), so the
//! sandbox tests can prove the host contains it. Native builds are empty.
//!
//! `config` has no input, so its mode is a marker in the component's data instead
//! ([`CONFIG_MODE`]): a test copies the component and overwrites the marker's bytes in
//! place (same length) to pick another one.

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // the generated WIT glue is unsafe by nature
mod component {
    wit_bindgen::generate!({ path: "../../../wit", world: "hook-guest" });

    use deckhouse::hooks::types::{
        CreateMode, DeleteMode, KubeError, LogLevel, ObjectRef, PatchKind, PatchOptions,
    };
    use deckhouse::hooks::{kubernetes, log};
    use exports::deckhouse::hooks::hook::{
        Guest, HookConfig, HookInput, HookOutput, KubeBinding, Metric, MetricAction,
        NamespaceSelector, ValuesOp, ValuesOpKind,
    };

    struct Misbehave;

    /// The mode of `config`: `ok` unless a test patched these bytes (see the crate doc).
    /// 48 bytes: the prefix, the mode, `_` padding.
    #[used]
    static CONFIG_MODE: [u8; 48] = *b"misbehave-config-mode:ok________________________";

    fn config_mode() -> String {
        // black_box: the bytes are read at run time, never folded from the initializer.
        let bytes: &[u8; 48] = std::hint::black_box(&CONFIG_MODE);
        String::from_utf8_lossy(&bytes[22..])
            .trim_end_matches('_')
            .to_owned()
    }

    fn mode(input: &HookInput) -> String {
        let v: serde_json::Value = serde_json::from_str(&input.config_values).unwrap_or_default();
        v.pointer("/misbehave/mode")
            .and_then(|m| m.as_str())
            .unwrap_or("ok")
            .to_owned()
    }

    fn outcome(what: &str, result: Result<String, String>) -> Result<HookOutput, String> {
        // Report what happened through a values op, so the test can read it.
        let result = match result {
            Ok(v) => serde_json::json!({"Ok": v}),
            Err(e) => serde_json::json!({"Err": e}),
        };
        let value = serde_json::json!({"what": what, "result": result}).to_string();
        Ok(HookOutput {
            values_patch: vec![ValuesOp {
                op: ValuesOpKind::Add,
                path: "/internal/probe".into(),
                value: Some(value),
            }],
            config_values_patch: vec![],
            metrics: vec![],
        })
    }

    fn kube_error(e: KubeError) -> String {
        match e {
            KubeError::LimitExceeded(m) => format!("limit-exceeded: {m}"),
            KubeError::Forbidden(m) => format!("forbidden: {m}"),
            KubeError::Invalid(m) => format!("invalid: {m}"),
            other => format!("{other:?}"),
        }
    }

    fn probe_map() -> String {
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe", "namespace": "probe-ns"}, "data": {"x": "y".repeat(1000)}}).to_string()
    }

    #[allow(unconditional_recursion)]
    fn recurse(depth: u64) -> u64 {
        std::hint::black_box(recurse(std::hint::black_box(depth + 1))) + 1
    }

    fn probe() -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("probe-ns".into()),
            name: "probe".into(),
        }
    }

    fn secret() -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: "Secret".into(),
            namespace: Some("kube-system".into()),
            name: "admin-token".into(),
        }
    }

    impl Guest for Misbehave {
        fn config() -> HookConfig {
            // Printed on every config call: the host must log it once per call, not again
            // after each later call.
            println!("misbehave-hook config called");
            let mode = config_mode();
            let jq_filter = match mode.as_str() {
                // Filters Deckhouse would run outside the sandbox: the host must refuse them.
                "jq-env" => Some("$ENV".to_owned()),
                "jq-range" => Some("[range(1e12)] | length".to_owned()),
                "jq-input" => Some("input".to_owned()),
                "jq-debug" => Some("debug".to_owned()),
                _ => None,
            };
            // A result far past the host's result budget (2 MiB of namespace names).
            let match_names = if mode == "huge-config" {
                vec!["n".repeat(1024); 2048]
            } else {
                vec!["probe-ns".into()]
            };
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
                    namespace: Some(NamespaceSelector {
                        match_names,
                        label_selector: None,
                    }),
                    label_selector: None,
                    field_selector: vec![],
                    execute_hook_on_event: None,
                    execute_hook_on_synchronization: Some(true),
                    wait_for_synchronization: None,
                    keep_full_objects_in_memory: Some(true),
                    jq_filter,
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
                "error" => {
                    Err("the guest says no: ConfigMap probe-ns/probe has no data.state".into())
                }
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
                "read-file" => outcome(
                    "read-file",
                    std::fs::read_to_string("/etc/passwd").map_err(|e| e.to_string()),
                ),
                "list-dir" => outcome(
                    "list-dir",
                    std::fs::read_dir("/")
                        .map(|d| format!("{} entries", d.count()))
                        .map_err(|e| e.to_string()),
                ),
                "env" => outcome(
                    "env",
                    Ok(format!(
                        "{:?} {:?}",
                        std::env::vars().collect::<Vec<_>>(),
                        std::env::args().collect::<Vec<_>>()
                    )),
                ),
                "network" => outcome(
                    "network",
                    std::net::TcpStream::connect("127.0.0.1:1")
                        .map(|_| "connected".to_owned())
                        .map_err(|e| e.to_string()),
                ),
                "forbidden-get" => outcome(
                    "forbidden-get",
                    kubernetes::get(&secret()).map_err(|e| match e {
                        KubeError::Forbidden(m) => format!("forbidden: {m}"),
                        other => format!("{other:?}"),
                    }),
                ),
                "granted-get" => outcome(
                    "granted-get",
                    kubernetes::get(&ObjectRef {
                        api_version: "v1".into(),
                        kind: "ConfigMap".into(),
                        namespace: Some("probe-ns".into()),
                        name: "probe".into(),
                    })
                    .map_err(|e| format!("{e:?}")),
                ),
                "bad-values-op" => Ok(HookOutput {
                    values_patch: vec![ValuesOp {
                        op: ValuesOpKind::Add,
                        path: "/internal/x".into(),
                        value: Some("{not json".into()),
                    }],
                    config_values_patch: vec![],
                    metrics: vec![],
                }),
                // Blocks in a WASI sleep (monotonic-clock subscribe + poll): the deadline
                // must stop it although no guest code runs meanwhile.
                "sleep" => {
                    std::thread::sleep(std::time::Duration::from_secs(30));
                    outcome("sleep", Ok("woke up".into()))
                }
                "stack-overflow" => outcome("stack-overflow", Ok(recurse(0).to_string())),
                "abort" => std::process::abort(),
                "exit" => std::process::exit(3),
                // A string that is not UTF-8 crossing the boundary: the host must say so.
                // SAFETY: deliberately invalid, to test the host's check of lowered strings.
                "invalid-utf8" => {
                    Err(unsafe { String::from_utf8_unchecked(vec![b'n', 0xff, 0xfe]) })
                }
                // 1 MiB on stdout and stderr, then a normal result.
                "stdout-flood" => {
                    let line = "x".repeat(1023);
                    for _ in 0..1024 {
                        println!("{line}");
                        eprintln!("{line}");
                    }
                    outcome("stdout-flood", Ok("printed".into()))
                }
                "deep-values-path" => Ok(HookOutput {
                    values_patch: vec![ValuesOp {
                        op: ValuesOpKind::Add,
                        path: "/a".repeat(10_000),
                        value: Some("1".into()),
                    }],
                    config_values_patch: vec![],
                    metrics: vec![],
                }),
                "many-values-ops" => Ok(HookOutput {
                    values_patch: (0..5000)
                        .map(|i| ValuesOp {
                            op: ValuesOpKind::Add,
                            path: format!("/internal/k{i}"),
                            value: Some("1".into()),
                        })
                        .collect(),
                    config_values_patch: vec![],
                    metrics: vec![],
                }),
                "huge-error" => Err(format!("{}END", "e".repeat(1 << 20))),
                // 4,000 lines of 1 KiB, one with fields that imitate the host's keys.
                "log-flood" => {
                    log::emit(
                        LogLevel::Info,
                        "pretender",
                        &[
                            ("audit".into(), "true".into()),
                            ("hook".into(), "other".into()),
                            ("level".into(), "error".into()),
                        ],
                    );
                    let line = "l".repeat(1024);
                    for _ in 0..4000 {
                        log::emit(LogLevel::Info, &line, &[]);
                    }
                    log::emit(LogLevel::Info, &"m".repeat(100_000), &[]);
                    outcome("log-flood", Ok("logged".into()))
                }
                "values-and-metric" => Ok(HookOutput {
                    values_patch: vec![ValuesOp {
                        op: ValuesOpKind::Add,
                        path: "/internal/x".into(),
                        value: Some("1".into()),
                    }],
                    config_values_patch: vec![],
                    metrics: vec![Metric {
                        name: "d8_probe_runs".into(),
                        group: None,
                        action: MetricAction::Set,
                        value: 1.0,
                        labels: vec![],
                        buckets: vec![],
                    }],
                }),
                "metric-outside-grant" => Ok(HookOutput {
                    values_patch: vec![],
                    config_values_patch: vec![],
                    metrics: vec![Metric {
                        name: "kube_pod_info".into(),
                        group: Some("kube_state".into()),
                        action: MetricAction::Expire,
                        value: 0.0,
                        labels: vec![],
                        buckets: vec![],
                    }],
                }),
                "forbidden-flood" => {
                    let mut last = String::new();
                    for _ in 0..150 {
                        last = kubernetes::get(&secret())
                            .map_err(kube_error)
                            .err()
                            .unwrap_or_default();
                    }
                    outcome("forbidden-flood", Err(last))
                }
                "huge-name" => {
                    let mut target = secret();
                    target.name = "n".repeat(1 << 20);
                    outcome("huge-name", kubernetes::get(&target).map_err(kube_error))
                }
                "many-writes" => {
                    let mut last = Ok(String::new());
                    for _ in 0..2000 {
                        last = kubernetes::create(&probe_map(), CreateMode::OrUpdate)
                            .map_err(kube_error);
                        if last.is_err() {
                            break;
                        }
                    }
                    outcome("many-writes", last)
                }
                // Outputs Deckhouse would reject: the host must fail the run, naming them.
                "empty-merge-patch" => {
                    let _ = kubernetes::patch(
                        &probe(),
                        PatchKind::Merge,
                        "{}",
                        &PatchOptions {
                            subresource: None,
                            ignore_missing_object: false,
                        },
                    );
                    outcome("empty-merge-patch", Ok("queued".into()))
                }
                "remove-first-json-patch" => {
                    let _ = kubernetes::patch(
                        &probe(),
                        PatchKind::Json,
                        r#"[{"op":"remove","path":"/data/state"}]"#,
                        &PatchOptions {
                            subresource: None,
                            ignore_missing_object: false,
                        },
                    );
                    outcome("remove-first-json-patch", Ok("queued".into()))
                }
                "bad-metric" => Ok(HookOutput {
                    values_patch: vec![],
                    config_values_patch: vec![],
                    metrics: vec![Metric {
                        name: "1-not-prometheus".into(),
                        group: None,
                        action: MetricAction::Set,
                        value: 1.0,
                        labels: vec![],
                        buckets: vec![],
                    }],
                }),
                // Every output kind at once, all valid.
                "all-outputs" => {
                    let _ = kubernetes::patch(
                        &probe(),
                        PatchKind::Merge,
                        r#"{"data":{"state":"y"}}"#,
                        &PatchOptions {
                            subresource: None,
                            ignore_missing_object: true,
                        },
                    );
                    let _ = kubernetes::delete(&probe(), DeleteMode::Orphan);
                    Ok(HookOutput {
                        values_patch: vec![ValuesOp {
                            op: ValuesOpKind::Add,
                            path: "/internal/x".into(),
                            value: Some("1".into()),
                        }],
                        config_values_patch: vec![ValuesOp {
                            op: ValuesOpKind::Add,
                            path: "/enabled".into(),
                            value: Some("true".into()),
                        }],
                        metrics: vec![Metric {
                            name: "probe_seconds".into(),
                            group: Some("probe".into()),
                            action: MetricAction::Observe,
                            value: 0.5,
                            labels: vec![("phase".into(), "run".into())],
                            buckets: vec![0.1, 1.0],
                        }],
                    })
                }
                other => Err(format!("unknown mode {other}")),
            }
        }
    }

    export!(Misbehave);
}
