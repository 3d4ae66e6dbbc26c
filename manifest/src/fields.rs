//! Kubernetes field selectors (`metadata.name=x,status.phase!=Done`), matched on an
//! object's fields the way the API server does for the fields it supports.

use serde_json::Value;

/// A field selector: every requirement must hold.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FieldSelector {
    requirements: Vec<(String, bool, String)>,
}

/// Why a field selector is not valid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "field selector {selector:?}: {part:?} is not valid; expected field=value, field==value or field!=value, comma-joined"
)]
pub struct FieldSelectorError {
    /// The whole selector.
    pub selector: String,
    /// The bad requirement.
    pub part: String,
}

impl FieldSelector {
    /// Parses the text form; an empty text selects everything.
    pub fn parse(text: &str) -> Result<Self, FieldSelectorError> {
        let mut requirements = Vec::new();
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        for part in text.split(',') {
            let bad = || FieldSelectorError {
                selector: text.to_owned(),
                part: part.trim().to_owned(),
            };
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (f, true, v)
            } else {
                return Err(bad());
            };
            let field = field.trim();
            let valid = !field.is_empty()
                && field
                    .split('.')
                    .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()));
            if !valid {
                return Err(bad());
            }
            requirements.push((field.to_owned(), equal, value.trim().to_owned()));
        }
        Ok(Self { requirements })
    }

    /// The selector from a binding's requirements: (field, equals?, value).
    pub fn from_parts(requirements: impl IntoIterator<Item = (String, bool, String)>) -> Self {
        Self {
            requirements: requirements.into_iter().collect(),
        }
    }

    /// Whether every requirement holds. A missing field reads as the empty string; a
    /// number or bool as its JSON text.
    pub fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|(field, equal, want)| {
            let pointer = format!("/{}", field.replace('.', "/"));
            let got = match object.pointer(&pointer) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            (got == *want) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equality_and_inequality_on_nested_fields() {
        let pod = json!({"metadata": {"name": "p", "namespace": "a"}, "status": {"phase": "Running"}, "spec": {"replicas": 2}});
        let sel = |t: &str| FieldSelector::parse(t).unwrap().matches(&pod);
        assert!(sel("metadata.name=p"));
        assert!(sel("metadata.name==p,metadata.namespace=a"));
        assert!(!sel("metadata.name!=p"));
        assert!(sel("status.phase!=Done"));
        assert!(sel("spec.replicas=2"));
        assert!(sel("spec.nodeName="), "a missing field is empty");
        assert!(sel(""));
    }

    #[test]
    fn malformed_selectors_name_the_part() {
        for bad in ["metadata.name", "=x", "a..b=x", "metadata name=x"] {
            let err = FieldSelector::parse(bad).expect_err(bad);
            assert!(err.to_string().contains("field selector"), "{err}");
        }
    }
}
