//! JSON log lines on stderr, the form Deckhouse parses (`level`, `msg`, `time`).
//!
//! stdout is reserved for protocol answers (`hook list`, `hook config`), so every log
//! line goes to stderr. `LOG_LEVEL` (debug, info, warn, error) filters, as in Deckhouse.

use serde_json::{Map, Value};
use std::io::Write;
use std::sync::OnceLock;

/// Severity, ordered from chatty to grave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    fn threshold() -> Level {
        static LEVEL: OnceLock<Level> = OnceLock::new();
        *LEVEL.get_or_init(|| {
            match std::env::var("LOG_LEVEL")
                .unwrap_or_default()
                .to_lowercase()
                .as_str()
            {
                "debug" | "trace" => Level::Debug,
                "warn" | "warning" => Level::Warn,
                "error" => Level::Error,
                _ => Level::Info,
            }
        })
    }
}

/// Writes one log line with extra fields.
pub fn log(level: Level, msg: &str, fields: &[(&str, Value)]) {
    if level < Level::threshold() {
        return;
    }
    let mut line = Map::new();
    line.insert("level".into(), level.as_str().into());
    line.insert("msg".into(), msg.into());
    line.insert(
        "time".into(),
        humantime::format_rfc3339_millis(std::time::SystemTime::now())
            .to_string()
            .into(),
    );
    for (key, value) in fields {
        line.insert((*key).to_owned(), value.clone());
    }
    let mut text = Value::Object(line).to_string();
    text.push('\n');
    // A closed stderr must not turn a good run into a failure.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// `info` with fields.
pub fn info(msg: &str, fields: &[(&str, Value)]) {
    log(Level::Info, msg, fields);
}

/// `warn` with fields.
pub fn warn(msg: &str, fields: &[(&str, Value)]) {
    log(Level::Warn, msg, fields);
}

/// `error` with fields.
pub fn error(msg: &str, fields: &[(&str, Value)]) {
    log(Level::Error, msg, fields);
}

/// `debug` with fields.
pub fn debug(msg: &str, fields: &[(&str, Value)]) {
    log(Level::Debug, msg, fields);
}
