//! `precompile`: compiles every guest into the cache, so hook runs in the image never
//! compile (run it where the hooks folder is still writable, at image build time).

use crate::cli::Cli;
use crate::error::Result;
use crate::logging;
use std::process::ExitCode;

pub fn run(cli: &Cli) -> Result<ExitCode> {
    let runtime = super::runtime(cli)?;
    for guest in &runtime.manifest.guests {
        let (_, origin) = runtime.component(guest)?;
        logging::info(
            "guest precompiled",
            &[
                ("guest", guest.name.clone().into()),
                ("origin", format!("{origin:?}").into()),
            ],
        );
    }
    Ok(ExitCode::SUCCESS)
}
