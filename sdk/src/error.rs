//! The error a hook, job step or report returns: a message for the person who reads the
//! log, built from any error with `?` or from text with [`Error::msg`].

use std::fmt;

/// Why a run failed. Like `anyhow::Error`, anything that is a `std::error::Error` converts
/// into it with `?`; [`Error::context`] says what was being done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    /// An error with this message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self(message.to_string())
    }

    /// The message, prefixed with what was being done: `"reading X: <message>"`.
    pub fn context(self, doing: impl fmt::Display) -> Self {
        Self(format!("{doing}: {}", self.0))
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: std::error::Error> From<E> for Error {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

impl From<Error> for String {
    fn from(e: Error) -> Self {
        e.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_and_adds_context() {
        let e: Error = crate::KubeError::NotFound("cm".into()).into();
        assert_eq!(
            e.clone().context("reading x").message(),
            "reading x: not found: cm"
        );
        assert_eq!(String::from(Error::msg("plain")), "plain");
    }
}
