//! The WIT bindings, generated once per world, and the adapters between them and the SDK's
//! plain types. The export macros (`export_hook!`, `export_render!`, `export_job!`) name
//! these adapters; nothing here is exported unless a final guest invokes one of them.

mod convert;
mod imports;

use crate::{Hook, Job, Render};
use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;

pub use imports::Imports;

/// The runtime the generated code needs, reachable from a guest's export macro expansion.
pub use wit_bindgen::rt;

/// World `hook-guest`: the `types`, `kubernetes` and `log` imports, the `hook` export.
pub mod hook {
    wit_bindgen::generate!({
        path: "../wit",
        world: "hook-guest",
        pub_export_macro: true,
        export_macro_name: "export_hook_world",
        default_bindings_module: "deckhouse_hooks_sdk::wasm::hook",
        runtime_path: "deckhouse_hooks_sdk::wasm::rt",
    });
}

/// World `job-guest`: the same imports (reused from [`hook`]), the `job` export.
pub mod job {
    wit_bindgen::generate!({
        path: "../wit",
        world: "job-guest",
        pub_export_macro: true,
        export_macro_name: "export_job_world",
        default_bindings_module: "deckhouse_hooks_sdk::wasm::job",
        runtime_path: "deckhouse_hooks_sdk::wasm::rt",
        with: {
            "deckhouse:hooks/types@0.2.0": crate::wasm::hook::deckhouse::hooks::types,
            "deckhouse:hooks/kubernetes@0.2.0": crate::wasm::hook::deckhouse::hooks::kubernetes,
            "deckhouse:hooks/log@0.2.0": crate::wasm::hook::deckhouse::hooks::log,
        },
    });
}

/// World `render-guest`: no imports, the `render` export.
pub mod render {
    wit_bindgen::generate!({
        path: "../wit",
        world: "render-guest",
        pub_export_macro: true,
        export_macro_name: "export_render_world",
        default_bindings_module: "deckhouse_hooks_sdk::wasm::render",
        runtime_path: "deckhouse_hooks_sdk::wasm::rt",
    });
}

use hook::exports::deckhouse::hooks::hook as wit_hook;
use job::exports::deckhouse::hooks::job as wit_job;
use render::exports::deckhouse::hooks::render as wit_render;

/// Hook `H` as the generated `hook` guest.
pub struct HookGlue<H>(PhantomData<H>);

impl<H: Hook> wit_hook::Guest for HookGlue<H> {
    fn config() -> wit_hook::HookConfig {
        convert::hook_config(&H::config())
    }

    fn run(input: wit_hook::HookInput) -> Result<wit_hook::HookOutput, String> {
        let raw = crate::RawInput {
            binding_context: input.binding_context,
            values: input.values,
            config_values: input.config_values,
        };
        let output = crate::hook::run::<H>(&Imports, &raw)?;
        Ok(convert::hook_output(output))
    }
}

/// Planner `R` as the generated `render` guest.
pub struct RenderGlue<R>(PhantomData<R>);

impl<R: Render> wit_render::Guest for RenderGlue<R> {
    fn describe() -> wit_render::StateMachine {
        let m = R::describe();
        wit_render::StateMachine {
            states: m.states,
            transitions: m
                .transitions
                .into_iter()
                .map(|t| wit_render::Transition {
                    from: t.from,
                    to: t.to,
                    trigger: t.trigger,
                })
                .collect(),
            values_path: m.values_path,
            before_helm: m.before_helm,
        }
    }

    fn plan(input: wit_render::PlanInput) -> Result<Vec<wit_render::Decision>, String> {
        let input = crate::PlanInput {
            new_control_plane: input.new_control_plane,
            state: input.state,
        };
        Ok(R::plan(&input)?
            .into_iter()
            .map(|d| wit_render::Decision {
                component: d.component,
                rendered: d.rendered,
                reason: d.reason,
            })
            .collect())
    }

    fn input_from_values(module_values: String) -> Result<wit_render::PlanInput, String> {
        let values: serde_json::Value = serde_json::from_str(&module_values)
            .map_err(|e| format!("module values are not JSON: {e}"))?;
        let input = R::input_from_values(&values)?;
        Ok(wit_render::PlanInput {
            new_control_plane: input.new_control_plane,
            state: input.state,
        })
    }
}

/// Job `J` as the generated `job` guest.
pub struct JobGlue<J>(PhantomData<J>);

thread_local! {
    /// The instance's one job, made on the first call and kept until the host drops the
    /// instance (a component exports one job, so one slot serves any `J`).
    static JOB: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// Runs `f` on this instance's `J`.
fn with_job<J: Job, T>(f: impl FnOnce(&mut J) -> T) -> T {
    JOB.with(|slot| {
        let mut slot = slot.borrow_mut();
        let job = match slot.as_mut().and_then(|b| b.downcast_mut::<J>()) {
            Some(job) => job,
            None => slot
                .insert(Box::new(J::default()))
                .downcast_mut::<J>()
                .expect("just stored a J"),
        };
        f(job)
    })
}

impl<J: Job> wit_job::Guest for JobGlue<J> {
    fn step(settings: String) -> Result<wit_job::StepResult, String> {
        Ok(
            match with_job(|j: &mut J| crate::job::step(j, &Imports, &settings))? {
                crate::Step::Done(text) => wit_job::StepResult::Done(text),
                crate::Step::Wait { ms, why } => wit_job::StepResult::Wait((ms, why)),
            },
        )
    }

    fn rehearse(settings: String) -> Result<wit_job::Report, String> {
        let r = with_job(|j: &mut J| crate::job::rehearse(j, &Imports, &settings))?;
        Ok(report(r))
    }

    fn status(settings: String) -> Result<wit_job::Report, String> {
        let r = with_job(|j: &mut J| crate::job::status(j, &Imports, &settings))?;
        Ok(report(r))
    }
}

fn report(r: crate::Report) -> wit_job::Report {
    wit_job::Report {
        markdown: r.markdown,
        json: r.json.to_string(),
        ok: r.ok,
    }
}
