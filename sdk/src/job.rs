//! A job (world `job-guest`): a resumable step function the host calls until it is done,
//! plus a rehearsal (every write sent with `dryRun=All`) and a status report. Each call
//! re-reads its state from the cluster, so a job killed anywhere resumes where it stood.
//!
//! Settings arrive as JSON (the guest's `settings` in grants.yaml, overridden by `--set`)
//! and are decoded into the job's own [`Job::Settings`] type.

use crate::error::Error;
use crate::host::Host;
use crate::kube::Kube;
use crate::log::Logger;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What a step wants next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The job is finished; the text says how.
    Done(String),
    /// Call `step` again after `ms` milliseconds (the host caps it); `why` says what it waits for.
    Wait {
        /// How long.
        ms: u32,
        /// What for.
        why: String,
    },
}

/// A report for people (Markdown) and tools (JSON).
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Markdown a person reads.
    pub markdown: String,
    /// The same facts as JSON.
    pub json: Value,
    /// False when the report found a problem that must be fixed first.
    pub ok: bool,
}

/// What a job call can use: the cluster and the log.
pub struct JobContext<'h> {
    /// Live Kubernetes (dry-run writes in a rehearsal).
    pub kube: Kube<'h>,
    /// The log.
    pub log: Logger<'h>,
}

impl<'h> JobContext<'h> {
    /// A context over `host`.
    pub fn new(host: &'h dyn Host) -> Self {
        Self {
            kube: Kube::new(host),
            log: Logger::new(host),
        }
    }
}

/// A job. Implement it and export it with [`crate::export_job!`].
pub trait Job {
    /// The job's settings; `{}` must decode (give fields serde defaults).
    type Settings: DeserializeOwned;

    /// One step.
    fn step(ctx: &JobContext<'_>, settings: &Self::Settings) -> Result<Step, Error>;

    /// Plans the whole job without changing anything: reads, then every write it would make.
    fn rehearse(ctx: &JobContext<'_>, settings: &Self::Settings) -> Result<Report, Error>;

    /// Where a running or finished job stands; reads only.
    fn status(ctx: &JobContext<'_>, settings: &Self::Settings) -> Result<Report, Error>;
}

/// Decodes the settings JSON; blank text is `{}`. The error names the bad field.
pub fn settings<S: DeserializeOwned>(text: &str) -> Result<S, Error> {
    let text = if text.trim().is_empty() { "{}" } else { text };
    serde_json::from_str(text).map_err(|e| {
        Error::msg(format!(
            "the job's settings do not fit: {e}; fix `settings` in grants.yaml or the --set override"
        ))
    })
}

/// Runs one step of `J` over `host`: what the Wasm glue calls, and what native tests call.
pub fn step<J: Job + ?Sized>(host: &dyn Host, settings_json: &str) -> Result<Step, Error> {
    J::step(
        &JobContext::new(host),
        &settings::<J::Settings>(settings_json)?,
    )
}

/// Runs `J`'s rehearsal over `host`.
pub fn rehearse<J: Job + ?Sized>(host: &dyn Host, settings_json: &str) -> Result<Report, Error> {
    J::rehearse(
        &JobContext::new(host),
        &settings::<J::Settings>(settings_json)?,
    )
}

/// Runs `J`'s status report over `host`.
pub fn status<J: Job + ?Sized>(host: &dyn Host, settings_json: &str) -> Result<Report, Error> {
    J::status(
        &JobContext::new(host),
        &settings::<J::Settings>(settings_json)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields, rename_all = "camelCase")]
    struct Settings {
        batch_size: u32,
    }

    #[test]
    fn settings_decode_with_defaults_and_name_bad_fields() {
        assert_eq!(settings::<Settings>("").unwrap(), Settings::default());
        assert_eq!(
            settings::<Settings>(r#"{"batchSize": 5}"#)
                .unwrap()
                .batch_size,
            5
        );
        let err = settings::<Settings>(r#"{"batchsize": 5}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("batchsize") && err.contains("grants.yaml"),
            "{err}"
        );
    }
}
