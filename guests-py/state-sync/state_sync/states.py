"""The ordered migration states and which moves between them are accepted."""

from typing import Optional

UNKNOWN_STATE = "unknown_state"
REGRESSION = "regression"


class StateTable:
    """Ordered states: the first is where a migration starts (and restarts after a
    failure), the last means done."""

    def __init__(self, *states: str):
        if len(states) < 2 or len(set(states)) != len(states) or not all(states):
            raise ValueError(f"a state table needs two or more distinct, non-empty states: {states}")
        self.states = states

    @property
    def first(self) -> str:
        return self.states[0]

    @property
    def last(self) -> str:
        return self.states[-1]

    def position(self, state: Optional[str]) -> Optional[int]:
        return self.states.index(state) if state in self.states else None

    def judge(self, current: Optional[str], candidate: str) -> Optional[str]:
        """None when the move is accepted, else the rejection reason.

        Forward moves (jumps included) and staying put are fine. Backward moves are
        refused, except the recovery reset to the first state, never allowed out of the
        last one. An absent or unknown `current` accepts any known state, so a bad value
        is repaired."""
        to = self.position(candidate)
        if to is None:
            return UNKNOWN_STATE
        origin = self.position(current)
        if origin is None or to >= origin:
            return None
        recovery_reset = to == 0 and origin != len(self.states) - 1
        return None if recovery_reset else REGRESSION


SEED_STATES = StateTable(
    "not_started", "stage1_started", "stage1_completed", "stage2_started", "all_completed",
)
