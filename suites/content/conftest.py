"""Fixtures of the content checks: the content set, stored and read back once per run and target."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcmconform.fixtures.catalogue import Catalogue
from dcmconform.fixtures.plugin import fixture_cache, fixture_nonce  # noqa: F401
from dcmconform.harness.state import TargetState
from dcmconform.net.target import Endpoint, MoveDestination
from dcmconform.run.options import RunConfig
from dcmconform.suites.content.objects import ContentRun, Shared
from dcmconform.suites.content.rest import rest_url_of


@pytest.fixture(scope="session")
def content_set(fixture_cache: Path, fixture_nonce: str) -> Shared:  # noqa: F811
    """The content set of this run (fresh UIDs per run), stored on first use."""
    return Shared(Catalogue(salt=f"{fixture_nonce}/content", cache=fixture_cache), fixture_cache / "content")


@pytest.fixture
def content(content_set: Shared, target: Endpoint, dcm_config: RunConfig, move_destination: MoveDestination,
            target_state: TargetState) -> ContentRun:
    """The content set as stored on the target and read back (made by the first check that asks): C-GET,
    then C-MOVE to our storage SCP for what C-GET did not give back; and over the REST API of a reference
    peer that has one."""
    return content_set.get(target, dcm_config.calling_aet, dcm_config.timeout, move_destination,
                           rest_url_of(target_state.peer))
