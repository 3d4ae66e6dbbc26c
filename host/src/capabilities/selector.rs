//! Kubernetes label selectors (`a=b,c!=d,e,!f,g in (x,y),h notin (z)`), for serving
//! `list` from snapshots the way the API server would.

use serde_json::Value;

/// One parsed selector: all requirements must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector(Vec<Requirement>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Requirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    Absent(String),
}

impl Selector {
    /// Parses a selector string; the error says which part is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        split_top_level(text)
            .into_iter()
            .filter(|part| !part.trim().is_empty())
            .map(|part| parse_requirement(part.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map(Selector)
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        let label = |key: &str| {
            object
                .pointer("/metadata/labels")
                .and_then(|l| l.get(key))
                .and_then(Value::as_str)
        };
        self.0.iter().all(|r| match r {
            Requirement::In(k, vs) => label(k).is_some_and(|v| vs.iter().any(|x| x == v)),
            Requirement::NotIn(k, vs) => label(k).is_none_or(|v| vs.iter().all(|x| x != v)),
            Requirement::Exists(k) => label(k).is_some(),
            Requirement::Absent(k) => label(k).is_none(),
        })
    }
}

/// A Kubernetes field selector (`metadata.name=x,status.phase!=Done`): every requirement
/// compares the string at a dotted field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses `path=value`, `path==value` and `path!=value` requirements, comma separated.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (path, equal, value) = if let Some((p, v)) = part.split_once("!=") {
                (p, false, v)
            } else if let Some((p, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (p, true, v)
            } else {
                return Err(format!(
                    "field selector part {part:?} is not valid (use path=value or path!=value)"
                ));
            };
            let path = path.trim();
            if path.is_empty() || !path.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
                return Err(format!(
                    "field selector part {part:?} has no valid field path"
                ));
            }
            requirements.push((path.to_owned(), equal, value.trim().to_owned()));
        }
        Ok(Self(requirements))
    }

    /// Whether every requirement holds; a missing field reads as the empty string, as the
    /// API server treats it.
    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(path, equal, value)| {
            let pointer = format!("/{}", path.replace('.', "/"));
            let found = match object.pointer(&pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (found == *value) == *equal
        })
    }
}

/// Splits on commas outside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
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
    let bad = || {
        format!(
            "label selector part {part:?} is not valid (use k=v, k!=v, k, !k, k in (a,b), k notin (a,b))"
        )
    };
    if let Some(key) = part.strip_prefix('!') {
        return key_ok(key.trim())
            .map(|k| Requirement::Absent(k.into()))
            .ok_or_else(bad);
    }
    if let Some((k, v)) = part.split_once("!=") {
        return key_ok(k.trim())
            .map(|k| Requirement::NotIn(k.into(), vec![v.trim().into()]))
            .ok_or_else(bad);
    }
    if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return key_ok(k.trim())
            .map(|k| Requirement::In(k.into(), vec![v.trim().into()]))
            .ok_or_else(bad);
    }
    for (word, negated) in [(" notin ", true), (" in ", false)] {
        if let Some((k, set)) = part.split_once(word) {
            let set = set
                .trim()
                .strip_prefix('(')
                .and_then(|s| s.strip_suffix(')'))
                .ok_or_else(bad)?;
            let values = set.split(',').map(|v| v.trim().to_owned()).collect();
            let key = key_ok(k.trim()).ok_or_else(bad)?.to_owned();
            return Ok(if negated {
                Requirement::NotIn(key, values)
            } else {
                Requirement::In(key, values)
            });
        }
    }
    key_ok(part)
        .map(|k| Requirement::Exists(k.into()))
        .ok_or_else(bad)
}

fn key_ok(key: &str) -> Option<&str> {
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    valid.then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_operator_matches_like_the_api_server() {
        let o = json!({"metadata": {"labels": {"app": "agent", "tier": "node"}}});
        for (sel, want) in [
            ("app=agent", true),
            ("app==agent", true),
            ("app!=agent", false),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("app in (agent, controller)", true),
            ("app notin (agent)", false),
            ("app=agent,tier=node", true),
            ("app=agent,tier=db", false),
            ("", true),
        ] {
            assert_eq!(Selector::parse(sel).unwrap().matches(&o), want, "{sel}");
        }
    }

    #[test]
    fn field_selectors_compare_dotted_paths() {
        let o = json!({"metadata": {"name": "a", "namespace": "ns"}, "status": {"phase": "Done"}});
        for (sel, want) in [
            ("metadata.name=a", true),
            ("metadata.name!=a", false),
            ("status.phase==Done,metadata.namespace=ns", true),
            ("spec.x=", true),
            ("spec.x=1", false),
        ] {
            assert_eq!(
                FieldSelector::parse(sel).unwrap().matches(&o),
                want,
                "{sel}"
            );
        }
        assert!(FieldSelector::parse("nothing").is_err());
    }

    #[test]
    fn malformed_selectors_are_errors_naming_the_part() {
        let err = Selector::parse("app in agent").unwrap_err();
        assert!(err.contains("app in agent"), "{err}");
        assert!(Selector::parse("=x").is_err());
    }
}
