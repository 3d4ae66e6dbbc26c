//! The WIT `log` interface on its own narrow context: guest log lines join the host's
//! JSON log, tagged with the guest, its fields nested under `fields` so they can never
//! pass for the host's own keys (`audit`, `hook`, `level`).

use crate::logging::{self, Level};
use crate::runtime::bindings::LogLevel;
use crate::runtime::bindings::hook::deckhouse::hooks::log::Host;
use serde_json::{Map, Value};

/// Longest guest message kept: Deckhouse cuts lines at 10,000 characters anyway.
pub const MAX_MESSAGE: usize = 8_000;
/// Most fields kept per line, and longest field value.
const MAX_FIELDS: usize = 32;
const MAX_FIELD: usize = 1_000;

/// Who logs.
pub struct LogCtx {
    guest: String,
}

impl LogCtx {
    pub fn new(guest: &str) -> Self {
        Self {
            guest: guest.to_owned(),
        }
    }
}

/// `text`, cut to `max` characters with a marker saying so.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…[truncated {} bytes]", &text[..cut], text.len() - cut),
    }
}

impl Host for LogCtx {
    fn emit(&mut self, level: LogLevel, message: String, fields: Vec<(String, String)>) {
        let level = match level {
            LogLevel::Debug => Level::Debug,
            LogLevel::Info => Level::Info,
            LogLevel::Warn => Level::Warn,
            LogLevel::Error => Level::Error,
        };
        let nested: Map<String, Value> = fields
            .into_iter()
            .take(MAX_FIELDS)
            .map(|(k, v)| (truncate(&k, 128), Value::String(truncate(&v, MAX_FIELD))))
            .collect();
        let mut extra: Vec<(&str, Value)> = vec![("guest", self.guest.clone().into())];
        if !nested.is_empty() {
            extra.push(("fields", Value::Object(nested)));
        }
        logging::log(level, &truncate(&message, MAX_MESSAGE), &extra);
    }
}
