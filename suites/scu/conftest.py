"""Fixtures of the SCU checks: the scenarios, each played once per run against the SCU under test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from dcmconform.run.options import RunConfig
from dcmconform.harness.session import SESSION
from dcmconform.scu.trigger import Played, Player, ScuSettings, sample_files

SCENARIO_MARK = "scenario"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{SCENARIO_MARK}(name): the scenario the SCU check plays "
                                       "(dcmconform.scu.scenario.SCENARIOS); a waiting one is played in the background")


@pytest.fixture(scope="session")
def scu_player(dcm_config: RunConfig, tmp_path_factory: pytest.TempPathFactory,
               request: pytest.FixtureRequest) -> Iterator[Player]:
    cfg = dcm_config
    files = cfg.scu_files or sample_files(tmp_path_factory.mktemp("scu-files"))
    player = Player(ScuSettings(cfg.trigger, files, cfg.listen_aet, cfg.listen_host, cfg.listen_port or 0,
                                cfg.timeout, cfg.trigger_timeout))
    # The scenarios that wait for the SCU's own timer start now, for the selected checks that play them.
    player.prefetch(m.args[0] for item in request.session.items for m in item.iter_markers(SCENARIO_MARK))
    try:
        yield player
    finally:
        player.close()


@pytest.fixture
def scenario(scu_player: Player, pytestconfig: pytest.Config) -> Callable[[str], Played]:
    """``scenario(NAME)``: what the SCU did when our SCP played scenario NAME (dcmconform.scu.scenario.SCENARIOS).

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
