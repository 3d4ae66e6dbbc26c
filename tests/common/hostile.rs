//! Hostile components a Rust guest cannot emit: core modules with many linear memories,
//! many tables, or one huge `table.grow`, wrapped as components of the `hook-guest` world
//! so they pass the host's type check and reach its limiter.
//!
//! The core module is encoded with `wasm-encoder` and made a component with
//! `wit-component` against the repository's own `wit/` (the text format would need the
//! whole world's types spelled out by hand). It exports the world's two functions with
//! the canonical ABI's core signatures: `config` returns a pointer to an all-zero
//! `hook-config` (a valid, empty config) unless it traps first, `run` a pointer to an
//! all-zero `result` (`ok` with an empty output).

use wasm_encoder::{
    CodeSection, ExportKind, ExportSection, Function, FunctionSection, HeapType, MemorySection,
    MemoryType, Module, RefType, TableSection, TableType, TypeSection, ValType,
};

/// What the core module does beyond exporting the world.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hostile {
    /// Linear memories besides the exported one, each `extra_memory_pages` big at start.
    pub extra_memories: u32,
    pub extra_memory_pages: u64,
    /// Tables (funcref, empty) the module declares.
    pub tables: u32,
    /// Elements `config` asks one `table.grow` of table 0 for (0: none).
    pub grow_table_in_config: u32,
}

/// The component bytes.
pub fn component(hostile: Hostile) -> Vec<u8> {
    let mut core = core_module(hostile);
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve
        .push_dir(guest_artifacts::root().join("wit"))
        .expect("the repository's wit/ parses");
    let world = resolve
        .select_world(&[package], Some("hook-guest"))
        .expect("wit/ has the hook-guest world");
    wit_component::embed_component_metadata(
        &mut core,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .expect("embedding the world");
    wit_component::ComponentEncoder::default()
        .module(&core)
        .expect("the core module fits the world")
        .validate(true)
        .encode()
        .expect("a valid component")
}

const HOOK: &str = "deckhouse:hooks/hook@0.2.0";

fn core_module(hostile: Hostile) -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([], [ValType::I32]); // config
    types.ty().function([ValType::I32; 6], [ValType::I32]); // run: three strings
    types.ty().function([ValType::I32; 4], [ValType::I32]); // cabi_realloc
    let mut functions = FunctionSection::new();
    for ty in 0..3 {
        functions.function(ty);
    }
    let mut tables = TableSection::new();
    for _ in 0..hostile
        .tables
        .max(u32::from(hostile.grow_table_in_config > 0))
    {
        tables.table(TableType {
            element_type: RefType::FUNCREF,
            table64: false,
            minimum: 0,
            maximum: None,
            shared: false,
        });
    }
    let mut memories = MemorySection::new();
    let memory = |pages| MemoryType {
        minimum: pages,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    };
    memories.memory(memory(1));
    for _ in 0..hostile.extra_memories {
        memories.memory(memory(hostile.extra_memory_pages));
    }
    let mut exports = ExportSection::new();
    exports.export(&format!("{HOOK}#config"), ExportKind::Func, 0);
    exports.export(&format!("{HOOK}#run"), ExportKind::Func, 1);
    exports.export("cabi_realloc", ExportKind::Func, 2);
    exports.export("memory", ExportKind::Memory, 0);
    let mut code = CodeSection::new();
    let mut config = Function::new([]);
    if hostile.grow_table_in_config > 0 {
        config
            .instructions()
            .ref_null(HeapType::FUNC)
            .i32_const(hostile.grow_table_in_config as i32)
            .table_grow(0)
            .drop();
    }
    // An all-zero record at address 1024 of the first memory.
    config.instructions().i32_const(1024).end();
    code.function(&config);
    let mut run = Function::new([]);
    run.instructions().i32_const(1024).end();
    code.function(&run);
    // Every allocation at 2048: the strings of `run`'s input are never read.
    let mut realloc = Function::new([]);
    realloc.instructions().i32_const(2048).end();
    code.function(&realloc);
    let mut module = Module::new();
    module
        .section(&types)
        .section(&functions)
        .section(&tables)
        .section(&memories)
        .section(&exports)
        .section(&code);
    module.finish()
}
