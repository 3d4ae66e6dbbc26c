//! Kubernetes' ValidatingAdmissionPolicy admission, as far as the module's ModuleConfig
//! policy uses it, with the policy's CEL run by the `cel` crate: match constraints, the
//! binding's param (and its parameterNotFoundAction), variables in order (each may use the
//! ones before it), validations with message and messageExpression, failurePolicy, and the
//! binding's validationActions.

use cel::{Context, Program};
use serde_json::Value;
use std::collections::HashMap;

/// What the API server decides for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Admitted; `evaluated` says whether the policy's expressions ran at all.
    Allowed { evaluated: bool },
    /// Refused with this message (a validation was false).
    Denied { message: String, reason: String },
    /// An expression failed to evaluate; with failurePolicy Fail that refuses the request.
    Failed { problem: String },
}

/// One request against a ModuleConfig.
pub struct Request {
    pub operation: &'static str,
    pub group: String,
    pub resource: String,
    pub name: String,
    /// The new object (null for DELETE).
    pub object: Value,
    /// The stored object (null for CREATE).
    pub old_object: Value,
}

/// A rendered ValidatingAdmissionPolicy and its binding, compiled.
pub struct Admission {
    policy: Value,
    binding: Value,
    variables: Vec<(String, Program)>,
    validations: Vec<Validation>,
}

struct Validation {
    source: String,
    expression: Program,
    message: Option<String>,
    message_expression: Option<Program>,
    reason: String,
}

fn compile(what: &str, source: &str) -> Result<Program, String> {
    Program::compile(source).map_err(|e| format!("{what} does not compile: {e}\n{source}"))
}

impl Admission {
    /// Compiles every expression of the rendered `policy` (the binding must name it).
    pub fn new(policy: &Value, binding: &Value) -> Result<Self, String> {
        if binding["spec"]["policyName"] != policy["metadata"]["name"] {
            return Err(format!(
                "binding {} names policy {}",
                binding["metadata"]["name"], binding["spec"]["policyName"]
            ));
        }
        let spec = &policy["spec"];
        let mut variables = Vec::new();
        for variable in spec["variables"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let name = variable["name"]
                .as_str()
                .ok_or("a variable without a name")?
                .to_owned();
            let source = variable["expression"]
                .as_str()
                .ok_or("a variable without an expression")?;
            variables.push((name.clone(), compile(&format!("variable {name}"), source)?));
        }
        let mut validations = Vec::new();
        for (i, validation) in spec["validations"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let source = validation["expression"]
                .as_str()
                .ok_or("a validation without an expression")?;
            validations.push(Validation {
                source: source.to_owned(),
                expression: compile(&format!("validation {i}"), source)?,
                message: validation["message"].as_str().map(str::to_owned),
                message_expression: validation["messageExpression"]
                    .as_str()
                    .map(|m| compile(&format!("validation {i} messageExpression"), m))
                    .transpose()?,
                reason: validation["reason"]
                    .as_str()
                    .unwrap_or("Invalid")
                    .to_owned(),
            });
        }
        if validations.is_empty() {
            return Err("the policy has no validations".into());
        }
        Ok(Admission {
            policy: policy.clone(),
            binding: binding.clone(),
            variables,
            validations,
        })
    }

    /// The binding's param reference: (namespace, name).
    pub fn param_ref(&self) -> (String, String) {
        let param = &self.binding["spec"]["paramRef"];
        (
            param["namespace"].as_str().unwrap_or_default().to_owned(),
            param["name"].as_str().unwrap_or_default().to_owned(),
        )
    }

