//! A hook guest that misbehaves on request (`misbehave.mode` in the config values), so the
//! sandbox tests can prove the host contains it. It reports what each attempt got through
//! its values patch (`internal.probe`), so the test can read it.
//!
//! Every mode goes through the SDK except `bad-values-op`: the SDK can only send valid
//! JSON, so that one mode answers with the SDK's generated WIT types directly.

use deckhouse_hooks_sdk::prelude::*;

/// The hostile hook.
pub struct Misbehave;

fn outcome(input: &mut HookInput, what: &str, result: Result<String, String>) -> Result<(), Error> {
    let result = match result {
        Ok(v) => json!({"Ok": v}),
        Err(e) => json!({"Err": e}),
    };
    input
        .values
        .set("internal.probe", json!({"what": what, "result": result}))?;
    Ok(())
}

fn mode(config_values: &Value) -> String {
    let mode = config_values
        .pointer("/misbehave/mode")
        .and_then(Value::as_str);
    mode.unwrap_or("ok").to_owned()
}

impl Hook for Misbehave {
    const VALUES_KEY: &'static str = "probe";

    fn config() -> HookConfig {
        HookConfig::new().before_helm(1).kubernetes(
            KubeBinding::new("state", "v1", "ConfigMap")
                .names(["probe"])
                .namespaces(["probe-ns"])
                .execute_hook_on_synchronization(true)
                .keep_full_objects_in_memory(true),
        )
    }

    fn run(input: &mut HookInput) -> Result<(), Error> {
        let secret = ObjectRef::namespaced("v1", "Secret", "kube-system", "admin-token");
        let probe = ObjectRef::namespaced("v1", "ConfigMap", "probe-ns", "probe");
        match mode(input.config_values.all()).as_str() {
            "ok" => outcome(input, "ok", Ok("fine".into())),
            "error" => Err(Error::msg(
                "the guest says no: ConfigMap probe-ns/probe has no data.state",
            )),
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
            "read-file" => {
                let read = std::fs::read_to_string("/etc/passwd").map_err(|e| e.to_string());
                outcome(input, "read-file", read)
            }
            "list-dir" => {
                let listed = std::fs::read_dir("/").map(|d| format!("{} entries", d.count()));
                outcome(input, "list-dir", listed.map_err(|e| e.to_string()))
            }
            "env" => {
                let seen = format!(
                    "{:?} {:?}",
                    std::env::vars().collect::<Vec<_>>(),
                    std::env::args().collect::<Vec<_>>()
                );
                outcome(input, "env", Ok(seen))
            }
            "network" => {
                let dialed =
                    std::net::TcpStream::connect("127.0.0.1:1").map(|_| "connected".to_owned());
                outcome(input, "network", dialed.map_err(|e| e.to_string()))
            }
            "forbidden-get" => {
                let got = input
                    .kube
                    .get::<Value>(&secret)
                    .map(|o| o.to_string())
                    .map_err(|e| match e {
                        KubeError::Forbidden(m) => format!("forbidden: {m}"),
                        other => format!("{other:?}"),
                    });
                outcome(input, "forbidden-get", got)
            }
            "granted-get" => {
                let got = input.kube.get::<Value>(&probe).map(|o| o.to_string());
                outcome(input, "granted-get", got.map_err(|e| format!("{e:?}")))
            }
            // Outputs Deckhouse would reject: the host must fail the run, naming them.
            "empty-merge-patch" => {
                let _ = input.kube.merge_patch(&probe, &json!({}), &PatchOptions::default());
                outcome(input, "empty-merge-patch", Ok("queued".into()))
            }
            "remove-first-json-patch" => {
                let ops = json!([{"op": "remove", "path": "/data/state"}]);
                let _ = input.kube.json_patch(&probe, &ops, &PatchOptions::default());
                outcome(input, "remove-first-json-patch", Ok("queued".into()))
            }
            "bad-metric" => {
                input.metrics.set("1-not-prometheus", 1.0, &[]);
                Ok(())
            }
            // Every output kind at once, all valid.
            "all-outputs" => {
                let ignore_missing = PatchOptions { ignore_missing_object: true, ..PatchOptions::default() };
                input.kube.merge_patch(&probe, &json!({"data": {"state": "y"}}), &ignore_missing)?;
                input.kube.delete_non_cascading(&probe)?;
                input.values.set("internal.x", 1)?;
                input.config_values.set("enabled", true)?;
                input.metrics.group("probe").observe("probe_seconds", 0.5, &[("phase", "run")], &[0.1, 1.0]);
                Ok(())
            }
            other => Err(Error::msg(format!("unknown mode {other}"))),
        }
    }
}

/// The SDK's glue, plus the one mode the SDK cannot express.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // the generated export glue is unsafe by nature
mod component {
    use deckhouse_hooks_sdk::wasm::HookGlue;
    use deckhouse_hooks_sdk::wasm::hook::exports::deckhouse::hooks::hook as wit;

    struct Raw;

    impl wit::Guest for Raw {
        fn config() -> wit::HookConfig {
            <HookGlue<super::Misbehave> as wit::Guest>::config()
        }

        fn run(input: wit::HookInput) -> Result<wit::HookOutput, String> {
            let config: serde_json::Value =
                serde_json::from_str(&input.config_values).unwrap_or_default();
            if super::mode(&config) != "bad-values-op" {
                return <HookGlue<super::Misbehave> as wit::Guest>::run(input);
            }
            let op = wit::ValuesOp {
                op: wit::ValuesOpKind::Add,
                path: "/internal/x".into(),
                value: Some("{not json".into()),
            };
            Ok(wit::HookOutput {
                values_patch: vec![op],
                config_values_patch: vec![],
                metrics: vec![],
            })
        }
    }

    deckhouse_hooks_sdk::wasm::hook::export_hook_world!(Raw with_types_in deckhouse_hooks_sdk::wasm::hook);
}
