"""Fixtures of the SCU checks: the scenarios, each played once per run against the SCU under test."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dcmconform.options import RunConfig
from dcmconform.session import SESSION
from dcmconform.trigger import Played, Player, ScuSettings, sample_files


@pytest.fixture(scope="session")
def scu_player(dcm_config: RunConfig, tmp_path_factory: pytest.TempPathFactory) -> Player:
    cfg = dcm_config
    files = cfg.scu_files or sample_files(tmp_path_factory.mktemp("scu-files"))
    return Player(ScuSettings(cfg.trigger, files, cfg.listen_aet, cfg.listen_host, cfg.listen_port or 0,
                              cfg.timeout, cfg.trigger_timeout))


@pytest.fixture
def scenario(scu_player: Player, pytestconfig: pytest.Config) -> Callable[[str], Played]:
    """``scenario(NAME)``: what the SCU did when our SCP played scenario NAME (dcmconform.scenario.SCENARIOS).

    The first A-ASSOCIATE-RQ seen names the SCU under test in the report (its calling AE, implementation)."""
    info = pytestconfig.stash[SESSION].scu_info if SESSION in pytestconfig.stash else {}

    def play(name: str) -> Played:
        played = scu_player(name)
        rq = next((a.request for a in played.attempts if a.request is not None), None)
        if rq is not None and not info:
            info.update(ae_title=rq.calling_ae.rstrip(" "), implementation_class_uid=rq.implementation_class_uid,
                        implementation_version_name=rq.implementation_version_name)
        return played

    return play
