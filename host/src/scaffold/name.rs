//! A new guest's name, checked once and turned into every form the templates need.
//!
//! The name is the hook's name for Deckhouse (`hook list`, the `hook` label of its
//! metrics), a job's Kubernetes-facing name, and the crate's name, so it must be all of
//! these at once: a DNS-1123 label (lowercase letters, digits and `-`, at most 63
//! characters, a letter first and a letter or digit last), and not a name Rust or Cargo
//! keeps for itself.

/// Longest name: a DNS-1123 label.
pub const MAX_NAME: usize = 63;

/// Names that cannot be a crate: Rust keywords (the library is named after the crate),
/// Cargo's reserved names, and the crates every guest depends on.
const RESERVED: &[&str] = &[
    "abstract",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
    "test",
    "std",
    "core",
    "alloc",
    "proc-macro",
    "deckhouse-hooks-sdk",
    "hooks-manifest",
    "serde",
    "serde-json",
];

/// A checked name and its derived forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    /// As given: `my-hook`.
    pub kebab: String,
}

impl Name {
    /// Checks `name`; the error says which rule it breaks and what to use instead.
    pub fn parse(name: &str) -> Result<Self, String> {
        let fix =
            "use lowercase letters, digits and '-', starting with a letter (like my-module-sync)";
        if name.is_empty() {
            return Err(format!("the name is empty; {fix}"));
        }
        if name.len() > MAX_NAME {
            return Err(format!(
                "{name:?} has {} characters, more than {MAX_NAME} (a Kubernetes DNS label)",
                name.len()
            ));
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(format!("{name:?} contains {c:?}; {fix}"));
        }
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(format!("{name:?} does not start with a letter; {fix}"));
        }
        if name.ends_with('-') {
            return Err(format!("{name:?} ends with '-'; {fix}"));
        }
        if RESERVED.contains(&name) {
            return Err(format!(
                "{name:?} is reserved (a Rust keyword, a Cargo name or an SDK crate); choose another"
            ));
        }
        Ok(Self {
            kebab: name.to_owned(),
        })
    }

    /// The library's name and the component's file stem: `my_hook`.
    pub fn snake(&self) -> String {
        self.kebab.replace('-', "_")
    }

    /// The Rust type: `MyHook`.
    pub fn pascal(&self) -> String {
        self.kebab
            .split('-')
            .filter(|part| !part.is_empty())
            .map(|part| {
                let mut chars = part.chars();
                chars
                    .next()
                    .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// A values key: `myHook`.
    pub fn camel(&self) -> String {
        let pascal = self.pascal();
        let mut chars = pascal.chars();
        chars
            .next()
            .map(|first| first.to_ascii_lowercase().to_string() + chars.as_str())
            .unwrap_or_default()
    }
}

/// A Prometheus-safe form of any text: `[a-z0-9_]`, runs of anything else as one `_`.
pub fn metric_part(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_names_have_every_form() {
        let name = Name::parse("my-hook2-sync").unwrap();
        assert_eq!(name.snake(), "my_hook2_sync");
        assert_eq!(name.pascal(), "MyHook2Sync");
        assert_eq!(name.camel(), "myHook2Sync");
        assert_eq!(
            metric_part("sds-replicated.volume"),
            "sds_replicated_volume"
        );
    }

    #[test]
    fn bad_names_say_why() {
        for (name, why) in [
            ("", "empty"),
            ("My-hook", "contains 'M'"),
            ("my_hook", "contains '_'"),
            ("1hook", "start with a letter"),
            ("hook-", "ends with '-'"),
            ("type", "reserved"),
            ("deckhouse-hooks-sdk", "reserved"),
            (&"a".repeat(64), "more than 63"),
        ] {
            let err = Name::parse(name).unwrap_err();
            assert!(err.contains(why), "{name}: {err}");
        }
    }
}
