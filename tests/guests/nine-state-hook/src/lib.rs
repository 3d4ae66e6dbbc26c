//! Test guest: the same state-sync hook as `guest-hook`, over the nine states the real
//! module has grown to. It proves that new states ship in a guest, with the host unchanged.

use guest_hook_logic::{HookEnv, HookOutput, StateTable, Table};
use serde_json::Value;

/// The seed's states plus LINSTOR backup and removal and the switch to automatic
/// configuration, between `stage2_started` and `all_completed`.
pub const NINE_STATES: StateTable = StateTable::new(&[
    "not_started",
    "stage1_started",
    "stage1_completed",
    "stage2_started",
    "stage2_completed",
    "stage3_started",
    "stage3_completed",
    "stage4_started",
    "all_completed",
]);

/// The nine-state table as a type, for the generic Wasm component.
pub struct Nine;

impl Table for Nine {
    const TABLE: StateTable = NINE_STATES;
}

/// One run over the nine-state table.
pub fn run(env: &mut impl HookEnv, values: &Value) -> Result<HookOutput, String> {
    guest_hook_logic::run(&NINE_STATES, env, values)
}

#[cfg(target_arch = "wasm32")]
mod component {
    type NineStateHook = guest_hook_logic::component::StateSyncHook<super::Nine>;
    guest_hook_logic::component::bindings::export_state_sync_hook!(NineStateHook);
}

#[cfg(test)]
mod tests;
