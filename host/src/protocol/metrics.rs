//! Metric operations in the NDJSON form Deckhouse reads from `METRICS_PATH`, checked by
//! its runners' and Prometheus' rules; written once, in `hooks-manifest`.

pub use hooks_manifest::output::{Metric, MetricAction, metrics_to_json as to_json};
