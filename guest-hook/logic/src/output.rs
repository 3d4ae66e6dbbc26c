//! What one run hands back besides its Kubernetes writes; mirrors the WIT `hook-output`.

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValuesOpKind {
    Add,
    Remove,
}

/// One change below the module's values key (`/internal/controlPlaneMigration`).
#[derive(Clone, Debug, PartialEq)]
pub struct ValuesOp {
    pub op: ValuesOpKind,
    pub path: String,
    /// Required for `Add`.
    pub value: Option<Value>,
}

impl ValuesOp {
    pub fn add(path: &str, value: Value) -> Self {
        Self {
            op: ValuesOpKind::Add,
            path: path.to_owned(),
            value: Some(value),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricAction {
    Set,
    Add,
    Observe,
    Expire,
}

impl MetricAction {
    /// The `action` Deckhouse reads from a metrics file line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Set => "set",
            Self::Add => "add",
            Self::Observe => "observe",
            Self::Expire => "expire",
        }
    }
}

/// One metric operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    /// Empty for `Expire`, which addresses a whole group.
    pub name: String,
    pub group: Option<String>,
    pub action: MetricAction,
    pub value: f64,
    pub labels: Vec<(String, String)>,
}

/// A run's values patch and metrics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HookOutput {
    pub values_patch: Vec<ValuesOp>,
    pub metrics: Vec<Metric>,
}
