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
///
/// Winch compiles for the baseline of the host's architecture (x86-64: SSE2) instead of
/// the CPU it runs on. Its code is scalar either way, and this buys two things a hook
/// run needs: wasmtime probes no CPU features (each `cpuid` is a VM exit; the probe was
/// about 3% of a warm run), and an entry precompiled at image build is valid on every
/// node, whatever CPU the build machine had, where a host-tuned entry would be compiled
/// again on any node whose CPU differs. Cranelift (the Job) keeps tuning to the host.
pub fn config(compiler: Compiler) -> Result<Config, String> {
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
    if compiler == Compiler::Winch {
        let host = target_lexicon::Triple::host().to_string();
        config
            .target(&host)
            .map_err(|e| format!("cannot target {host}: {e:#}"))?;
    }
    Ok(config)
}

/// Builds an engine for one compiler and starts its epoch ticker.
pub fn new_engine(compiler: Compiler) -> Result<Engine, String> {
    let engine = Engine::new(&config(compiler)?)
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

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{CodeSection, Function, FunctionSection, Instruction, Module, TypeSection};

    /// A core module with one `() -> i32` function of `body`.
    fn module(body: &[Instruction]) -> Vec<u8> {
        let mut types = TypeSection::new();
        types.ty().function([], [wasm_encoder::ValType::I32]);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        let mut function = Function::new([]);
        for instruction in body {
            function.instruction(instruction);
        }
        function.instruction(&Instruction::End);
        let mut code = CodeSection::new();
        code.function(&function);
        let mut module = Module::new();
        module.section(&types).section(&funcs).section(&code);
        module.finish()
    }

    #[test]
    fn winch_compiles_for_the_architecture_baseline_and_cranelift_for_this_cpu() {
        let winch = Engine::new(&config(Compiler::Winch).unwrap()).unwrap();
        let cranelift = Engine::new(&config(Compiler::Cranelift).unwrap()).unwrap();
        let scalar = module(&[Instruction::I32Const(7), Instruction::I32Popcnt]);
        let simd = module(&[Instruction::V128Const(7), Instruction::I32x4ExtractLane(0)]);
        wasmtime::Module::new(&winch, &scalar).unwrap();
        // Winch's SIMD needs AVX, which the baseline does not promise: a SIMD guest is
        // refused by Winch (the README says to give it `compiler: cranelift`), and
        // Cranelift, tuned to this CPU, compiles it.
        let refused = wasmtime::Module::new(&winch, &simd).unwrap_err();
        assert!(format!("{refused:#}").contains("AVX"), "{refused:#}");
        wasmtime::Module::new(&cranelift, &simd).unwrap();
    }
}
