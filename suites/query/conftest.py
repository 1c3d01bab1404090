"""Fixtures of the query checks: the query corpus, stored once per run (per target incarnation) and shared."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dcmconform.content.corpus import Corpus, build
from dcmconform.fixtures.plugin import fixture_cache, fixture_nonce  # noqa: F401
from dcmconform.net.target import Endpoint
from dcmconform.run.options import RunConfig
from dcmconform.suites.dimse.storing import Stored, store


@dataclass
class StoredCorpus:
    """The corpus and how storing it went on this target."""

    corpus: Corpus
    stored: list[Stored] = field(default_factory=list)
    # Per model: the first query of the run the node never finished (no final C-FIND response), in words.
    # Later checks do not wait for it again (each wait costs --timeout); they fail naming it.
    unanswered: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.stored) and all(s.status is not None and s.status.category in ("success", "warning")
                                         for s in self.stored)

    def problem(self) -> str:
        bad = [s for s in self.stored if s.status is None or s.status.category not in ("success", "warning")]
        return "; ".join(s.line(0) for s in bad[:3]) + (f" (and {len(bad) - 3} more)" if len(bad) > 3 else "")


@pytest.fixture(scope="session")
def _query_corpora() -> dict[tuple[str, int], StoredCorpus]:
    """The corpus stored on each target incarnation of this run (a restarted peer starts empty)."""
    return {}


@pytest.fixture
def query_corpus(target: Endpoint, dcm_config: RunConfig, fixture_cache: Path, fixture_nonce: str,  # noqa: F811
                 _query_corpora: dict[tuple[str, int], StoredCorpus]) -> StoredCorpus:
    """The query corpus (dcmconform.content.corpus), stored on the target by the first check that needs it
    in this run; every later query check reuses it. Storing stops at the first object the target refuses."""
    key = (target.host, target.port)
    if key not in _query_corpora:
        corpus = build(f"{fixture_nonce}/query-corpus")
        done = StoredCorpus(corpus)
        for obj, path in corpus.files(fixture_cache):
            result = store(target, dcm_config.calling_aet, dcm_config.timeout, path, obj.variant)
            done.stored.append(result)
            if result.status is None or result.status.category not in ("success", "warning"):
                break
        _query_corpora[key] = done
    return _query_corpora[key]
