//! A render guest that misbehaves on request (`misbehave.mode` in the module's values), so
//! the sandbox tests can prove the host bounds what a render guest returns. Native builds
//! are empty.

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // the generated WIT glue is unsafe by nature
mod component {
    wit_bindgen::generate!({ path: "../../../wit", world: "render-guest" });

    use exports::deckhouse::hooks::render::{Decision, Guest, PlanInput, StateMachine};

    struct Misbehave;

    /// About 2 MiB of text: twice the host's default result budget.
    fn huge() -> String {
        "h".repeat(2 << 20)
    }

    impl Guest for Misbehave {
        fn describe() -> StateMachine {
            StateMachine {
                states: vec!["ok".into(), "huge-plan".into()],
                transitions: vec![],
                values_path: "/internal/renderPlan".into(),
                before_helm: 5,
            }
        }

        fn input_from_values(module_values: String) -> Result<PlanInput, String> {
            let values: serde_json::Value =
                serde_json::from_str(&module_values).map_err(|e| e.to_string())?;
            let mode = values
                .pointer("/misbehave/mode")
                .and_then(|m| m.as_str())
                .unwrap_or("ok");
            Ok(PlanInput {
                new_control_plane: false,
                state: if mode == "huge-input" {
                    huge()
                } else {
                    mode.to_owned()
                },
            })
        }

        fn plan(input: PlanInput) -> Result<Vec<Decision>, String> {
            match input.state.as_str() {
                "ok" => Ok(vec![Decision {
                    component: "probe".into(),
                    rendered: true,
                    reason: "fine".into(),
                }]),
                // 20,000 decisions of about 100 bytes each.
                "huge-plan" => Ok((0..20_000)
                    .map(|i| Decision {
                        component: format!("component-{i}"),
                        rendered: true,
                        reason: "r".repeat(100),
                    })
                    .collect()),
                other => Err(format!("unknown state {other}")),
            }
        }
    }

    export!(Misbehave);
}
