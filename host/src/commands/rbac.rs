//! `rbac GUEST`: the Kubernetes RBAC rules a guest's grants need, printed as YAML or
//! written into a chart template's marked blocks (`--chart`), so the chart cannot drift
//! from `grants.yaml`.

use crate::cli::Cli;
use crate::error::Result;
use crate::manifest::Manifest;
use crate::rbac::{GuestRbac, KindIndex, chart};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(
    cli: &Cli,
    guest: &str,
    crds: &[PathBuf],
    chart_file: Option<&Path>,
) -> Result<ExitCode> {
    let manifest = Manifest::load(&super::hooks_dir(cli)?)?;
    let kinds = KindIndex::load(crds)?;
    let rbac = GuestRbac::generate(&manifest, guest, &kinds)?;
    match chart_file {
        Some(path) => chart::rewrite(path, &rbac)?,
        None => print!("{}", rbac.to_yaml()),
    }
    Ok(ExitCode::SUCCESS)
}
