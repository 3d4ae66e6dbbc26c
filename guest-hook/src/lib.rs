//! The seed's `control-plane-migration-state-sync` hook: [`guest_hook_logic::StateSync`]
//! over the five states of the seed design. Built for `wasm32-wasip2` this crate is the
//! guest component (`guest_hook.wasm`); natively it is a library for tests and the native
//! benchmark.

pub use guest_hook_logic as logic;
use guest_hook_logic::{StateSync, StateTable, Table};

/// The seed's states, in migration order.
pub const SEED_STATES: StateTable = StateTable::new(&[
    "not_started",
    "stage1_started",
    "stage1_completed",
    "stage2_started",
    "all_completed",
]);

/// The seed table as a type.
pub struct Seed;

impl Table for Seed {
    const TABLE: StateTable = SEED_STATES;
}

/// The hook this guest exports.
pub type SeedHook = StateSync<Seed>;

deckhouse_hooks_sdk::export_hook!(SeedHook);

#[cfg(test)]
mod cases;
#[cfg(test)]
mod grants_tests;
#[cfg(test)]
mod tests;
