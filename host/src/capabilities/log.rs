//! The WIT `log` interface on its own narrow context: guest log lines join the host's
//! JSON log, tagged with the guest, its fields nested under `fields` so they can never
//! pass for the host's own keys (`audit`, `hook`, `level`). Each message is cut at
//! `limits.maxLogLine` characters and a run's lines at `limits.maxLogBytes` bytes; past
//! that one line says so and the rest are dropped.

use crate::bindings::LogLevel;
use crate::bindings::hook::deckhouse::hooks::log::Host;
use crate::logging::{self, Level};
use crate::manifest::Limits;
use serde_json::{Map, Value};

/// Longest guest message kept: Deckhouse cuts lines at 10,000 characters anyway.
pub const MAX_MESSAGE: usize = 8_000;
/// Most fields kept per line, and longest field value.
const MAX_FIELDS: usize = 32;
const MAX_FIELD: usize = 1_000;

/// Who logs, and how much is left of the run's log budget.
pub struct LogCtx {
    guest: String,
    max_line: usize,
    max_bytes: u64,
    spent: u64,
    dropped: u64,
}

impl LogCtx {
    pub fn new(guest: &str) -> Self {
        let mut ctx = Self {
            guest: guest.to_owned(),
            max_line: 0,
            max_bytes: 0,
            spent: 0,
            dropped: 0,
        };
        ctx.bind(&Limits::default());
        ctx
    }

    /// Applies the guest's log budgets.
    pub fn bind(&mut self, limits: &Limits) {
        self.max_line = (limits.max_log_line as usize).min(MAX_MESSAGE);
        self.max_bytes = limits.max_log_bytes;
    }

    /// Lines dropped because the run's budget was spent.
    pub fn dropped(&self) -> u64 {
        self.dropped
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
        if self.spent >= self.max_bytes {
            self.dropped += 1;
            return;
        }
        let nested: Map<String, Value> = fields
            .into_iter()
            .take(MAX_FIELDS)
            .map(|(k, v)| (truncate(&k, 128), Value::String(truncate(&v, MAX_FIELD))))
            .collect();
        let message = truncate(&message, self.max_line);
        let bytes = message.len()
            + nested
                .iter()
                .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
                .sum::<usize>();
        self.spent = self.spent.saturating_add(bytes as u64);
        let mut extra: Vec<(&str, Value)> = vec![("guest", self.guest.clone().into())];
        if !nested.is_empty() {
            extra.push(("fields", Value::Object(nested)));
        }
        logging::log(level, &message, &extra);
        if self.spent >= self.max_bytes {
            logging::warn(
                "guest log budget spent; its further lines in this run are dropped",
                &[
                    ("guest", self.guest.clone().into()),
                    (
                        "limit",
                        format!("{} bytes (limits.maxLogBytes)", self.max_bytes).into(),
                    ),
                ],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_long_message_is_cut_with_a_marker() {
        let cut = truncate(&"é".repeat(10), 4);
        assert_eq!(cut, "éééé…[truncated 12 bytes]");
    }

    #[test]
    fn the_run_budget_drops_lines_past_it() {
        let mut ctx = LogCtx::new("g");
        ctx.bind(&Limits {
            max_log_bytes: 10,
            ..Limits::default()
        });
        for _ in 0..5 {
            ctx.emit(LogLevel::Info, "123456".into(), vec![]);
        }
        assert_eq!(ctx.dropped(), 3);
    }

    proptest! {
        #[test]
        fn truncate_never_panics_and_keeps_a_prefix(text in ".{0,64}", max in 0usize..80) {
            let cut = truncate(&text, max);
            let kept = cut.split("…[truncated").next().unwrap();
            prop_assert!(text.starts_with(kept));
            prop_assert!(kept.chars().count() <= max);
        }
    }
}
