//! `new hook|render|job NAME`: scaffolds a guest for a module author (see
//! [`crate::scaffold`]) and says what to do next.

use crate::cli::{Cli, NewArgs, NewKind};
use crate::error::Result;
use crate::manifest::World;
use crate::scaffold::{self, Request, SdkSource};
use std::process::ExitCode;

pub fn run(cli: &Cli, args: &NewArgs) -> Result<ExitCode> {
    let world = match args.kind {
        NewKind::Hook => World::Hook,
        NewKind::Render => World::Render,
        NewKind::Job => World::Job,
    };
    let request = Request {
        world,
        name: args.name.clone(),
        dir: args.dir.clone(),
        sdk: SdkSource::parse(&args.sdk, args.sdk_rev.clone()),
        hooks_dir: super::hooks_dir(cli)?,
        print_grants: args.print_grants,
        module: args.module.clone(),
        values_key: args.values_key.clone(),
    };
    let done = scaffold::scaffold(&request)?;
    let dir = done.crate_dir.display();
    println!("created {dir}/");
    for file in &done.files {
        println!("  {}", file.display());
    }
    match &done.grants_file {
        Some(path) => println!("added guest {} to {}", args.name, path.display()),
        None => println!(
            "add this entry to the `guests:` list of grants.yaml:\n\n{}",
            done.grants_entry
        ),
    }
    if let Some(workspace) = &done.workspace {
        println!(
            "the crate sits inside the workspace of {}: add \"{dir}\" to its `members`",
            workspace.display()
        );
    }
    let hooks = std::fs::canonicalize(&request.hooks_dir).unwrap_or(request.hooks_dir.clone());
    let target = match &done.workspace {
        Some(workspace) => workspace
            .parent()
            .map(|root| root.join("target"))
            .unwrap_or_default()
            .display()
            .to_string(),
        None => "target".into(),
    };
    println!("\nnext, in {dir}/:");
    let natively = match done.fixtures {
        Some(_) => "the guest natively, its fixtures included",
        None => "the guest natively",
    };
    println!("  cargo test                                       # {natively}");
    println!(
        "  cargo build --target wasm32-wasip2 --release     # rustup target add wasm32-wasip2, once"
    );
    println!(
        "  cp {target}/wasm32-wasip2/release/{} {}/",
        done.component,
        hooks.display()
    );
    if done.fixtures.is_some() {
        println!("  wasm-hooks --hooks-dir {} test fixtures", hooks.display());
    }
    Ok(ExitCode::SUCCESS)
}
