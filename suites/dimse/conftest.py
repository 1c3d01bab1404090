"""Fixtures of the DIMSE checks: the synthetic objects (fresh UIDs per check) and storing them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dcmconform.fixtures.catalogue import Catalogue, Variant
from dcmconform.fixtures.plugin import dicom_catalogue, fixture_cache, fixture_nonce  # noqa: F401
from dcmconform.run.options import RunConfig
from dcmconform.suites.dimse.storing import Stored, store_catalogue
from dcmconform.net.target import Endpoint


@pytest.fixture
def store_objects(target: Endpoint, dcm_config: RunConfig,
                  dicom_catalogue: Catalogue) -> Callable[..., list[Stored]]:  # noqa: F811
    """``store_objects(variants=None)``: C-STORE each (default: every variant), one association each."""

    def run(variants: list[Variant] | None = None) -> list[Stored]:
        return store_catalogue(target, dcm_config.calling_aet, dcm_config.timeout, dicom_catalogue, variants)

    return run
