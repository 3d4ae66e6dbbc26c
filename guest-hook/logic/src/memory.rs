//! A [`HookEnv`] over objects in memory: what a hook run sees from its snapshots, used
//! by the native benchmark binary and by tests. Writes are recorded in call order.

use crate::env::{HookEnv, KubeError, LogLevel, ObjectRef};
use serde_json::Value;

/// One `create` call that created something.
#[derive(Clone, Debug, PartialEq)]
pub struct Created {
    pub object: Value,
    pub if_absent: bool,
}

/// One log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    pub level: LogLevel,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

/// Known objects, the creates made, and the log.
#[derive(Clone, Debug, Default)]
pub struct MemoryEnv {
    objects: Vec<Value>,
    pub created: Vec<Created>,
    pub logs: Vec<LogLine>,
}

impl MemoryEnv {
    /// An environment in which exactly `objects` exist.
    pub fn new(objects: Vec<Value>) -> Self {
        Self {
            objects,
            ..Self::default()
        }
    }

    /// Whether any log line at `level` contains `text` in its message or a field value.
    pub fn logged(&self, level: LogLevel, text: &str) -> bool {
        self.logs
            .iter()
            .filter(|l| l.level == level)
            .any(|l| l.message.contains(text) || l.fields.iter().any(|(_, v)| v.contains(text)))
    }

    fn find(&self, matches: impl Fn(&Value) -> bool) -> Option<&Value> {
        self.objects.iter().find(|o| matches(o))
    }
}

impl HookEnv for MemoryEnv {
    fn get(&mut self, target: &ObjectRef) -> Result<Value, KubeError> {
        self.find(|o| target.matches(o))
            .cloned()
            .ok_or_else(|| KubeError::NotFound(format!("{target} does not exist")))
    }

    fn create(&mut self, object: Value, if_absent: bool) -> Result<Value, KubeError> {
        let id = identity(&object)?;
        if let Some(existing) = self.find(|o| identity(o).as_ref() == Ok(&id)) {
            return if if_absent {
                Ok(existing.clone())
            } else {
                Err(KubeError::Conflict(format!(
                    "{} {} already exists",
                    id[1], id[3]
                )))
            };
        }
        self.objects.push(object.clone());
        self.created.push(Created {
            object: object.clone(),
            if_absent,
        });
        Ok(object)
    }

    fn log(&mut self, level: LogLevel, message: &str, fields: &[(&str, &str)]) {
        let fields = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.logs.push(LogLine {
            level,
            message: message.to_owned(),
            fields,
        });
    }
}

/// apiVersion, kind, namespace ("" when cluster-scoped), name; the first two and the
/// last are required, as the API server requires them.
fn identity(object: &Value) -> Result<[String; 4], KubeError> {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let id = [
        text("/apiVersion"),
        text("/kind"),
        text("/metadata/namespace"),
        text("/metadata/name"),
    ];
    if id[0].is_empty() || id[1].is_empty() || id[3].is_empty() {
        return Err(KubeError::Invalid(
            "an object needs apiVersion, kind and metadata.name".into(),
        ));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CM: ObjectRef = ObjectRef {
        api_version: "v1",
        kind: "ConfigMap",
        namespace: Some("ns"),
        name: "cm",
    };

    fn cm(state: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "ns", "name": "cm"}, "data": {"state": state}})
    }

    #[test]
    fn get_finds_or_reports_not_found() {
        let mut env = MemoryEnv::new(vec![cm("a")]);
        assert_eq!(env.get(&CM).unwrap()["data"]["state"], "a");
        let mut empty = MemoryEnv::default();
        assert!(matches!(empty.get(&CM), Err(KubeError::NotFound(m)) if m.contains("ns/cm")));
    }

    #[test]
    fn create_records_then_serves_the_object() {
        let mut env = MemoryEnv::default();
        env.create(cm("a"), true).unwrap();
        assert_eq!(
            env.created,
            vec![Created {
                object: cm("a"),
                if_absent: true
            }]
        );
        assert_eq!(env.get(&CM).unwrap(), cm("a"));
    }

    #[test]
    fn create_of_an_existing_object_returns_it_or_conflicts() {
        let mut env = MemoryEnv::new(vec![cm("a")]);
        assert_eq!(env.create(cm("b"), true).unwrap(), cm("a"));
        assert!(matches!(
            env.create(cm("b"), false),
            Err(KubeError::Conflict(_))
        ));
        assert!(env.created.is_empty());
    }

    #[test]
    fn create_without_a_name_is_invalid() {
        let mut env = MemoryEnv::default();
        let err = env.create(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
            true,
        );
        assert!(matches!(err, Err(KubeError::Invalid(_))));
    }

    #[test]
    fn logged_searches_message_and_fields_at_one_level() {
        let mut env = MemoryEnv::default();
        env.log(LogLevel::Warn, "refused", &[("state", "oops")]);
        assert!(env.logged(LogLevel::Warn, "refused"));
        assert!(env.logged(LogLevel::Warn, "oops"));
        assert!(!env.logged(LogLevel::Info, "refused"));
    }
}
