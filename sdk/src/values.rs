//! The module's values (or config values) in a run: read typed by path, changed by path.
//! Changes are collected as a patch the host roots at the module's values key and hands to
//! Deckhouse after the run (module-sdk's `PatchableValuesCollector`).
//!
//! Paths are below the module's key and dotted as in module-sdk (`internal.state`), or a
//! JSON pointer (`/internal/state`) when a key holds a dot. Reads see the values the run
//! started with, not its own changes, as in module-sdk.

use hooks_manifest::output::ValuesChange;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why a value could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValuesError {
    /// The whole document is not an object.
    #[error("{what} must be a JSON object with a {key:?} key, got {got}")]
    NotAnObject {
        /// values or config values.
        what: &'static str,
        /// The module's key.
        key: String,
        /// What it was instead.
        got: &'static str,
    },
    /// The value at a path has another type than asked for.
    #[error("{what} {path} is {value}, which is not {want}: {message}")]
    WrongType {
        /// values or config values.
        what: &'static str,
        /// The dotted path, with the module key.
        path: String,
        /// The value found (shortened).
        value: String,
        /// The Rust type asked for.
        want: &'static str,
        /// serde's message.
        message: String,
    },
    /// A path is empty or ends with a separator.
    #[error(
        "{what} path {path:?} is not valid: use dotted keys (internal.state) or a JSON pointer (/internal/state)"
    )]
    BadPath {
        /// values or config values.
        what: &'static str,
        /// The path as given.
        path: String,
    },
    /// A value to set does not serialize to JSON.
    #[error("{what} {path}: the value does not serialize to JSON: {message}")]
    NotSerializable {
        /// values or config values.
        what: &'static str,
        /// The path.
        path: String,
        /// serde's message.
        message: String,
    },
}

/// Values of one run, with the changes made so far.
#[derive(Clone, Debug)]
pub struct Values {
    what: &'static str,
    key: String,
    all: Value,
    changes: Vec<ValuesChange>,
}

impl Values {
    /// The module values (`what` = "values") below `key` in the whole document
    /// `{"global":..,"<key>":..}`.
    pub fn new(what: &'static str, key: &str, all: Value) -> Result<Self, ValuesError> {
        if !all.is_object() {
            return Err(ValuesError::NotAnObject {
                what,
                key: key.to_owned(),
                got: kind_of(&all),
            });
        }
        Ok(Self {
            what,
            key: key.to_owned(),
            all,
            changes: Vec::new(),
        })
    }

    /// The whole document, as Deckhouse passed it.
    pub fn all(&self) -> &Value {
        &self.all
    }

    /// The module's values (null when absent).
    pub fn module(&self) -> &Value {
        self.all.get(&self.key).unwrap_or(&Value::Null)
    }

    /// The global values (null when absent).
    pub fn global(&self) -> &Value {
        self.all.get("global").unwrap_or(&Value::Null)
    }

    /// The raw value at `path`, None when absent or null.
    pub fn get_raw(&self, path: &str) -> Option<&Value> {
        let pointer = pointer(path)?;
        self.module().pointer(&pointer).filter(|v| !v.is_null())
    }

    /// Whether a non-null value is at `path`.
    pub fn exists(&self, path: &str) -> bool {
        self.get_raw(path).is_some()
    }

    /// The value at `path` decoded as `T`; None when absent or null (the openapi default
    /// then applies); a value of another type is an error naming the path and the value.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, ValuesError> {
        if pointer(path).is_none() {
            return Err(self.bad_path(path));
        }
        let Some(value) = self.get_raw(path) else {
            return Ok(None);
        };
        serde_json::from_value(value.clone())
            .map(Some)
            .map_err(|e| ValuesError::WrongType {
                what: self.what,
                path: self.dotted(path),
                value: shorten(value),
                want: short_type_name::<T>(),
                message: e.to_string(),
            })
    }

    /// Sets `path` to `value` (parents are created by the host).
    pub fn set(&mut self, path: &str, value: impl Serialize) -> Result<(), ValuesError> {
        let pointer = pointer(path).ok_or_else(|| self.bad_path(path))?;
        let value = serde_json::to_value(value).map_err(|e| ValuesError::NotSerializable {
            what: self.what,
            path: self.dotted(path),
            message: e.to_string(),
        })?;
        self.changes.push(ValuesChange::Add {
            path: pointer,
            value,
        });
        Ok(())
    }

    /// Removes `path`; nothing is recorded when it does not exist (as in module-sdk).
    pub fn remove(&mut self, path: &str) -> Result<(), ValuesError> {
        let pointer = pointer(path).ok_or_else(|| self.bad_path(path))?;
        if self.module().pointer(&pointer).is_some() {
            self.changes.push(ValuesChange::Remove { path: pointer });
        }
        Ok(())
    }

    /// The changes so far, in order.
    pub fn changes(&self) -> &[ValuesChange] {
        &self.changes
    }

    /// The changes, consuming the values.
    pub fn into_changes(self) -> Vec<ValuesChange> {
        self.changes
    }

    fn dotted(&self, path: &str) -> String {
        let rest = match path.strip_prefix('/') {
            Some(p) => p.replace('/', "."),
            None => path.to_owned(),
        };
        format!("{}.{rest}", self.key)
    }

    fn bad_path(&self, path: &str) -> ValuesError {
        ValuesError::BadPath {
            what: self.what,
            path: path.to_owned(),
        }
    }
}

