//! The WIT `log` import as a trait: progress lines with structured fields.

/// Severity of a log line (mirrors WIT `log-level`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// Where progress lines go: the host's JSON log in wasm, a collector in tests.
pub trait Log {
    fn emit(&mut self, level: Level, message: &str, fields: &[(&str, String)]);
}

/// Discards every line (for callers that do not care).
pub struct NoLog;

impl Log for NoLog {
    fn emit(&mut self, _: Level, _: &str, _: &[(&str, String)]) {}
}
