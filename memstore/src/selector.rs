//! Label selectors in the API server's text form (`?labelSelector=`), so list
//! filtering behaves as it does against a real cluster, including its errors.

use crate::StoreError;
use serde_json::Value;

/// A parsed label selector: every requirement must hold.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    Absent(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

impl Selector {
    /// Parses `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, comma-joined.
    /// An empty or all-blank text selects everything.
    pub fn parse(text: &str) -> Result<Selector, StoreError> {
        if text.trim().is_empty() {
            return Ok(Selector::default());
        }
        let requirements = split_top_level(text)
            .into_iter()
            .map(|part| parse_requirement(part).map_err(|why| invalid(text, part, &why)))
            .collect::<Result<_, _>>()?;
        Ok(Selector { requirements })
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        self.requirements
            .iter()
            .all(|requirement| match requirement {
                Requirement::Equals(k, v) => label(k) == Some(v.as_str()),
                Requirement::NotEquals(k, v) => label(k) != Some(v.as_str()),
                Requirement::Exists(k) => label(k).is_some(),
                Requirement::Absent(k) => label(k).is_none(),
                Requirement::In(k, values) => {
                    label(k).is_some_and(|l| values.iter().any(|v| v == l))
                }
                Requirement::NotIn(k, values) => {
                    !label(k).is_some_and(|l| values.iter().any(|v| v == l))
                }
            })
    }
}

fn invalid(text: &str, part: &str, why: &str) -> StoreError {
    StoreError::Invalid(format!(
        "label selector {text:?}: requirement {:?} {why}; expected k=v, k!=v, k, !k, k in (a,b) or k notin (a,b)",
        part.trim()
    ))
}

/// Splits on commas that are not inside `( )`.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    let part = part.trim();
    if let Some(rest) = part.strip_prefix('!') {
        return Ok(Requirement::Absent(key(rest.trim())?));
    }
    let end = part.find(|c: char| !is_key_char(c)).unwrap_or(part.len());
    let name = key(&part[..end])?;
    let rest = part[end..].trim_start();
    if rest.is_empty() {
        Ok(Requirement::Exists(name))
    } else if let Some(v) = rest.strip_prefix("!=") {
        Ok(Requirement::NotEquals(name, value(v.trim())?))
    } else if let Some(v) = rest.strip_prefix("==").or_else(|| rest.strip_prefix('=')) {
        Ok(Requirement::Equals(name, value(v.trim())?))
    } else if let Some(set) = word(rest, "notin") {
        Ok(Requirement::NotIn(name, values(set)?))
    } else if let Some(set) = word(rest, "in") {
        Ok(Requirement::In(name, values(set)?))
    } else {
        Err(format!("has an unknown operator at {rest:?}"))
    }
}

/// `rest` without a leading operator word, if the word stands alone.
fn word<'a>(rest: &'a str, operator: &str) -> Option<&'a str> {
    let after = rest.strip_prefix(operator)?;
    (after.starts_with('(') || after.starts_with(char::is_whitespace)).then(|| after.trim())
}

fn values(set: &str) -> Result<Vec<String>, String> {
    let inner = set
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("needs a parenthesised value list, got {set:?}"))?;
    if inner.trim().is_empty() {
        return Err("has an empty value list".into());
    }
    inner.split(',').map(|v| value(v.trim())).collect()
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
}

fn key(text: &str) -> Result<String, String> {
    let mut segments = text.split('/');
    let well_formed = segments.clone().count() <= 2 && segments.all(|s| !s.is_empty());
    if !well_formed || !text.chars().all(is_key_char) {
        return Err(format!("has an invalid label key {text:?}"));
    }
    Ok(text.to_owned())
}

fn value(text: &str) -> Result<String, String> {
    if !text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!("has an invalid label value {text:?}"));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labelled(labels: Value) -> Value {
        json!({"metadata": {"labels": labels}})
    }

    fn selects(selector: &str, labels: Value) -> bool {
        Selector::parse(selector)
            .unwrap()
            .matches(&labelled(labels))
    }

    #[test]
    fn equality_and_inequality() {
        assert!(selects("app=web", json!({"app": "web"})));
        assert!(selects("app==web", json!({"app": "web"})));
        assert!(!selects("app=web", json!({"app": "db"})));
        assert!(!selects("app=web", json!({})));
        assert!(selects("app!=web", json!({"app": "db"})));
        assert!(
            selects("app!=web", json!({})),
            "k!=v also selects objects without k"
        );
        assert!(!selects("app!=web", json!({"app": "web"})));
    }

    #[test]
    fn existence() {
        assert!(selects("app", json!({"app": ""})));
        assert!(!selects("app", json!({"other": "x"})));
        assert!(selects("!app", json!({"other": "x"})));
        assert!(!selects("! app", json!({"app": "x"})));
    }

    #[test]
    fn set_membership() {
        assert!(selects("tier in (a, b)", json!({"tier": "b"})));
        assert!(!selects("tier in (a,b)", json!({"tier": "c"})));
        assert!(!selects("tier in (a,b)", json!({})));
        assert!(selects("tier notin (a,b)", json!({"tier": "c"})));
        assert!(selects("tier notin (a,b)", json!({})));
        assert!(!selects("tier notin(a,b)", json!({"tier": "a"})));
    }

    #[test]
    fn requirements_are_anded() {
        let s = "app=web, tier in (a,b),!legacy,example.com/owner";
        assert!(selects(
            s,
            json!({"app": "web", "tier": "a", "example.com/owner": "me"})
        ));
        assert!(!selects(
            s,
            json!({"app": "web", "tier": "a", "example.com/owner": "me", "legacy": "1"})
        ));
        assert!(!selects(s, json!({"app": "web", "tier": "a"})));
    }

    #[test]
    fn empty_selects_everything_even_without_labels() {
        assert!(
            Selector::parse("")
                .unwrap()
                .matches(&json!({"metadata": {}}))
        );
        assert!(Selector::parse("  ").unwrap().matches(&json!({})));
    }

    #[test]
    fn non_string_labels_never_match_values() {
        assert!(!selects("app=1", json!({"app": 1})));
    }

    #[test]
    fn bad_selectors_are_invalid_and_quote_the_part() {
        for bad in [
            "app=web,",
            "=web",
            "app=(x)",
            "app in a,b",
            "app in ()",
            "app ~ x",
            "a/b/c=x",
            "app in (a,b",
            "!",
            "app=we b",
            "app notin",
            "/x",
        ] {
            match Selector::parse(bad) {
                Err(StoreError::Invalid(message)) => {
                    assert!(message.contains("label selector"), "{message}")
                }
                other => panic!("{bad:?} should be Invalid, got {other:?}"),
            }
        }
    }
}
