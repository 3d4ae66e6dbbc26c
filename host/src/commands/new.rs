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
    println!("\nnext:");
    println!("  cd {dir} && cargo test   # natively, fixtures included");
    println!(
        "  cargo build --target wasm32-wasip2 --release   # (rustup target add wasm32-wasip2 once)"
    );
    println!(
        "  copy target/wasm32-wasip2/release/{} into the hooks folder, beside grants.yaml",
        done.component
    );
    if let Some(fixtures) = &done.fixtures {
        println!(
            "  wasm-hooks --hooks-dir <hooks folder> test {}",
            fixtures.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
