"""A node that accepts and then never reads (issue 28) cost 39 minutes: DIMSE-005 and DIMSE-006 tried
each of 48 objects, each waiting the timeouts. Now two C-STOREs in a row with no response end the
storing, and the check says how many were not tried."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dcmconform.suites.dimse.storing import SILENT_IN_A_ROW
from tests.hostile.conftest import ChildRun
from tests.hostile.server import HostileServer
from tests.hostile.test_bounds import assert_bounded


@pytest.mark.slow  # one run of one check against a node that never reads (about 15 s)
@pytest.mark.parametrize("hostile_server", ["stop-reading"], indirect=True)
def test_a_node_that_never_reads_fails_the_store_check_within_a_few_stores(
        hostile_server: HostileServer, run_checks: Callable[..., ChildRun]) -> None:
    run = run_checks(hostile_server, ["DIMSE-006"], timeout=1, hard=120)
    assert_bounded(run, 60)  # before: 48 stores, each waiting its timeouts
    result = run.result("DIMSE-006")
    assert result["outcome"] == "fail", result["summary"]
    assert f"0 success, 0 warning, {SILENT_IN_A_ROW} failed of {SILENT_IN_A_ROW} stored" in result["summary"]
    assert "more not tried: the target stopped answering" in result["summary"]
