//! The Job's settings: a JSON object from the guest's `settings` in grants.yaml,
//! overridden by `--set`. Every key is optional; an unknown key or an out-of-range
//! value is an error naming it, so a typo never silently falls back to a default.

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
    /// Parses and range-checks the settings JSON; an empty string means all defaults.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let known = "known settings are pageSize, createBatch, adoptionTimeoutSeconds, \
                     adoptionPollSeconds and progressIntervalSeconds";
        let settings: Self = if text.is_empty() {
            Self::default()
        } else {
            let value: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| format!("job settings are not JSON: {e}"))?;
            if !value.is_object() {
                return Err(format!(
                    "job settings must be a JSON object, got {value}; {known}"
                ));
            }
            serde_json::from_value(value).map_err(|e| format!("job settings: {e}; {known}"))?
        };
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), String> {
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
                return Err(format!(
                    "job settings: {name} is {value}, expected {min}..={max}"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_partial_settings_fill_in_defaults() {
        assert_eq!(Settings::parse(""), Ok(Settings::default()));
        assert_eq!(Settings::parse("{}"), Ok(Settings::default()));
        let s = Settings::parse(r#"{"pageSize": 2, "createBatch": 3}"#).expect("valid");
        assert_eq!((s.page_size, s.create_batch), (2, 3));
        assert_eq!(s.adoption_timeout_seconds, 1800);
    }

    #[test]
    fn typos_wrong_types_and_ranges_are_named() {
        let typo = Settings::parse(r#"{"pagesize": 2}"#).expect_err("unknown key");
        assert!(
            typo.contains("pagesize") && typo.contains("pageSize"),
            "{typo}"
        );
        let wrong = Settings::parse(r#"{"pageSize": "big"}"#).expect_err("a string");
        assert!(wrong.contains("job settings"), "{wrong}");
        let zero = Settings::parse(r#"{"createBatch": 0}"#).expect_err("zero");
        assert!(zero.contains("createBatch is 0"), "{zero}");
        assert!(Settings::parse("[1]").is_err());
    }
}
