"""The target string: AET@HOST:PORT, with a clear message for every way it can be wrong."""

import pytest

from dcmconform.net.target import Endpoint, TargetError


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("PACS@127.0.0.1:104", Endpoint("PACS", "127.0.0.1", 104)),
        ("ORTHANC@[::1]:4242", Endpoint("ORTHANC", "::1", 4242)),
        ("A B@localhost:11112", Endpoint("A B", "localhost", 11112)),
    ],
)
def test_parses(spec: str, expected: Endpoint) -> None:
    assert Endpoint.parse(spec) == expected
    assert Endpoint.parse(str(expected)) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("bad", "is not AET@HOST:PORT"),
        ("PACS@127.0.0.1", "is not AET@HOST:PORT"),
        ("@127.0.0.1:104", "empty AE title"),
        ("SEVENTEEN_CHARS_X@127.0.0.1:104", "at most 16"),
        ("PA\\CS@127.0.0.1:104", "backslash"),
        ("PACS@127.0.0.1:0", "outside 1-65535"),
        ("PACS@127.0.0.1:70000", "outside 1-65535"),
    ],
)
def test_rejects_with_reason(spec: str, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        Endpoint.parse(spec)