/// A dotted path or a JSON pointer as a JSON pointer; None when malformed.
fn pointer(path: &str) -> Option<String> {
    if let Some(rest) = path.strip_prefix('/') {
        return (!rest.is_empty() && !rest.ends_with('/')).then(|| path.to_owned());
    }
    let segments: Vec<&str> = path.split('.').collect();
    if path.is_empty() || segments.iter().any(|s| s.is_empty()) {
        return None;
    }
    Some(
        segments
            .iter()
            .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
            .collect(),
    )
}

fn shorten(value: &Value) -> String {
    let mut shown = value.to_string();
    if shown.len() > 60 {
        shown.truncate(shown.floor_char_boundary(57));
        shown.push_str("...");
    }
    shown
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    match full {
        "bool" => "a bool",
        "alloc::string::String" => "a string",
        _ => full.rsplit("::").next().unwrap_or(full),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(module: Value) -> Values {
        Values::new("values", "mod", json!({"global": {"g": 1}, "mod": module})).unwrap()
    }

    #[test]
    fn reads_typed_values_by_dotted_path_or_pointer() {
        let v = values(json!({"on": true, "internal": {"state": "x", "a.b": 2}}));
        assert_eq!(v.get::<bool>("on").unwrap(), Some(true));
        assert_eq!(v.get::<String>("internal.state").unwrap(), Some("x".into()));
        assert_eq!(v.get::<u32>("/internal/a.b").unwrap(), Some(2));
        assert_eq!(v.get::<bool>("absent.deep").unwrap(), None);
        assert!(v.exists("internal.state") && !v.exists("internal.none"));
        assert_eq!(v.global()["g"], 1);
    }

    #[test]
    fn null_reads_as_absent_and_a_wrong_type_names_path_and_value() {
        let v = values(json!({"on": null, "flag": "yes"}));
        assert_eq!(v.get::<bool>("on").unwrap(), None);
        let err = v.get::<bool>("flag").unwrap_err().to_string();
        assert!(
            err.starts_with("values mod.flag is \"yes\", which is not a bool"),
            "{err}"
        );
    }

    #[test]
    fn changes_are_pointers_below_the_module_key() {
        let mut v = values(json!({"internal": {"old": 1}}));
        v.set("internal.state", "x").unwrap();
        v.remove("internal.old").unwrap();
        v.remove("internal.never").unwrap();
        assert_eq!(
            v.changes(),
            [
                ValuesChange::Add {
                    path: "/internal/state".into(),
                    value: json!("x")
                },
                ValuesChange::Remove {
                    path: "/internal/old".into()
                },
            ]
        );
    }

    #[test]
    fn bad_paths_and_documents_are_refused() {
        let mut v = values(json!({}));
        for bad in ["", ".", "a.", "/", "/a/"] {
            assert!(
                matches!(v.set(bad, 1), Err(ValuesError::BadPath { .. })),
                "{bad:?}"
            );
        }
        let err = Values::new("values", "mod", json!([1]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("an array") && err.contains("\"mod\""), "{err}");
    }

    #[test]
    fn absent_module_values_read_as_absent() {
        let v = Values::new("values", "mod", json!({})).unwrap();
        assert_eq!(v.get::<bool>("on").unwrap(), None);
        assert!(v.module().is_null());
    }
}
