//! The jqFilter policy: Deckhouse runs a binding's `jqFilter` itself, outside the
//! sandbox, on every event, so the host refuses (at `hook config` and in `test`) any
//! filter that could read the environment, read other inputs, write to stderr, stop the
//! runner, or run unbounded.
//!
//! The check is a tokenizer-level allow-list, deliberately stricter than needed:
//! - at most [`MAX_FILTER_LENGTH`] characters;
//! - identifiers only from [`ALLOWED`] (paths, selection, construction, comparison,
//!   plain string and array functions), plus the keywords of `if`/`try`/`as`;
//! - `range` only with literal bounds of at most [`MAX_LITERAL`];
//! - `recurse` only without arguments (`..` and `recurse` walk the finite input);
//! - no `def` (recursion), `reduce`/`foreach`, `while`/`until`/`repeat`, `limit`-style
//!   generators over them, `input`/`inputs`, `env`/`$ENV`, `$__loc__`, `debug`/`stderr`,
//!   `halt`/`halt_error`, `input_filename`, modules (`import`/`include`), regular
//!   expressions (`test`, `match`, `sub`, ... can backtrack exponentially);
//! - no assignment operators (`=`, `|=`, `+=`, ...) and no `*` (string repetition and
//!   deep merge can allocate without bound), no number literal above [`MAX_LITERAL`];
//! - no string interpolation (`\(...)`), so every piece of code is visible to the check.

/// Longest filter accepted.
pub const MAX_FILTER_LENGTH: usize = 1_024;
/// Largest number literal accepted (and `range` bound).
pub const MAX_LITERAL: f64 = 10_000.0;

/// Identifiers a filter may use.
pub const ALLOWED: &[&str] = &[
    // keywords
    "if",
    "then",
    "elif",
    "else",
    "end",
    "as",
    "and",
    "or",
    "not",
    "try",
    "catch",
    // values
    "null",
    "true",
    "false",
    "empty",
    "error",
    // selection and paths
    "select",
    "has",
    "in",
    "inside",
    "contains",
    "getpath",
    "paths",
    "leaf_paths",
    "path",
    "del",
    "to_entries",
    "from_entries",
    "with_entries",
    "keys",
    "keys_unsorted",
    "values",
    "recurse",
    "first",
    "last",
    "nth",
    "objects",
    "arrays",
    "strings",
    "numbers",
    "booleans",
    "nulls",
    "iterables",
    "scalars",
    "type",
    "length",
    "utf8bytelength",
    "map",
    "map_values",
    "any",
    "all",
    "add",
    "flatten",
    "sort",
    "sort_by",
    "group_by",
    "unique",
    "unique_by",
    "min",
    "max",
    "min_by",
    "max_by",
    "reverse",
    "index",
    "rindex",
    "indices",
    "transpose",
    "tostream",
    "fromstream",
    "pick",
    "range",
    // strings
    "tostring",
    "tonumber",
    "tojson",
    "fromjson",
    "ascii_downcase",
    "ascii_upcase",
    "startswith",
    "endswith",
    "ltrimstr",
    "rtrimstr",
    "split",
    "join",
    "explode",
    "implode",
    "ascii",
    "trim",
    "ltrim",
    "rtrim",
    // numbers
    "floor",
    "ceil",
    "round",
    "fabs",
    "abs",
    "sqrt",
    "isnan",
    "isinfinite",
    "isnormal",
];

/// Operators refused (assignment and `*`).
const REFUSED_OPERATORS: &[&str] = &["|=", "+=", "-=", "*=", "/=", "%=", "//=", "=", "*"];

/// Why a filter was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("jqFilter {filter:?} is outside the host's jq policy: {reason}")]
pub struct PolicyError {
    pub filter: String,
    pub reason: String,
}

