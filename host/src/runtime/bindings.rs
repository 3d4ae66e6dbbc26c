//! Rust bindings of `wit/hooks.wit`, one `bindgen!` per world. The job world reuses the
//! hook world's interfaces through `with:`, so both share one `kubernetes` and one `log`
//! implementation.

/// `hook-guest`: a Deckhouse hook.
pub mod hook {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "hook-guest",
    });
}

/// `render-guest`: a pure planner.
pub mod render {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "render-guest",
    });
}

/// `job-guest`: the migration Job.
pub mod job {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "job-guest",
        with: {
            "deckhouse:hooks/types": super::hook::deckhouse::hooks::types,
            "deckhouse:hooks/kubernetes": super::hook::deckhouse::hooks::kubernetes,
            "deckhouse:hooks/log": super::hook::deckhouse::hooks::log,
        },
    });
}

pub use hook::deckhouse::hooks::types::{KubeError, ListQuery, LogLevel, ObjectRef, PatchKind};
pub use hook::exports::deckhouse::hooks::hook::{
    HookConfig, HookInput, HookOutput, KubeBinding, Metric, MetricAction, ScheduleBinding, ValuesOp, ValuesOpKind,
    WatchEvent,
};
pub use render::exports::deckhouse::hooks::render::{Decision, PlanInput, StateMachine, Transition};
pub use job::exports::deckhouse::hooks::job::StepResult;
