//! The seed's `control-plane-migration-state-sync` hook: the shared logic of
//! [`guest_hook_logic`] over the five states of the seed design. Built for
//! `wasm32-wasip2` this crate is the guest component (`guest_hook.wasm`); natively it is
//! a library for tests and the native benchmark.

pub use guest_hook_logic as logic;
use guest_hook_logic::{HookEnv, HookOutput, StateTable, Table};
use serde_json::Value;

/// The seed's states, in migration order.
pub const SEED_STATES: StateTable = StateTable::new(&[
    "not_started",
    "stage1_started",
    "stage1_completed",
    "stage2_started",
    "all_completed",
]);

/// The seed table as a type, for the generic Wasm component.
pub struct Seed;

impl Table for Seed {
    const TABLE: StateTable = SEED_STATES;
}

/// One run over the seed table.
pub fn run(env: &mut impl HookEnv, values: &Value) -> Result<HookOutput, String> {
    guest_hook_logic::run(&SEED_STATES, env, values)
}

#[cfg(target_arch = "wasm32")]
mod component {
    type SeedHook = guest_hook_logic::component::StateSyncHook<super::Seed>;
    guest_hook_logic::component::bindings::export_state_sync_hook!(SeedHook);
}

#[cfg(test)]
mod grants_tests;
#[cfg(test)]
mod tests;
