//! `wasm-hooks`: the Deckhouse hooks host. All logic lives in the library.

use std::process::ExitCode;
use wasm_hooks::{cli::Cli, commands, logging};

fn main() -> ExitCode {
    let cli = Cli::from_process();
    match commands::run(&cli) {
        Ok(code) => code,
        Err(e) => {
            logging::error(&e.to_string(), &[]);
            ExitCode::from(1)
        }
    }
}
