"""Report fixtures for the run's decision (tests/reports/test_decision.py), not conformance checks: the pass,
warn, fail and info fixtures of outcome_checks.py (each after a real association with the target) without its
n.a. and error ones, so that a baseline file and --fail-on can be played against a whole run of them."""

from __future__ import annotations

from outcome_checks import test_reaches_fail, test_reaches_info, test_reaches_pass, test_reaches_warn

__all__ = ["test_reaches_fail", "test_reaches_info", "test_reaches_pass", "test_reaches_warn"]
