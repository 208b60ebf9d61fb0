"""Job functions for the baselines; the worker imports them by name (PYTHONPATH has the root)."""

from __future__ import annotations


def noop(message_id: int) -> str:
    """The trivial job of the delivery baseline: takes an id like `deliver`, does nothing."""
    return "done"
