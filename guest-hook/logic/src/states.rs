//! The ordered migration states a guest knows and which moves between them it accepts.
//!
//! The table is data compiled into each guest, never into the host: a module author adds
//! states by shipping a guest with a longer table.

/// Why a state read from the ConfigMap was not taken over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Not a state of this table (a typo, or a state of a newer guest).
    UnknownState,
    /// Earlier than the current state, and not the allowed recovery reset.
    Regression,
}

impl Rejection {
    /// The `reason` label of the rejection metric.
    pub fn as_label(self) -> &'static str {
        match self {
            Self::UnknownState => "unknown_state",
            Self::Regression => "regression",
        }
    }
}

/// Ordered states: the first is where a migration starts (and restarts after a failure),
/// the last means done. Build it in a `const` so a malformed table fails the build.
#[derive(Clone, Copy, Debug)]
pub struct StateTable {
    states: &'static [&'static str],
}

/// Gives a guest type its table, so one generic component serves every table.
pub trait Table {
    const TABLE: StateTable;
}

impl StateTable {
    /// A table of at least two distinct, non-empty states, in migration order.
    pub const fn new(states: &'static [&'static str]) -> Self {
        assert!(
            states.len() >= 2,
            "a state table needs a first and a last state"
        );
        let mut i = 0;
        while i < states.len() {
            assert!(!states[i].is_empty(), "a state name cannot be empty");
            let mut j = i + 1;
            while j < states.len() {
                assert!(
                    !const_str_eq(states[i], states[j]),
                    "state names must be unique"
                );
                j += 1;
            }
            i += 1;
        }
        Self { states }
    }

    /// All states in order.
    pub fn states(&self) -> &'static [&'static str] {
        self.states
    }

    /// Where a migration starts; the recovery procedure resets the ConfigMap to it.
    pub fn first(&self) -> &'static str {
        self.states.first().copied().unwrap_or_default()
    }

    /// The finished state; a fresh install without LINSTOR starts here.
    pub fn last(&self) -> &'static str {
        self.states.last().copied().unwrap_or_default()
    }

    /// The index of `state`, or None when this table does not know it.
    pub fn position(&self, state: &str) -> Option<usize> {
        self.states.iter().position(|s| *s == state)
    }

    /// The table's own spelling of `state`, when it knows it.
    pub fn canonical(&self, state: &str) -> Option<&'static str> {
        self.states.iter().copied().find(|s| *s == state)
    }

    /// Whether the move from `current` to `candidate` is accepted.
    ///
    /// Forward moves (jumps included) and staying put are fine. Backward moves are
    /// refused, except the seed's recovery reset to the first state, which is never
    /// allowed out of the last one: a finished migration must not run again. An
    /// absent or unknown `current` accepts any known state, so a bad value is repaired.
    pub fn judge(&self, current: Option<&str>, candidate: &str) -> Result<(), Rejection> {
        let to = self.position(candidate).ok_or(Rejection::UnknownState)?;
        let Some(from) = current.and_then(|c| self.position(c)) else {
            return Ok(());
        };
        let recovery_reset = to == 0 && from != self.states.len() - 1;
        if to >= from || recovery_reset {
            Ok(())
        } else {
            Err(Rejection::Regression)
        }
    }
}

/// `==` on strings, usable in a `const fn`.
const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: StateTable = StateTable::new(&["start", "middle", "late", "done"]);

    #[test]
    fn ends_and_positions() {
        assert_eq!(T.first(), "start");
        assert_eq!(T.last(), "done");
        assert_eq!(T.position("late"), Some(2));
        assert_eq!(T.position("Late"), None);
        assert_eq!(T.canonical("middle"), Some("middle"));
    }

    #[test]
    fn forward_and_equal_moves_are_accepted() {
        for (i, from) in T.states().iter().enumerate() {
            for to in &T.states()[i..] {
                assert_eq!(T.judge(Some(from), to), Ok(()), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn backward_moves_are_regressions_except_the_reset() {
        assert_eq!(T.judge(Some("late"), "middle"), Err(Rejection::Regression));
        assert_eq!(T.judge(Some("done"), "late"), Err(Rejection::Regression));
        assert_eq!(T.judge(Some("middle"), "start"), Ok(()));
        assert_eq!(T.judge(Some("late"), "start"), Ok(()));
    }

    #[test]
    fn reset_out_of_the_last_state_is_refused() {
        assert_eq!(T.judge(Some("done"), "start"), Err(Rejection::Regression));
    }

    #[test]
    fn unknown_candidate_is_refused_whatever_the_current() {
        for current in [None, Some("start"), Some("done"), Some("bogus")] {
            assert_eq!(T.judge(current, "bogus"), Err(Rejection::UnknownState));
            assert_eq!(T.judge(current, ""), Err(Rejection::UnknownState));
        }
    }

    #[test]
    fn absent_or_unknown_current_accepts_any_known_state() {
        for to in T.states() {
            assert_eq!(T.judge(None, to), Ok(()));
            assert_eq!(T.judge(Some("from_a_newer_guest"), to), Ok(()));
        }
    }

    #[test]
    fn reasons_have_stable_labels() {
        assert_eq!(Rejection::UnknownState.as_label(), "unknown_state");
        assert_eq!(Rejection::Regression.as_label(), "regression");
    }

    #[test]
    fn const_str_eq_compares_bytes() {
        assert!(const_str_eq("a_b", "a_b"));
        assert!(!const_str_eq("a_b", "a_c"));
        assert!(!const_str_eq("a", "ab"));
    }
}
