//! The Job's settings: a JSON object from the guest's `settings` in grants.yaml,
//! overridden by `--set`. Every key is optional; an unknown key or an out-of-range
//! value is an error naming it, so a typo never silently falls back to a default.

use deckhouse_hooks_sdk::Error;
use serde::Deserialize;

/// What the migrator reads from its settings.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    /// Objects per list page (1..=5000). Bounds the guest's memory: at most one page
    /// of raw JSON is held at a time.
    pub page_size: u32,
    /// Objects per `create-many` call (1..=1000); the host sends each batch
    /// concurrently, up to the guest's `limits.concurrency`.
    pub create_batch: u32,
    /// Pass 2 fails, naming every volume still waiting, when no volume has passed the
    /// adoption gate for this long (1..=604800).
    pub adoption_timeout_seconds: u64,
    /// How long to wait between two looks at the volumes waiting for adoption (1..=300).
    pub adoption_poll_seconds: u32,
    /// Seconds between two progress lines (1..=3600).
    pub progress_interval_seconds: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            page_size: 500,
            create_batch: 64,
            adoption_timeout_seconds: 1800,
            adoption_poll_seconds: 2,
            progress_interval_seconds: 5,
        }
    }
}

impl Settings {
    /// These settings once range-checked; the error names the value and its range.
    /// (Decoding is the SDK's: an unknown key or a wrong type is named there.)
    pub fn checked(&self) -> Result<Self, Error> {
        let ranges: [(&str, u64, u64, u64); 5] = [
            ("pageSize", self.page_size.into(), 1, 5000),
            ("createBatch", self.create_batch.into(), 1, 1000),
            (
                "adoptionTimeoutSeconds",
                self.adoption_timeout_seconds,
                1,
                604_800,
            ),
            (
                "adoptionPollSeconds",
                self.adoption_poll_seconds.into(),
                1,
                300,
            ),
            (
                "progressIntervalSeconds",
                self.progress_interval_seconds,
                1,
                3600,
            ),
        ];
        for (name, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err(Error::msg(format!(
                    "job settings: {name} is {value}, expected {min}..={max}"
                )));
            }
        }
        Ok(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deckhouse_hooks_sdk::job::settings;

    fn parse(text: &str) -> Result<Settings, String> {
        settings::<Settings>(text)
            .and_then(|s| s.checked())
            .map_err(String::from)
    }

    #[test]
    fn empty_and_partial_settings_fill_in_defaults() {
        assert_eq!(parse(""), Ok(Settings::default()));
        assert_eq!(parse("{}"), Ok(Settings::default()));
        let s = parse(r#"{"pageSize": 2, "createBatch": 3}"#).expect("valid");
        assert_eq!((s.page_size, s.create_batch), (2, 3));
        assert_eq!(s.adoption_timeout_seconds, 1800);
    }

    #[test]
    fn typos_wrong_types_and_ranges_are_named() {
        let typo = parse(r#"{"pagesize": 2}"#).expect_err("unknown key");
        assert!(
            typo.contains("pagesize") && typo.contains("pageSize"),
            "{typo}"
        );
        let wrong = parse(r#"{"pageSize": "big"}"#).expect_err("a string");
        assert!(wrong.contains("settings"), "{wrong}");
        let zero = parse(r#"{"createBatch": 0}"#).expect_err("zero");
        assert!(zero.contains("createBatch is 0"), "{zero}");
        assert!(parse("[1]").is_err());
    }
}
