//! The WIT `log` interface: guest log lines join the host's JSON log, tagged with the guest.

use crate::logging::{self, Level};
use crate::runtime::bindings::LogLevel;
use crate::runtime::bindings::hook::deckhouse::hooks::log::Host;
use crate::runtime::state::HostState;
use serde_json::Value;

/// Longest guest message kept: Deckhouse cuts lines at 10,000 characters anyway.
const MAX_MESSAGE: usize = 8_000;

impl Host for HostState {
    fn emit(&mut self, level: LogLevel, message: String, fields: Vec<(String, String)>) {
        let level = match level {
            LogLevel::Debug => Level::Debug,
            LogLevel::Info => Level::Info,
            LogLevel::Warn => Level::Warn,
            LogLevel::Error => Level::Error,
        };
        let mut owned: Vec<(String, Value)> = vec![("guest".into(), self.guest.clone().into())];
        for (key, value) in fields.into_iter().take(32) {
            // A guest cannot overwrite the line's own keys.
            if !matches!(key.as_str(), "level" | "msg" | "time" | "guest") {
                owned.push((key, Value::String(value)));
            }
        }
        let borrowed: Vec<(&str, Value)> = owned.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let message: String = message.chars().take(MAX_MESSAGE).collect();
        logging::log(level, &message, &borrowed);
    }
}
