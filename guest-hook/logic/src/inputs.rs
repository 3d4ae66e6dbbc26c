//! The two module values the hook reads, out of the values JSON Deckhouse gives it.

use serde_json::Value;

/// The module's key in Deckhouse values.
pub const VALUES_KEY: &str = "sdsReplicatedVolume";

/// Where the synced state lives, below [`VALUES_KEY`].
pub const STATE_PATH: &str = "/internal/controlPlaneMigration";

/// The switch, below [`VALUES_KEY`].
const SWITCH_PATH: &str = "/newControlPlane";

/// What the run needs from the values.
#[derive(Clone, Debug, PartialEq)]
pub struct Inputs {
    /// `newControlPlane`; false when absent (the ModuleConfig default).
    pub new_control_plane: bool,
    /// `internal.controlPlaneMigration` as found, of whatever JSON type.
    pub current: Option<Value>,
}

impl Inputs {
    /// Reads the inputs out of all values (`{"global":..,"sdsReplicatedVolume":..}`).
    pub fn from_values(values: &Value) -> Result<Self, String> {
        if !values.is_object() {
            return Err(format!(
                "values must be a JSON object with a {VALUES_KEY:?} key, got {}",
                kind_of(values)
            ));
        }
        let module = values.get(VALUES_KEY).unwrap_or(&Value::Null);
        let new_control_plane = match module.pointer(SWITCH_PATH) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(on)) => *on,
            Some(other) => {
                return Err(format!(
                    "values {VALUES_KEY}.newControlPlane is {other}, want true or false; fix spec.settings.newControlPlane in ModuleConfig sds-replicated-volume"
                ));
            }
        };
        let current = module.pointer(STATE_PATH).filter(|v| !v.is_null()).cloned();
        Ok(Self {
            new_control_plane,
            current,
        })
    }

    /// The current state when it is a string.
    pub fn current_state(&self) -> Option<&str> {
        self.current.as_ref().and_then(Value::as_str)
    }

    /// The current value as a metric label: its text, or `default` when absent.
    pub fn current_label(&self, default: &str) -> String {
        match &self.current {
            None => default.to_owned(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }
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

    #[test]
    fn reads_switch_and_state() {
        let values = json!({"global": {}, "sdsReplicatedVolume": {
            "newControlPlane": true, "internal": {"controlPlaneMigration": "stage1_started"}}});
        let inputs = Inputs::from_values(&values).unwrap();
        assert!(inputs.new_control_plane);
        assert_eq!(inputs.current_state(), Some("stage1_started"));
        assert_eq!(inputs.current_label("x"), "stage1_started");
    }

    #[test]
    fn absent_values_mean_defaults() {
        for values in [
            json!({}),
            json!({"sdsReplicatedVolume": {}}),
            json!({"sdsReplicatedVolume": {"newControlPlane": null}}),
        ] {
            let inputs = Inputs::from_values(&values).unwrap();
            assert!(!inputs.new_control_plane);
            assert_eq!(inputs.current, None);
            assert_eq!(inputs.current_label("not_started"), "not_started");
        }
    }

    #[test]
    fn non_bool_switch_is_an_error_naming_the_setting() {
        let err = Inputs::from_values(&json!({"sdsReplicatedVolume": {"newControlPlane": "true"}}))
            .unwrap_err();
        assert!(
            err.contains("newControlPlane") && err.contains("ModuleConfig"),
            "{err}"
        );
    }

    #[test]
    fn non_object_values_are_an_error() {
        let err = Inputs::from_values(&json!([1])).unwrap_err();
        assert!(err.contains("an array"), "{err}");
    }

    #[test]
    fn non_string_state_is_kept_raw() {
        let inputs = Inputs::from_values(
            &json!({"sdsReplicatedVolume": {"internal": {"controlPlaneMigration": 3}}}),
        )
        .unwrap();
        assert_eq!(inputs.current_state(), None);
        assert_eq!(inputs.current_label("x"), "3");
    }
}
