//! Kubernetes label selectors, in the API server's text form (`?labelSelector=`) and in
//! the structured form of a binding (`matchLabels` and `matchExpressions`), with the API
//! server's matching rules, so every list and every snapshot filters alike.
//!
//! Text form: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, joined by
//! commas and ANDed. An empty text selects everything.

use serde_json::Value;
use std::fmt;

/// A label selector: every requirement must hold.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

/// One requirement on one label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// The label key (`app`, `example.com/owner`).
    pub key: String,
    /// How the label is tested.
    pub operator: Operator,
    /// The values of `In`/`NotIn` (one for `=`/`!=`); empty for `Exists`/`DoesNotExist`.
    pub values: Vec<String>,
}

/// The operator of a requirement (`matchExpressions[].operator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// The label has one of the values (`k=v`, `k in (a,b)`).
    In,
    /// The label is absent or has none of the values (`k!=v`, `k notin (a,b)`).
    NotIn,
    /// The label is set (`k`).
    Exists,
    /// The label is not set (`!k`).
    DoesNotExist,
}

/// Why a selector is not valid; the message quotes the selector and the bad part.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "label selector {selector:?}: requirement {part:?} {problem}; expected k=v, k!=v, k, !k, k in (a,b) or k notin (a,b)"
)]
pub struct SelectorError {
    /// The whole selector as given.
    pub selector: String,
    /// The requirement that is wrong.
    pub part: String,
    /// What is wrong with it.
    pub problem: String,
}

impl LabelSelector {
    /// Parses the text form.
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let requirements = split_top_level(text)
            .into_iter()
            .map(|part| {
                parse_requirement(part).map_err(|problem| SelectorError {
                    selector: text.to_owned(),
                    part: part.trim().to_owned(),
                    problem,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { requirements })
    }

    /// The structured form: `matchLabels` (each `key=value`) and `matchExpressions`, ANDed.
    /// Keys and values are checked as in the text form.
    pub fn from_parts<'a>(
        match_labels: impl IntoIterator<Item = (&'a str, &'a str)>,
        match_expressions: impl IntoIterator<Item = Requirement>,
    ) -> Result<Self, SelectorError> {
        let mut requirements: Vec<Requirement> = match_labels
            .into_iter()
            .map(|(k, v)| Requirement {
                key: k.to_owned(),
                operator: Operator::In,
                values: vec![v.to_owned()],
            })
            .collect();
        requirements.extend(match_expressions);
        let selector = Self { requirements };
        for r in &selector.requirements {
            let bad = |problem: String| SelectorError {
                selector: selector.to_string(),
                part: r.to_string(),
                problem,
            };
            key(&r.key).map_err(bad)?;
            for v in &r.values {
                value(v).map_err(bad)?;
            }
            let wants_values = matches!(r.operator, Operator::In | Operator::NotIn);
            if wants_values == r.values.is_empty() {
                return Err(bad(if wants_values {
                    "has an empty value list".into()
                } else {
                    "takes no values".into()
                }));
            }
        }
        Ok(selector)
    }

    /// The requirements, in order.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether it selects everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        self.requirements.iter().all(|r| {
            let found = label(&r.key);
            match r.operator {
                Operator::In => found.is_some_and(|l| r.values.iter().any(|v| v == l)),
                Operator::NotIn => !found.is_some_and(|l| r.values.iter().any(|v| v == l)),
                Operator::Exists => found.is_some(),
                Operator::DoesNotExist => found.is_none(),
            }
        })
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.operator, self.values.as_slice()) {
            (Operator::Exists, _) => write!(f, "{}", self.key),
            (Operator::DoesNotExist, _) => write!(f, "!{}", self.key),
            (Operator::In, [one]) => write!(f, "{}={one}", self.key),
            (Operator::NotIn, [one]) => write!(f, "{}!={one}", self.key),
            (Operator::In, values) => write!(f, "{} in ({})", self.key, values.join(",")),
            (Operator::NotIn, values) => write!(f, "{} notin ({})", self.key, values.join(",")),
        }
    }
}

/// The text form, which [`LabelSelector::parse`] reads back.
impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.requirements.iter().map(|r| r.to_string()).collect();
        f.write_str(&parts.join(","))
    }
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
    let requirement = |key: String, operator, values| Requirement {
        key,
        operator,
        values,
    };
    if let Some(rest) = part.strip_prefix('!') {
        return Ok(requirement(
            key(rest.trim())?,
            Operator::DoesNotExist,
            vec![],
        ));
    }
    let end = part.find(|c: char| !is_key_char(c)).unwrap_or(part.len());
    let name = key(&part[..end])?;
    let rest = part[end..].trim_start();
    if rest.is_empty() {
        Ok(requirement(name, Operator::Exists, vec![]))
    } else if let Some(v) = rest.strip_prefix("!=") {
        Ok(requirement(name, Operator::NotIn, vec![value(v.trim())?]))
    } else if let Some(v) = rest.strip_prefix("==").or_else(|| rest.strip_prefix('=')) {
        Ok(requirement(name, Operator::In, vec![value(v.trim())?]))
    } else if let Some(set) = word(rest, "notin") {
        Ok(requirement(name, Operator::NotIn, values(set)?))
    } else if let Some(set) = word(rest, "in") {
        Ok(requirement(name, Operator::In, values(set)?))
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
        LabelSelector::parse(selector)
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
            LabelSelector::parse("")
                .unwrap()
                .matches(&json!({"metadata": {}}))
        );
        assert!(LabelSelector::parse("  ").unwrap().matches(&json!({})));
    }

    #[test]
    fn non_string_labels_never_match_values() {
        assert!(!selects("app=1", json!({"app": 1})));
    }

    #[test]
    fn bad_selectors_are_errors_quoting_the_part() {
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
            let err = LabelSelector::parse(bad).expect_err(bad);
            assert!(err.to_string().contains("label selector"), "{err}");
            assert_eq!(err.selector, bad);
        }
    }

    #[test]
    fn structured_form_matches_like_the_text_form_and_prints_it() {
        let s = LabelSelector::from_parts(
            [("app", "web")],
            [
                Requirement {
                    key: "tier".into(),
                    operator: Operator::NotIn,
                    values: vec!["db".into(), "cache".into()],
                },
                Requirement {
                    key: "legacy".into(),
                    operator: Operator::DoesNotExist,
                    values: vec![],
                },
            ],
        )
        .unwrap();
        assert_eq!(s.to_string(), "app=web,tier notin (db,cache),!legacy");
        assert_eq!(LabelSelector::parse(&s.to_string()).unwrap(), s);
        assert!(s.matches(&labelled(json!({"app": "web", "tier": "front"}))));
        assert!(!s.matches(&labelled(json!({"app": "web", "tier": "db"}))));
    }

    #[test]
    fn structured_form_is_checked() {
        let bad = |operator, values: Vec<&str>| {
            LabelSelector::from_parts(
                [],
                [Requirement {
                    key: "k".into(),
                    operator,
                    values: values.into_iter().map(String::from).collect(),
                }],
            )
        };
        assert!(bad(Operator::In, vec![]).is_err());
        assert!(bad(Operator::Exists, vec!["x"]).is_err());
        assert!(bad(Operator::In, vec!["a b"]).is_err());
        assert!(LabelSelector::from_parts([("bad key", "v")], []).is_err());
    }
}