#[derive(Debug, PartialEq)]
enum Token<'a> {
    Ident(&'a str),
    Variable(&'a str),
    Field,
    Number(f64),
    Str,
    Format,
    Op(&'a str),
    Punct(char),
}

/// Checks one filter against the policy.
pub fn check(filter: &str) -> Result<(), PolicyError> {
    let refuse = |reason: String| PolicyError {
        filter: filter.chars().take(120).collect(),
        reason,
    };
    if filter.chars().count() > MAX_FILTER_LENGTH {
        return Err(refuse(format!(
            "it is longer than {MAX_FILTER_LENGTH} characters"
        )));
    }
    let tokens = tokenize(filter).map_err(refuse)?;
    let mut brackets = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1);
        let previous = i.checked_sub(1).and_then(|p| tokens.get(p));
        match token {
            Token::Punct(c @ ('(' | '[' | '{')) => brackets.push(*c),
            Token::Punct(')' | ']' | '}') => {
                brackets.pop();
            }
            _ => {}
        }
        // An object key (`{name: ...}`, or the shorthand `{name}`) is data, not a call.
        let in_object = brackets.last() == Some(&'{');
        let key = in_object
            && (next == Some(&Token::Punct(':'))
                || matches!(previous, Some(Token::Punct('{' | ',')))
                    && matches!(next, Some(Token::Punct(',' | '}'))));
        match token {
            Token::Ident(_) if key => {}
            Token::Ident(name) if !ALLOWED.contains(name) => {
                return Err(refuse(format!("`{name}` is not allowed")));
            }
            Token::Ident("recurse") if next == Some(&Token::Punct('(')) => {
                return Err(refuse(
                    "`recurse(f)` can run without bound; use `..` or `recurse`".into(),
                ));
            }
            Token::Ident("range") => check_range(&tokens[i + 1..]).map_err(refuse)?,
            Token::Variable(name) if *name == "ENV" || name.starts_with("__") => {
                return Err(refuse(format!("`${name}` is not allowed")));
            }
            Token::Number(n) if *n > MAX_LITERAL => {
                return Err(refuse(format!(
                    "the number {n} is above the limit of {MAX_LITERAL}"
                )));
            }
            Token::Op(op) if REFUSED_OPERATORS.contains(op) => {
                return Err(refuse(format!("the operator `{op}` is not allowed")));
            }
            _ => {}
        }
    }
    Ok(())
}