    fn matches(&self, request: &Request) -> bool {
        let has = |list: &Value, value: &str| {
            list.as_array()
                .is_some_and(|l| l.iter().any(|v| v == "*" || v == value))
        };
        let rules = self.policy["spec"]["matchConstraints"]["resourceRules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        rules.iter().any(|rule| {
            has(&rule["apiGroups"], &request.group)
                && has(&rule["resources"], &request.resource)
                && has(&rule["operations"], request.operation)
                && (rule["resourceNames"]
                    .as_array()
                    .is_none_or(|n| n.is_empty())
                    || has(&rule["resourceNames"], &request.name))
        })
    }

    /// The decision for `request`, with `param` the object the binding's paramRef found
    /// (`None`: not found).
    pub fn admit(&self, request: &Request, param: Option<&Value>) -> Decision {
        if !self.matches(request) {
            return Decision::Allowed { evaluated: false };
        }
        let fail_closed = self.policy["spec"]["failurePolicy"]
            .as_str()
            .unwrap_or("Fail")
            == "Fail";
        let failed = |problem: String| {
            if fail_closed {
                Decision::Failed { problem }
            } else {
                Decision::Allowed { evaluated: true }
            }
        };
        let param = match param {
            Some(param) => param.clone(),
            None if self.binding["spec"]["paramRef"].is_null() => Value::Null,
            None => {
                return match self.binding["spec"]["paramRef"]["parameterNotFoundAction"].as_str() {
                    Some("Allow") => Decision::Allowed { evaluated: false },
                    action => failed(format!(
                        "no param found, parameterNotFoundAction {action:?}"
                    )),
                };
            }
        };
        let mut context = Context::default();
        let add = |context: &mut Context, name: &str, value: &Value| {
            context
                .add_variable(name, value.clone())
                .map_err(|e| format!("{name}: {e}"))
        };
        let request_var = serde_json::json!({"operation": request.operation, "name": request.name});
        for (name, value) in [
            ("object", &request.object),
            ("oldObject", &request.old_object),
            ("params", &param),
            ("request", &request_var),
        ] {
            if let Err(problem) = add(&mut context, name, value) {
                return failed(problem);
            }
        }
        let mut variables: HashMap<String, cel::Value> = HashMap::new();
        for (name, program) in &self.variables {
            context.add_variable_from_value("variables", variables.clone());
            match program.execute(&context) {
                Ok(value) => {
                    variables.insert(name.clone(), value);
                }
                Err(e) => return failed(format!("variable {name}: {e}")),
            }
        }
        context.add_variable_from_value("variables", variables);
        for validation in &self.validations {
            match validation.expression.execute(&context) {
                Ok(cel::Value::Bool(true)) => continue,
                Ok(cel::Value::Bool(false)) => {
                    let message = validation
                        .message_expression
                        .as_ref()
                        .and_then(|m| match m.execute(&context) {
                            Ok(cel::Value::String(s)) if !s.trim().is_empty() => {
                                Some(s.to_string())
                            }
                            _ => None,
                        })
                        .or_else(|| validation.message.clone())
                        .unwrap_or_else(|| format!("failed expression: {}", validation.source));
                    let actions = &self.binding["spec"]["validationActions"];
                    if actions
                        .as_array()
                        .is_some_and(|a| a.iter().any(|v| v == "Deny"))
                    {
                        return Decision::Denied {
                            message,
                            reason: validation.reason.clone(),
                        };
                    }
                }
                Ok(other) => return failed(format!("validation returned {other:?}, not a bool")),
                Err(e) => return failed(format!("validation: {e}")),
            }
        }
        Decision::Allowed { evaluated: true }
    }

    /// Evaluates the messageExpression of every validation for `request`, so a test can
    /// show that they evaluate to strings even where the validation passes.
    pub fn messages(&self, request: &Request, param: &Value) -> Result<Vec<String>, String> {
        let mut context = Context::default();
        for (name, value) in [
            ("object", &request.object),
            ("oldObject", &request.old_object),
            ("params", param),
        ] {
            context
                .add_variable(name, value.clone())
                .map_err(|e| e.to_string())?;
        }
        let mut variables: HashMap<String, cel::Value> = HashMap::new();
        for (name, program) in &self.variables {
            context.add_variable_from_value("variables", variables.clone());
            variables.insert(
                name.clone(),
                program
                    .execute(&context)
                    .map_err(|e| format!("{name}: {e}"))?,
            );
        }
        context.add_variable_from_value("variables", variables);
        self.validations
            .iter()
            .filter_map(|v| v.message_expression.as_ref())
            .map(|m| match m.execute(&context) {
                Ok(cel::Value::String(s)) => Ok(s.to_string()),
                other => Err(format!("messageExpression gave {other:?}")),
            })
            .collect()
    }
}
