//! The plan input read out of the module's values, so the host needs to know no paths.

use serde_json::{Map, Value};

use crate::plan::PlanInput;

/// The state before any migration; also what Deckhouse's openapi default gives.
pub const DEFAULT_STATE: &str = "not_started";

/// Why the module's values could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ValuesError {
    #[error("module values are not JSON: {0}")]
    NotJson(String),
    #[error("sdsReplicatedVolume{path} must be {expected}, got {got}")]
    WrongType {
        path: &'static str,
        expected: &'static str,
        got: String,
    },
}

/// Reads `newControlPlane` (default false) and `internal.controlPlaneMigration`
/// (default `not_started`) from the `sdsReplicatedVolume` values object as JSON.
///
/// A missing or null field takes its default, as openapi defaulting would; a field of the
/// wrong type is an error naming its path.
pub fn input_from_values(module_values: &str) -> Result<PlanInput, ValuesError> {
    let root: Value =
        serde_json::from_str(module_values).map_err(|e| ValuesError::NotJson(e.to_string()))?;
    input_from_value(&root)
}

/// [`input_from_values`] over parsed JSON.
pub fn input_from_value(root: &Value) -> Result<PlanInput, ValuesError> {
    let root = as_object(root, "", "an object")?;
    let new_control_plane = match field(root, "newControlPlane") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(wrong_type(".newControlPlane", "a boolean", other)),
    };
    let state = match field(root, "internal") {
        None => DEFAULT_STATE.to_owned(),
        Some(internal) => read_state(as_object(internal, ".internal", "an object")?)?,
    };
    Ok(PlanInput {
        new_control_plane,
        state,
    })
}

fn read_state(internal: &Map<String, Value>) -> Result<String, ValuesError> {
    match field(internal, "controlPlaneMigration") {
        None => Ok(DEFAULT_STATE.to_owned()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(wrong_type(
            ".internal.controlPlaneMigration",
            "a string",
            other,
        )),
    }
}

/// A field, with JSON null read as absent.
fn field<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

fn as_object<'a>(
    value: &'a Value,
    path: &'static str,
    expected: &'static str,
) -> Result<&'a Map<String, Value>, ValuesError> {
    value
        .as_object()
        .ok_or_else(|| wrong_type(path, expected, value))
}

fn wrong_type(path: &'static str, expected: &'static str, got: &Value) -> ValuesError {
    let mut shown = got.to_string();
    if shown.len() > 60 {
        shown.truncate(shown.floor_char_boundary(57));
        shown.push_str("...");
    }
    ValuesError::WrongType {
        path,
        expected,
        got: shown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(ncp: bool, state: &str) -> PlanInput {
        PlanInput {
            new_control_plane: ncp,
            state: state.to_owned(),
        }
    }

    #[test]
    fn reads_both_fields() {
        let json =
            r#"{"newControlPlane":true,"internal":{"controlPlaneMigration":"stage1_started"}}"#;
        assert_eq!(input_from_values(json), Ok(input(true, "stage1_started")));
    }

    #[test]
    fn missing_and_null_fields_take_defaults() {
        assert_eq!(input_from_values("{}"), Ok(input(false, "not_started")));
        let json = r#"{"newControlPlane":null,"internal":{"controlPlaneMigration":null}}"#;
        assert_eq!(input_from_values(json), Ok(input(false, "not_started")));
        assert_eq!(
            input_from_values(r#"{"internal":{}}"#),
            Ok(input(false, "not_started"))
        );
    }

    #[test]
    fn wrong_types_name_the_path() {
        let cases = [
            (r#"[]"#, "sdsReplicatedVolume must be an object"),
            (
                r#"{"newControlPlane":"yes"}"#,
                "sdsReplicatedVolume.newControlPlane must be a boolean",
            ),
            (
                r#"{"internal":3}"#,
                "sdsReplicatedVolume.internal must be an object",
            ),
            (
                r#"{"internal":{"controlPlaneMigration":1}}"#,
                "sdsReplicatedVolume.internal.controlPlaneMigration must be a string",
            ),
        ];
        for (json, expected) in cases {
            let err = input_from_values(json).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{json}: {err}");
        }
    }

    #[test]
    fn bad_json_is_an_error() {
        let err = input_from_values("{newControlPlane").unwrap_err();
        assert!(matches!(err, ValuesError::NotJson(_)), "{err:?}");
    }

    #[test]
    fn long_values_are_shortened_in_errors() {
        let long = format!(r#"{{"newControlPlane":"{}"}}"#, "é".repeat(100));
        let err = input_from_values(&long).unwrap_err().to_string();
        assert!(err.len() < 140, "{err}");
        assert!(err.ends_with("..."), "{err}");
    }
}
