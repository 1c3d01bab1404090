"""Structured fuzzing with a liveness oracle: ``dcmconform fuzz`` and, as checks of ``run``, the area
``robustness`` (suites/robustness/test_fuzz.py: one check per phase, off by default)."""

from __future__ import annotations

# Each phase of the fuzzer as a check of `run` (suites/robustness/test_fuzz.py). They are opt-in: a run
# holds them only with --fuzz-budget, --only robustness, or --check naming one.
PHASE_CHECKS = {"associate": "ROBUST-007", "pdata": "ROBUST-008", "protocol": "ROBUST-009"}
OPT_IN = frozenset(PHASE_CHECKS.values())
DEFAULT_RUN_BUDGET = 60.0  # seconds for the three phase checks together when --fuzz-budget is not given


def opted_in(check_id: str, fuzz_budget: float | None, only: tuple[str, ...], checks: tuple[str, ...]) -> bool:
    """Whether a run with these options holds the check ``check_id`` (always, unless it is a fuzz phase)."""
    return check_id not in OPT_IN or bool(fuzz_budget) or "robustness" in only or check_id in checks
