//! A Deckhouse hook: its configuration and one run (module-sdk's `registry.RegisterFunc`
//! of a `pkg.HookConfig` and a handler over `*pkg.HookInput`).

use crate::config::HookConfig;
use crate::error::Error;
use crate::host::Host;
use crate::kube::Kube;
use crate::log::Logger;
use crate::metrics::Metrics;
use crate::snapshots::Snapshots;
use crate::values::Values;
use hooks_manifest::binding_context::{self, BindingContext};
use hooks_manifest::output::{Metric, ValuesChange};
use serde_json::Value;

/// A hook. Implement it on a unit struct and export it with [`crate::export_hook!`].
///
/// ```
/// use deckhouse_hooks_sdk::prelude::*;
///
/// struct CountNodes;
///
/// impl Hook for CountNodes {
///     const VALUES_KEY: &'static str = "myModule";
///
///     fn config() -> HookConfig {
///         HookConfig::new().kubernetes(
///             KubeBinding::new("nodes", "v1", "Node").jq_filter("{name: .metadata.name}"),
///         )
///     }
///
///     fn run(input: &mut HookInput) -> Result<(), Error> {
///         let nodes: Vec<Value> = input.snapshots.get("nodes")?;
///         input.values.set("internal.nodeCount", nodes.len())?;
///         Ok(())
///     }
/// }
/// ```
pub trait Hook {
    /// The module's key in values (`sdsReplicatedVolume`), as `module.valuesKey` in
    /// `grants.yaml`: values paths are below it.
    const VALUES_KEY: &'static str;

    /// When Deckhouse runs the hook and what it watches; called by `hook config`.
    fn config() -> HookConfig;

    /// One run. An error fails it: Deckhouse retries the run and applies nothing.
    fn run(input: &mut HookInput<'_>) -> Result<(), Error>;
}

/// Everything one run reads and writes (module-sdk's `HookInput`).
pub struct HookInput<'h> {
    /// The binding contexts of this run, as Deckhouse wrote them.
    pub binding_contexts: Vec<BindingContext>,
    /// Snapshots by binding name.
    pub snapshots: Snapshots,
    /// The module's values; changes become the values patch.
    pub values: Values,
    /// The module's config values; changes become the config values patch.
    pub config_values: Values,
    /// Kubernetes reads and object operations.
    pub kube: Kube<'h>,
    /// Metric operations.
    pub metrics: Metrics,
    /// The log.
    pub log: Logger<'h>,
}

/// One run's input as the host hands it over: JSON texts.
#[derive(Clone, Debug, Default)]
pub struct RawInput {
    /// The binding contexts: a JSON array.
    pub binding_context: String,
    /// All values (`{"global":..,"<module>":..}`).
    pub values: String,
    /// All config values, same shape.
    pub config_values: String,
}

/// What a run produced besides its Kubernetes writes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HookOutput {
    /// Changes of the module's values.
    pub values_patch: Vec<ValuesChange>,
    /// Changes of the module's config values.
    pub config_values_patch: Vec<ValuesChange>,
    /// Metric operations.
    pub metrics: Vec<Metric>,
}

impl<'h> HookInput<'h> {
    /// Reads one run's input for hook `H` over `host`.
    pub fn new<H: Hook + ?Sized>(host: &'h dyn Host, raw: &RawInput) -> Result<Self, Error> {
        let binding_contexts = binding_context::parse(&raw.binding_context)?;
        let snapshots = Snapshots::new(&binding_contexts, &H::config());
        let values = Values::new("values", H::VALUES_KEY, parse_json("values", &raw.values)?)?;
        let config_values = Values::new(
            "config values",
            H::VALUES_KEY,
            parse_json("config values", &raw.config_values)?,
        )?;
        Ok(Self {
            binding_contexts,
            snapshots,
            values,
            config_values,
            kube: Kube::new(host),
            metrics: Metrics::default(),
            log: Logger::new(host),
        })
    }

    /// What the run produced.
    pub fn into_output(self) -> HookOutput {
        HookOutput {
            values_patch: self.values.into_changes(),
            config_values_patch: self.config_values.into_changes(),
            metrics: self.metrics.into_operations(),
        }
    }
}

/// Runs hook `H` once over `host`: what the Wasm glue calls, and what native tests call.
pub fn run<H: Hook + ?Sized>(host: &dyn Host, raw: &RawInput) -> Result<HookOutput, Error> {
    let mut input = HookInput::new::<H>(host, raw)?;
    H::run(&mut input)?;
    Ok(input.into_output())
}

/// Blank text (a host that passes nothing) reads as an empty object.
fn parse_json(what: &str, text: &str) -> Result<Value, Error> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_str(text)
        .map_err(|e| Error::msg(format!("the host passed {what} that are not JSON: {e}")))
}
