//! The binding contexts of one run as read from `BINDING_CONTEXT_PATH`. Parsing and
//! folding are `hooks-manifest`'s (the SDK reads them the same way); this adds the file,
//! the raw text handed to the guest unchanged, and what the snapshot backend needs.

use crate::error::{HostError, Result};
pub use hooks_manifest::binding_context::{BindingContext, Folded, SnapshotItem};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// The contexts of one run, in the order Deckhouse queued them.
#[derive(Clone, Debug, Default)]
pub struct BindingContexts {
    contexts: Vec<BindingContext>,
    /// The text as read, handed to the guest unchanged.
    pub raw: String,
}

/// A binding as the host knows it from the guest's config: which kind it watches.
#[derive(Clone, Debug)]
pub struct WatchedKind {
    pub binding: String,
    pub api_version: String,
    pub kind: String,
}

/// The objects a run knows after folding its contexts in order, and the kinds whose
/// snapshots arrived (absence of an object of such a kind means it does not exist).
#[derive(Clone, Debug, Default)]
pub struct CurrentObjects {
    pub objects: Vec<Value>,
    pub observed: BTreeSet<(String, String)>,
}

impl BindingContexts {
    /// Parses the file; errors say which element is wrong.
    pub fn read(path: &Path) -> Result<Self> {
        let raw = super::env::read_text(
            "binding context",
            path,
            super::env::MAX_BINDING_CONTEXT_BYTES,
        )?;
        Self::parse(&raw).map_err(|problem| input(path, problem))
    }

    /// Parses the JSON text of a binding context array.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let contexts = hooks_manifest::binding_context::parse(raw).map_err(|e| e.to_string())?;
        Ok(Self {
            contexts,
            raw: raw.to_owned(),
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &BindingContext> {
        self.contexts.iter()
    }

    pub fn len(&self) -> usize {
        self.contexts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.contexts.is_empty()
    }

    /// The binding names, for the run log.
    pub fn bindings(&self) -> Vec<String> {
        self.contexts
            .iter()
            .map(|c| match &c.kind {
                Some(kind) => format!("{}:{kind}", c.binding),
                None => c.binding.clone(),
            })
            .collect()
    }

    /// The current objects and the kinds of `watched` whose state this run knows.
    pub fn current_objects(&self, watched: &[WatchedKind]) -> CurrentObjects {
        let folded = Folded::new(&self.contexts);
        let observed = watched
            .iter()
            .filter(|w| folded.delivered(&w.binding))
            .map(|w| (w.api_version.clone(), w.kind.clone()))
            .collect();
        CurrentObjects {
            objects: folded.objects().into_values().collect(),
            observed,
        }
    }
}

fn input(path: &Path, problem: String) -> HostError {
    HostError::Input {
        what: "binding context",
        path: path.to_path_buf(),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parsing itself is hooks-manifest's and tested there; this is the host's run-log view.
    #[test]
    fn bindings_name_each_context_and_its_type() {
        let raw = r#"[{"binding":"onStartup"},{"binding":"cm","type":"Event","watchEvent":"Added","object":{"kind":"ConfigMap"}}]"#;
        let ctx = BindingContexts::parse(raw).unwrap();
        assert_eq!(ctx.bindings(), ["onStartup", "cm:Event"]);
        assert_eq!(ctx.raw, raw);
    }

    #[test]
    fn an_oversized_file_is_refused_before_parsing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bc.json");
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(super::super::env::MAX_BINDING_CONTEXT_BYTES + 1)
            .unwrap();
        let err = BindingContexts::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("binding context")
                && err.contains("larger than the limit of 33554432 bytes"),
            "{err}"
        );
    }

    proptest::proptest! {
        /// Fuzz target: any text is a binding context or an error, never a panic.
        #[test]
        fn any_text_parses_or_errs(raw in ".{0,300}") {
            let _ = BindingContexts::parse(&raw);
        }

        /// Fuzz target: JSON-shaped input, including every field with wrong types.
        #[test]
        fn any_json_parses_or_errs(raw in r#"\[(\{("binding"|"type"|"snapshots"|"objects"|"watchEvent"|"object"|"groupName"):(1|"x"|null|\[\]|\{\}|\{"a":\[\{"object":\{\}\}\]\}),?\},?){0,6}\]"#) {
            if let Ok(ctx) = BindingContexts::parse(&raw) {
                let _ = ctx.bindings();
                let _ = ctx.current_objects(&[]);
            }
        }
    }
}
