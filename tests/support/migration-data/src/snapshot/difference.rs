//! How two store snapshots differ, by key: a failing comparison names the objects
//! instead of dumping thousands of them.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// Keys only `expected` has, only `actual` has, and those whose objects differ.
#[derive(Debug, PartialEq, Eq)]
pub struct Difference {
    pub missing: Vec<String>,
    pub extra: Vec<String>,
    pub differ: Vec<String>,
}

impl Difference {
    /// `None` when the snapshots are equal.
    pub fn between(
        expected: &BTreeMap<String, Value>,
        actual: &BTreeMap<String, Value>,
    ) -> Option<Difference> {
        if expected == actual {
            return None;
        }
        let keys = |of: &BTreeMap<String, Value>, keep: &dyn Fn(&String) -> bool| {
            of.keys().filter(|k| keep(k)).cloned().collect()
        };
        Some(Difference {
            missing: keys(expected, &|k| !actual.contains_key(k)),
            extra: keys(actual, &|k| !expected.contains_key(k)),
            differ: keys(expected, &|k| {
                actual.get(k).is_some_and(|a| a != &expected[k])
            }),
        })
    }
}

/// One line per list, indented, for the end of a panic message.
impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            " missing: {:?}\n extra: {:?}\n differ: {:?}",
            self.missing, self.extra, self.differ
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_missing_extra_and_different_keys() {
        let expected = BTreeMap::from([
            ("a".to_owned(), json!(1)),
            ("b".to_owned(), json!(2)),
            ("c".to_owned(), json!(3)),
        ]);
        let actual = BTreeMap::from([
            ("b".to_owned(), json!(2)),
            ("c".to_owned(), json!(4)),
            ("d".to_owned(), json!(5)),
        ]);
        assert_eq!(Difference::between(&expected, &expected), None);
        let difference = Difference::between(&expected, &actual).expect("they differ");
        assert_eq!(
            difference.to_string(),
            " missing: [\"a\"]\n extra: [\"d\"]\n differ: [\"c\"]"
        );
    }
}