/// `range` must be called as `range(N)`, `range(N; M)` or `range(N; M; S)` with literals.
fn check_range(rest: &[Token<'_>]) -> Result<(), String> {
    let bad = || "`range` needs literal bounds, like range(0; 10)".to_owned();
    let mut iter = rest.iter();
    if iter.next() != Some(&Token::Punct('(')) {
        return Err(bad());
    }
    loop {
        match iter.next() {
            Some(Token::Number(_)) => {}
            Some(Token::Op("-")) => match iter.next() {
                Some(Token::Number(_)) => {}
                _ => return Err(bad()),
            },
            _ => return Err(bad()),
        }
        match iter.next() {
            Some(Token::Punct(';')) => {}
            Some(Token::Punct(')')) => return Ok(()),
            _ => return Err(bad()),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token<'_>>, String> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let ident_end = |mut j: usize| {
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
            j += 1;
        }
        j
    };
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return Err("a string is not closed".into()),
                        Some(b'\\') if bytes.get(i + 1) == Some(&b'(') => {
                            return Err("string interpolation `\\(...)` is not allowed".into());
                        }
                        Some(b'\\') => i += 2,
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                tokens.push(Token::Str);
            }
            b'@' => {
                i = ident_end(i + 1);
                tokens.push(Token::Format);
            }
            b'$' => {
                let end = ident_end(i + 1);
                tokens.push(Token::Variable(&text[i + 1..end]));
                i = end;
            }
            b'.' if bytes
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') =>
            {
                i = ident_end(i + 1);
                tokens.push(Token::Field);
            }
            b'.' if bytes.get(i + 1) == Some(&b'.') => {
                i += 2;
                tokens.push(Token::Punct('.'));
            }
            b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_digit()
                        || matches!(bytes[i], b'.' | b'e' | b'E')
                        || (matches!(bytes[i], b'+' | b'-') && matches!(bytes[i - 1], b'e' | b'E')))
                {
                    i += 1;
                }
                let number = text[start..i]
                    .parse::<f64>()
                    .map_err(|_| format!("{:?} is not a number", &text[start..i]))?;
                tokens.push(Token::Number(number));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = ident_end(i);
                if bytes.get(end) == Some(&b':') && bytes.get(end + 1) == Some(&b':') {
                    return Err("module functions (`a::b`) are not allowed".into());
                }
                tokens.push(Token::Ident(&text[i..end]));
                i = end;
            }
            _ => {
                let three = text.get(i..i + 3);
                let two = text.get(i..i + 2);
                if three == Some("//=") {
                    tokens.push(Token::Op("//="));
                    i += 3;
                } else if let Some(op) = two.filter(|t| {
                    [
                        "|=", "+=", "-=", "*=", "/=", "%=", "==", "!=", "<=", ">=", "//", "?/",
                    ]
                    .contains(t)
                }) {
                    tokens.push(Token::Op(op));
                    i += 2;
                } else if matches!(c, b'=' | b'*' | b'+' | b'-' | b'/' | b'%' | b'<' | b'>') {
                    tokens.push(Token::Op(&text[i..i + 1]));
                    i += 1;
                } else if matches!(
                    c,
                    b'.' | b'|'
                        | b','
                        | b'('
                        | b')'
                        | b'['
                        | b']'
                        | b'{'
                        | b'}'
                        | b':'
                        | b';'
                        | b'?'
                ) {
                    tokens.push(Token::Punct(c as char));
                    i += 1;
                } else {
                    let ch = text[i..].chars().next().unwrap_or('?');
                    return Err(format!("the character {ch:?} is not allowed"));
                }
            }
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn real_filters_pass() {
        for f in [
            ".metadata.name",
            "{name: .metadata.name, state: .data.state}",
            r#".status.conditions // [] | map(select(.type == "Ready")) | length > 0"#,
            "[.items[] | .metadata.labels | to_entries[] | .key] | unique",
            "[range(0; 10)] | length",
            "[..] | length",
            r#"if .spec.replicas then .spec.replicas else 0 end"#,
            ".data as $d | {v: $d.x}",
            "{name, env: .spec.env}",
            ".metadata | has(\"annotations\") and (.labels | keys | any(startswith(\"a\")))",
        ] {
            check(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        }
    }

    #[test]
    fn hostile_filters_are_refused_with_a_reason() {
        for (f, reason) in [
            ("[range(1e12)] | length", "above the limit"),
            ("[range(.n)]", "literal bounds"),
            ("$ENV.HOME", "`$ENV` is not allowed"),
            ("env.HOME", "`env` is not allowed"),
            ("{a: env}", "`env` is not allowed"),
            ("(1, env, 2)", "`env` is not allowed"),
            ("input", "`input` is not allowed"),
            ("[inputs]", "`inputs` is not allowed"),
            (". | debug", "`debug` is not allowed"),
            ("stderr", "`stderr` is not allowed"),
            ("halt_error", "`halt_error` is not allowed"),
            ("halt", "`halt` is not allowed"),
            ("input_filename", "`input_filename` is not allowed"),
            ("$__loc__", "`$__loc__` is not allowed"),
            ("repeat(.)", "`repeat` is not allowed"),
            ("recurse(. + 1)", "`recurse(f)` can run without bound"),
            ("[while(true; .)]", "`while` is not allowed"),
            ("until(false; .)", "`until` is not allowed"),
            ("[limit(5; repeat(1))]", "`limit` is not allowed"),
            ("def f: f; f", "`def` is not allowed"),
            ("reduce .[] as $x (.; . + .)", "`reduce` is not allowed"),
            (r#""a" * 1000"#, "the operator `*`"),
            (".a = 1", "the operator `=`"),
            (".a |= 1", "the operator `|=`"),
            (r#""\(env)""#, "interpolation"),
            (r#"test("(a+)+$")"#, "`test` is not allowed"),
            ("import \"x\" as x; .", "`import` is not allowed"),
        ] {
            let err = check(f).unwrap_err();
            assert!(err.reason.contains(reason), "{f}: {err}");
        }
        let long = ".a".repeat(600);
        assert!(
            check(&long)
                .unwrap_err()
                .reason
                .contains("longer than 1024")
        );
    }

    proptest! {
        /// Fuzz target: the tokenizer and policy never panic on any text.
        #[test]
        fn any_filter_is_judged_without_panicking(f in ".{0,200}") {
            let _ = check(&f);
        }

        /// Fuzz target: jq-shaped text, built from the policy's own tokens.
        #[test]
        fn jq_shaped_filters_are_judged(parts in proptest::collection::vec(
            "(\\.[a-z]+|range|recurse|\\$ENV|\\$x|[0-9e.]{1,6}|\"[a-z\\\\(]*\"|\\(|\\)|;|\\||=|\\*|\\.\\.|@base64|env|select|map)", 0..30)
        ) {
            let _ = check(&parts.join(" "));
        }
    }
}
