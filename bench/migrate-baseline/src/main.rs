//! The ceiling for `cargo xtask bench-migrate`: creates the objects Pass 1 of the
//! migration creates with a plain kube-rs loop (`DynamicObject` + `ApiResource`) and
//! nothing else: no Wasm, no grants, no retries, no reads of LINSTOR's data. Either one
//! request at a time, or with up to N in flight as the Job's host does.
//!
//! `migrate-baseline --kubeconfig PATH --objects FILE [--concurrency N]` reads FILE (a
//! JSON array of objects), resolves each kind once by discovery (untimed), then times
//! the creates and prints `{"created": N, "seconds": S, "concurrency": N}` on stdout.

use anyhow::{Context, Result, bail};
use kube::api::{Api, DynamicObject, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use kube::{Client, Config};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Where a kind's objects are created.
type Kinds = HashMap<(String, String), (ApiResource, ApiCapabilities)>;

fn main() -> ExitCode {
    match run() {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{}", json!({"level": "error", "msg": format!("{error:#}")}));
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<Value> {
    let (kubeconfig, objects, concurrency) = args()?;
    let objects = read_objects(&objects)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(async {
        let client = client(&kubeconfig).await?;
        let kinds = discover(&client, &objects).await?;
        let start = Instant::now();
        let created = objects.len();
        create_all(&client, &kinds, objects, concurrency).await?;
        let seconds = start.elapsed().as_secs_f64();
        Ok(json!({"created": created, "seconds": seconds, "concurrency": concurrency}))
    })
}

const USAGE: &str = "usage: migrate-baseline --kubeconfig PATH --objects FILE (a JSON array of objects) [--concurrency N (default 1)]";

/// `--kubeconfig PATH --objects FILE`, both required; `--concurrency N`, at least 1.
fn args() -> Result<(PathBuf, PathBuf, usize)> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        let at = args.iter().position(|a| a == flag);
        at.and_then(|i| args.get(i + 1)).cloned()
    };
    let concurrency = match value("--concurrency") {
        None => 1,
        Some(n) => match n.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => bail!("--concurrency expects a positive number, got {n:?}; {USAGE}"),
        },
    };
    match (value("--kubeconfig"), value("--objects")) {
        (Some(kubeconfig), Some(objects)) => Ok((kubeconfig.into(), objects.into(), concurrency)),
        _ => bail!("{USAGE}"),
    }
}

fn read_objects(path: &PathBuf) -> Result<Vec<DynamicObject>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the objects file {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a JSON array of Kubernetes objects (apiVersion, kind, metadata.name)",
            path.display()
        )
    })
}

async fn client(kubeconfig: &PathBuf) -> Result<Client> {
    let file = Kubeconfig::read_from(kubeconfig)
        .with_context(|| format!("cannot read kubeconfig {}", kubeconfig.display()))?;
    let config = Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
        .await
        .with_context(|| {
            format!(
                "kubeconfig {} has no usable current context",
                kubeconfig.display()
            )
        })?;
    Client::try_from(config).context("cannot build a kube-rs client from the kubeconfig")
}

/// Each kind's resource, found once before the timed loop.
async fn discover(client: &Client, objects: &[DynamicObject]) -> Result<Kinds> {
    let mut kinds = Kinds::new();
    for object in objects {
        let types = object
            .types
            .as_ref()
            .with_context(|| format!("object {:?} has no apiVersion/kind", object.metadata.name))?;
        let key = (types.api_version.clone(), types.kind.clone());
        if kinds.contains_key(&key) {
            continue;
        }
        let (group, version) = types
            .api_version
            .split_once('/')
            .unwrap_or(("", &types.api_version));
        let gvk = GroupVersionKind::gvk(group, version, &types.kind);
        let found = kube::discovery::pinned_kind(client, &gvk)
            .await
            .with_context(|| {
                format!(
                    "the API server does not serve {} {}",
                    types.kind, types.api_version
                )
            })?;
        kinds.insert(key, found);
    }
    Ok(kinds)
}

/// The timed part: one create per object, in order, at most `concurrency` in flight
/// (1: each awaited before the next).
async fn create_all(
    client: &Client,
    kinds: &Kinds,
    objects: Vec<DynamicObject>,
    concurrency: usize,
) -> Result<()> {
    let params = PostParams {
        field_manager: Some("migrate-baseline".into()),
        ..PostParams::default()
    };
    let mut in_flight = tokio::task::JoinSet::new();
    for object in objects {
        let types = object
            .types
            .as_ref()
            .context("object without apiVersion/kind")?;
        let (resource, caps) = &kinds[&(types.api_version.clone(), types.kind.clone())];
        let api: Api<DynamicObject> = match (&caps.scope, object.metadata.namespace.as_deref()) {
            (Scope::Namespaced, Some(namespace)) => {
                Api::namespaced_with(client.clone(), namespace, resource)
            }
            (Scope::Namespaced, None) => bail!(
                "{} {:?} is namespaced but has no namespace",
                types.kind,
                object.metadata.name
            ),
            (Scope::Cluster, _) => Api::all_with(client.clone(), resource),
        };
        let what = format!(
            "creating {} {}",
            types.kind,
            object.metadata.name.as_deref().unwrap_or("?")
        );
        let params = params.clone();
        in_flight.spawn(async move { api.create(&params, &object).await.context(what).map(drop) });
        if in_flight.len() >= concurrency {
            joined(in_flight.join_next().await)?;
        }
    }
    while let Some(done) = in_flight.join_next().await {
        joined(Some(done))?;
    }
    Ok(())
}

/// The outcome of one finished create.
fn joined(done: Option<Result<Result<()>, tokio::task::JoinError>>) -> Result<()> {
    match done {
        Some(Ok(result)) => result,
        Some(Err(e)) => bail!("a create task failed: {e}"),
        None => Ok(()),
    }
}
