//! Test guest: the same state-sync hook as `guest-hook`, over the nine states the real
//! module has grown to. It proves that new states ship in a guest, with the host unchanged.

use guest_hook_logic::{StateSync, StateTable, Table};

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

/// The nine-state table as a type.
pub struct Nine;

impl Table for Nine {
    const TABLE: StateTable = NINE_STATES;
}

/// The hook this guest exports.
pub type NineStateHook = StateSync<Nine>;

deckhouse_hooks_sdk::export_hook!(NineStateHook);

#[cfg(test)]
mod tests;
