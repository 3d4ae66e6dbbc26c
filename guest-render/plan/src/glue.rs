//! The WIT glue every render guest needs, written once.

/// Exports a [`StateTable`](crate::StateTable) through the WIT `render` interface.
///
/// Call it in the guest's wasm32-only module, right after
/// `wit_bindgen::generate!({ path: "...", world: "render-guest" })`: it names the `exports`
/// module and the `export!` macro that call generates. It lives here rather than in each guest
/// so that every render guest converts the table the same way.
#[macro_export]
macro_rules! export_render_guest {
    ($table:path) => {
        struct RenderGuest;

        impl exports::deckhouse::hooks::render::Guest for RenderGuest {
            fn describe() -> exports::deckhouse::hooks::render::StateMachine {
                use exports::deckhouse::hooks::render as wit;
                let table = &$table;
                wit::StateMachine {
                    states: table.state_names().into_iter().map(str::to_owned).collect(),
                    transitions: table
                        .transitions
                        .iter()
                        .map(|t| wit::Transition {
                            from: t.from.into(),
                            to: t.to.into(),
                            trigger: t.trigger.into(),
                        })
                        .collect(),
                    values_path: table.values_path.into(),
                    before_helm: table.before_helm,
                }
            }

            fn plan(
                input: exports::deckhouse::hooks::render::PlanInput,
            ) -> Result<Vec<exports::deckhouse::hooks::render::Decision>, String> {
                use exports::deckhouse::hooks::render as wit;
                let input = $crate::PlanInput {
                    new_control_plane: input.new_control_plane,
                    state: input.state,
                };
                let plan = $table.plan(&input).map_err(|e| e.to_string())?;
                Ok(plan
                    .into_iter()
                    .map(|d| wit::Decision {
                        component: d.component.key().into(),
                        rendered: d.rendered,
                        reason: d.reason,
                    })
                    .collect())
            }

            fn input_from_values(
                module_values: String,
            ) -> Result<exports::deckhouse::hooks::render::PlanInput, String> {
                let input = $crate::input_from_values(&module_values).map_err(|e| e.to_string())?;
                Ok(exports::deckhouse::hooks::render::PlanInput {
                    new_control_plane: input.new_control_plane,
                    state: input.state,
                })
            }
        }

        export!(RenderGuest);
    };
}
