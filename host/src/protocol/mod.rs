//! Deckhouse's hook protocol: files named by environment variables in, files out.

pub mod binding_context;
pub mod env;
pub mod hook_config;
pub mod jq_policy;
pub mod metrics;
pub mod object_ops;
pub mod output;
pub mod values_patch;
