//! Structured logging into the host's JSON log (module-sdk's `input.Logger`).

use crate::host::{Host, LogLevel};

/// The logger over a [`Host`]; fields are `(key, value)` pairs.
#[derive(Clone, Copy)]
pub struct Logger<'h> {
    host: &'h dyn Host,
}

impl<'h> Logger<'h> {
    /// A logger over `host`.
    pub fn new(host: &'h dyn Host) -> Self {
        Self { host }
    }

    /// One line at `level`.
    pub fn log(&self, level: LogLevel, message: &str, fields: &[(&str, &str)]) {
        self.host.log(level, message, fields);
    }

    /// A debug line.
    pub fn debug(&self, message: &str, fields: &[(&str, &str)]) {
        self.log(LogLevel::Debug, message, fields);
    }

    /// An info line.
    pub fn info(&self, message: &str, fields: &[(&str, &str)]) {
        self.log(LogLevel::Info, message, fields);
    }

    /// A warning.
    pub fn warn(&self, message: &str, fields: &[(&str, &str)]) {
        self.log(LogLevel::Warn, message, fields);
    }

    /// An error line.
    pub fn error(&self, message: &str, fields: &[(&str, &str)]) {
        self.log(LogLevel::Error, message, fields);
    }
}
