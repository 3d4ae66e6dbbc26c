import unittest

from state_sync.states import REGRESSION, UNKNOWN_STATE, StateTable

T = StateTable("start", "middle", "late", "done")


class StateTableTest(unittest.TestCase):
    def test_forward_and_equal_moves_are_accepted(self):
        for i, origin in enumerate(T.states):
            for to in T.states[i:]:
                self.assertIsNone(T.judge(origin, to), f"{origin} -> {to}")

    def test_backward_moves_are_regressions_except_the_reset(self):
        self.assertEqual(T.judge("late", "middle"), REGRESSION)
        self.assertEqual(T.judge("done", "late"), REGRESSION)
        self.assertIsNone(T.judge("middle", "start"))
        self.assertIsNone(T.judge("late", "start"))

    def test_reset_out_of_the_last_state_is_refused(self):
        self.assertEqual(T.judge("done", "start"), REGRESSION)

    def test_unknown_candidate_is_refused_whatever_the_current(self):
        for current in (None, "start", "done", "bogus"):
            self.assertEqual(T.judge(current, "bogus"), UNKNOWN_STATE)
            self.assertEqual(T.judge(current, ""), UNKNOWN_STATE)

    def test_absent_or_unknown_current_accepts_any_known_state(self):
        for to in T.states:
            self.assertIsNone(T.judge(None, to))
            self.assertIsNone(T.judge("from_a_newer_guest", to))

    def test_malformed_tables_are_refused(self):
        for states in ((), ("only",), ("a", "a"), ("a", "")):
            with self.assertRaises(ValueError):
                StateTable(*states)


if __name__ == "__main__":
    unittest.main()
