//! One wasmtime engine per compiler in use, with epoch interruption driven by a ticker thread so
//! a call's wall-clock deadline and CPU budget are checked on every tick (the store's epoch
//! callback, `runtime::guest`) without fuel's per-instruction cost.

use crate::manifest::Compiler;
use std::time::Duration;
use wasmtime::{Config, Engine, OptLevel, Strategy};

/// How often the epoch advances: how often a running call's deadline and CPU budget are checked.
pub const TICK: Duration = Duration::from_millis(10);

/// The engine configuration; the cache key includes its compatibility hash, so any change
/// here invalidates precompiled components instead of loading them wrongly.
pub fn config(compiler: Compiler) -> Config {
    let mut config = Config::new();
    config.strategy(match compiler {
        Compiler::Winch => Strategy::Winch,
        Compiler::Cranelift => Strategy::Cranelift,
    });
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .cranelift_opt_level(OptLevel::Speed)
        .max_wasm_stack(2 << 20)
        .parallel_compilation(true)
        // Only for outside unwinders (a debugger's or the backtrace crate's walk through
        // guest frames); traps, guest backtraces and panics in host functions do not use
        // it. Registering it with libgcc cost a few percent of every warm hook run.
        .native_unwind_info(false);
    config
}

/// Builds an engine for one compiler and starts its epoch ticker.
pub fn new_engine(compiler: Compiler) -> Result<Engine, String> {
    let engine = Engine::new(&config(compiler))
        .map_err(|e| format!("cannot create the wasmtime engine: {e:#}"))?;
    let ticking = engine.clone();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            // Catch up by wall-clock time: on a loaded machine a 10 ms sleep can take much
            // longer, and counting wake-ups would stretch every deadline with it.
            let started = std::time::Instant::now();
            let mut ticks: u128 = 0;
            loop {
                std::thread::sleep(TICK);
                let due = started.elapsed().as_nanos() / TICK.as_nanos();
                while ticks < due {
                    ticking.increment_epoch();
                    ticks += 1;
                }
            }
        })
        .map_err(|e| format!("cannot start the epoch ticker: {e}"))?;
    Ok(engine)
}
