//! Links the WASI a guest imports. Every guest gets the same closed WASI context
//! (`runtime::state`); what differs is how much of WASI is put into its linker.
//!
//! Linking all of WASI 0.2 registers about 150 host functions and took about 0.1 ms of a
//! 2.2 ms warm hook run, while a Rust guest imports only the CLI and I/O interfaces (its
//! standard library's stdio, environment and exit) and a render guest imports none. So a
//! guest whose WASI imports all come from [`LIGHT`] gets just those interfaces, each
//! linked by wasmtime-wasi's own bindings exactly as its `add_to_linker_sync` links
//! them. A guest importing anything else (the filesystem, sockets: CPython does) gets
//! all of WASI through `add_to_linker_sync` itself, so nothing is ever linked
//! differently from wasmtime-wasi, only sometimes less of it.

use wasmtime::Engine;
use wasmtime::component::{Component, HasData, Linker, ResourceTable};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::cli::{WasiCli, WasiCliView as _};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView as _};
use wasmtime_wasi::p2::bindings::{cli, clocks, random, sync};
use wasmtime_wasi::random::{WasiRandom, WasiRandomView as _};

/// The WASI interfaces linked one by one (`package/interface`, any 0.2 version).
pub const LIGHT: [&str; 18] = [
    "io/error",
    "io/poll",
    "io/streams",
    "cli/environment",
    "cli/exit",
    "cli/stdin",
    "cli/stdout",
    "cli/stderr",
    "cli/terminal-input",
    "cli/terminal-output",
    "cli/terminal-stdin",
    "cli/terminal-stdout",
    "cli/terminal-stderr",
    "clocks/monotonic-clock",
    "clocks/wall-clock",
    "random/random",
    "random/insecure",
    "random/insecure-seed",
];

/// The I/O interfaces' host state: the store's resource table (wasmtime-wasi's own
/// marker for it is private).
struct WasiIo;

impl HasData for WasiIo {
    type Data<'a> = &'a mut ResourceTable;
}

/// How much of WASI a guest's linker got, for the "guest prepared" debug log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Linked {
    /// The interfaces it imports, all from [`LIGHT`].
    Imported,
    /// All of WASI 0.2 (`add_to_linker_sync`).
    All,
}

/// Links the WASI interfaces `component` imports (see the module docs).
pub fn link<T: WasiView>(
    linker: &mut Linker<T>,
    engine: &Engine,
    component: &Component,
) -> wasmtime::Result<Linked> {
    let imported: Vec<String> = component
        .component_type()
        .imports(engine)
        .filter_map(|(name, _)| wasi_interface(name).map(str::to_owned))
        .collect();
    if !imported.iter().all(|i| LIGHT.contains(&i.as_str())) {
        wasmtime_wasi::p2::add_to_linker_sync(linker)?;
        return Ok(Linked::All);
    }
    for interface in &imported {
        link_light(linker, interface)?;
    }
    Ok(Linked::Imported)
}

/// `package/interface` of a WASI import name (`wasi:io/streams@0.2.6` -> `io/streams`).
pub fn wasi_interface(import: &str) -> Option<&str> {
    let name = import.strip_prefix("wasi:")?;
    Some(name.split_once('@').map_or(name, |(name, _)| name))
}

/// Links one interface of [`LIGHT`], with the binding `add_to_linker_sync` uses for it.
fn link_light<T: WasiView>(l: &mut Linker<T>, interface: &str) -> wasmtime::Result<()> {
    match interface {
        "io/error" => sync::io::error::add_to_linker::<T, WasiIo>(l, |t| t.ctx().table),
        "io/poll" => sync::io::poll::add_to_linker::<T, WasiIo>(l, |t| t.ctx().table),
        "io/streams" => sync::io::streams::add_to_linker::<T, WasiIo>(l, |t| t.ctx().table),
        "cli/environment" => cli::environment::add_to_linker::<T, WasiCli>(l, T::cli),
        "cli/exit" => cli::exit::add_to_linker::<T, WasiCli>(l, T::cli),
        "cli/stdin" => cli::stdin::add_to_linker::<T, WasiCli>(l, T::cli),
        "cli/stdout" => cli::stdout::add_to_linker::<T, WasiCli>(l, T::cli),
        "cli/stderr" => cli::stderr::add_to_linker::<T, WasiCli>(l, T::cli),
        "cli/terminal-input" => cli::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli),
        "cli/terminal-output" => cli::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli),
        "cli/terminal-stdin" => cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli),
        "cli/terminal-stdout" => cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli),
        "cli/terminal-stderr" => cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli),
        "clocks/monotonic-clock" => {
            clocks::monotonic_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)
        }
        "clocks/wall-clock" => clocks::wall_clock::add_to_linker::<T, WasiClocks>(l, T::clocks),
        "random/random" => random::random::add_to_linker::<T, WasiRandom>(l, T::random),
        "random/insecure" => random::insecure::add_to_linker::<T, WasiRandom>(l, T::random),
        "random/insecure-seed" => {
            random::insecure_seed::add_to_linker::<T, WasiRandom>(l, T::random)
        }
        other => Err(wasmtime::format_err!(
            "{other} is not a light WASI interface"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_names_are_read_without_their_version() {
        assert_eq!(wasi_interface("wasi:io/streams@0.2.6"), Some("io/streams"));
        assert_eq!(wasi_interface("wasi:cli/exit"), Some("cli/exit"));
        assert_eq!(wasi_interface("deckhouse:hooks/log@0.2.0"), None);
    }

    #[test]
    fn every_light_interface_links() {
        let engine = Engine::default();
        let mut linker = Linker::<crate::runtime::guest::RenderState>::new(&engine);
        for interface in LIGHT {
            link_light(&mut linker, interface).unwrap_or_else(|e| panic!("{interface}: {e:#}"));
        }
        assert!(link_light(&mut linker, "filesystem/types").is_err());
    }
}
