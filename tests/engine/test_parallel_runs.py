"""``childrun.parallel``: the whole-suite runs of selftest and matrix, several at a time."""

from __future__ import annotations

import threading
import time

import pytest

from dcmconform.run.childrun import default_workers, parallel


def test_results_come_by_name_in_the_order_given_whatever_ends_first() -> None:
    delays = {"slow": 0.3, "fast": 0.0, "middle": 0.1}
    seen: list[str] = []
    busy = {"now": 0, "most": 0}
    lock = threading.Lock()

    def job(name: str, cancel: threading.Event) -> str:
        with lock:
            busy["now"] += 1
            busy["most"] = max(busy["most"], busy["now"])
        time.sleep(delays[name])
        with lock:
            busy["now"] -= 1
            seen.append(name)
        return name.upper()

    got = parallel(list(delays), job, 2)
    assert list(got.items()) == [("slow", "SLOW"), ("fast", "FAST"), ("middle", "MIDDLE")]
    assert seen[-1] == "slow" and busy["most"] == 2


def test_a_job_that_breaks_cancels_the_others() -> None:
    stopped = threading.Event()

    def job(name: str, cancel: threading.Event) -> None:
        if name == "broken":
            time.sleep(0.05)
            raise RuntimeError("the zoo did not start")
        if cancel.wait(10):  # a run_suite given this event interrupts its child here
            stopped.set()

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="did not start"):
        parallel(["waiting", "broken"], job, 2)
    assert stopped.is_set() and time.monotonic() - started < 5


def test_default_workers_is_one_per_core_within_bounds() -> None:
    assert 1 <= default_workers() <= 4
