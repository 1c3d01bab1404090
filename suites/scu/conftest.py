"""Fixtures of the SCU checks: the scenarios, each played once per run against the SCU under test."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dcmconform.options import RunConfig
from dcmconform.trigger import Played, Player, ScuSettings, sample_files


@pytest.fixture(scope="session")
def scu_player(dcm_config: RunConfig, tmp_path_factory: pytest.TempPathFactory) -> Player:
    cfg = dcm_config
    files = cfg.scu_files or sample_files(tmp_path_factory.mktemp("scu-files"))
    return Player(ScuSettings(cfg.trigger, files, cfg.listen_aet, cfg.listen_host, cfg.listen_port or 0,
                              cfg.timeout, cfg.trigger_timeout))


@pytest.fixture
def scenario(scu_player: Player) -> Callable[[str], Played]:
    """``scenario(NAME)``: what the SCU did when our SCP played scenario NAME (dcmconform.scenario.SCENARIOS)."""
    return scu_player
