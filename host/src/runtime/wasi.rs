//! Links the WASI a guest imports. Every guest gets the same closed WASI context
//! (`runtime::state`); what differs is how much of WASI is put into its linker.
//!
//! Linking all of WASI 0.2 registers about 150 host functions and took about 0.1 ms of a
//! 2.2 ms warm hook run, while a Rust guest imports only the CLI and I/O interfaces (its
//! standard library's stdio, environment and exit) and a render guest imports none. So a
//! guest whose WASI imports all come from [`light`]'s list gets just those interfaces, each
//! linked by wasmtime-wasi's own bindings exactly as its `add_to_linker_sync` links
//! them. A guest importing anything else (the filesystem, sockets: CPython does) gets
//! all of WASI through `add_to_linker_sync` itself, so nothing is ever linked
//! differently from wasmtime-wasi, only sometimes less of it.

use wasmtime::component::{Component, HasData, Linker, ResourceTable};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::cli::{WasiCli, WasiCliView as _};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView as _};
use wasmtime_wasi::p2::bindings::{cli, clocks, random, sync};
use wasmtime_wasi::random::{WasiRandom, WasiRandomView as _};

/// Links one WASI interface into a guest's linker.
type LinkFn<T> = fn(&mut Linker<T>) -> wasmtime::Result<()>;

/// The WASI interfaces linked one by one (`package/interface`, any 0.2 version), each with
/// the binding `add_to_linker_sync` uses for it.
fn light<T: WasiView>() -> [(&'static str, LinkFn<T>); 18] {
    [
        ("io/error", |l| {
            sync::io::error::add_to_linker::<T, WasiIo>(l, |t| t.ctx().table)
        }),
        ("io/poll", |l| {
            sync::io::poll::add_to_linker::<T, WasiIo>(l, |t| t.ctx().table)
        }),
        ("io/streams", |l| {
            sync::io::streams::add_to_linker::<T, WasiIo>(l, |t| t.ctx().table)
        }),
        ("cli/environment", |l| {
            cli::environment::add_to_linker::<T, WasiCli>(l, T::cli)
        }),
        ("cli/exit", |l| {
            cli::exit::add_to_linker::<T, WasiCli>(l, T::cli)
        }),
        ("cli/stdin", |l| {
            cli::stdin::add_to_linker::<T, WasiCli>(l, T::cli)
        }),
        ("cli/stdout", |l| {
            cli::stdout::add_to_linker::<T, WasiCli>(l, T::cli)
        }),
        ("cli/stderr", |l| {
            cli::stderr::add_to_linker::<T, WasiCli>(l, T::cli)
        }),
        ("cli/terminal-input", |l| {
            cli::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli)
        }),
        ("cli/terminal-output", |l| {
            cli::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli)
        }),
        ("cli/terminal-stdin", |l| {
            cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli)
        }),
        ("cli/terminal-stdout", |l| {
            cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli)
        }),
        ("cli/terminal-stderr", |l| {
            cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli)
        }),
        ("clocks/monotonic-clock", |l| {
            clocks::monotonic_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)
        }),
        ("clocks/wall-clock", |l| {
            clocks::wall_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)
        }),
        ("random/random", |l| {
            random::random::add_to_linker::<T, WasiRandom>(l, T::random)
        }),
        ("random/insecure", |l| {
            random::insecure::add_to_linker::<T, WasiRandom>(l, T::random)
        }),
        ("random/insecure-seed", |l| {
            random::insecure_seed::add_to_linker::<T, WasiRandom>(l, T::random)
        }),
    ]
}

/// The I/O interfaces' host state: the store's resource table (wasmtime-wasi's own
/// marker for it is private).
struct WasiIo;

impl HasData for WasiIo {
    type Data<'a> = &'a mut ResourceTable;
}

/// How much of WASI a guest's linker got, for the "guest prepared" debug log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Linked {
    /// The interfaces it imports, all from [`light`]'s list.
    Imported,
    /// All of WASI 0.2 (`add_to_linker_sync`).
    All,
}

/// Links the WASI interfaces `component` imports (see the module docs).
pub fn link<T: WasiView>(
    linker: &mut Linker<T>,
    component: &Component,
) -> wasmtime::Result<Linked> {
    let light = light::<T>();
    // One linking function per WASI import; None when an import is not in the table.
    let links: Option<Vec<LinkFn<T>>> = component
        .component_type()
        .imports(linker.engine())
        .filter_map(|(import, _)| wasi_interface(import))
        .map(|interface| {
            let entry = light.iter().find(|(name, _)| *name == interface);
            entry.map(|&(_, link)| link)
        })
        .collect();
    let Some(links) = links else {
        wasmtime_wasi::p2::add_to_linker_sync(linker)?;
        return Ok(Linked::All);
    };
    for link in links {
        link(linker)?;
    }
    Ok(Linked::Imported)
}

/// `package/interface` of a WASI import name (`wasi:io/streams@0.2.6` -> `io/streams`).
pub fn wasi_interface(import: &str) -> Option<&str> {
    let name = import.strip_prefix("wasi:")?;
    Some(name.split_once('@').map_or(name, |(name, _)| name))
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
        let engine = wasmtime::Engine::default();
        let mut linker = Linker::<crate::runtime::guest::RenderState>::new(&engine);
        for (interface, link) in light() {
            link(&mut linker).unwrap_or_else(|e| panic!("{interface}: {e:#}"));
        }
    }
}
