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

pub use hook::deckhouse::hooks::types::{
    CreateMode, DeleteMode, KubeError, ListPage, ListQuery, LogLevel, ObjectRef, PatchKind,
    PatchOptions,
};
pub use hook::exports::deckhouse::hooks::hook as hook_api;
pub use job::exports::deckhouse::hooks::job::{Report, StepResult};
pub use render::exports::deckhouse::hooks::render::{
    Decision, PlanInput, StateMachine, Transition,
};
