"""Fixtures for the project's own tests (the product's fixtures live in dcmconform/plugin.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dcmconform.target import Endpoint


@pytest.fixture(scope="session")
def zoo_endpoint() -> Iterator[Endpoint]:
    """The clean zoo SCP in a thread of this process."""
    from dcmconform.peers.zoo.scp import ZooConfig, serve_in_thread

    server, thread = serve_in_thread(ZooConfig())
    try:
        yield Endpoint("ZOO", "127.0.0.1", server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
