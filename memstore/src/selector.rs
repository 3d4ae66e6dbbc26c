//! Label selectors in the API server's text form (`?labelSelector=`): the one parser and
//! matcher of `hooks-manifest`, with its errors as the store's `invalid` (HTTP 400).

use crate::StoreError;
use hooks_manifest::LabelSelector;
use serde_json::Value;

/// A parsed label selector: every requirement must hold.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Selector(LabelSelector);

impl Selector {
    /// Parses `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, comma-joined.
    /// An empty or all-blank text selects everything.
    pub fn parse(text: &str) -> Result<Selector, StoreError> {
        LabelSelector::parse(text)
            .map(Selector)
            .map_err(|e| StoreError::Invalid(e.to_string()))
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        self.0.matches(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_matches_and_reports_invalid_as_the_store_does() {
        let s = Selector::parse("app=web,tier notin (db)").unwrap();
        assert!(s.matches(&json!({"metadata": {"labels": {"app": "web", "tier": "a"}}})));
        assert!(!s.matches(&json!({"metadata": {"labels": {"app": "web", "tier": "db"}}})));
        match Selector::parse("app in a,b") {
            Err(StoreError::Invalid(m)) => assert!(m.contains("label selector"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
