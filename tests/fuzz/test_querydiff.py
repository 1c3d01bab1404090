"""``dcmconform querydiff`` finds and shrinks each planted matching bug of the zoo (the "query matching"
defects of peers/zoo/defects.yaml) within its default budget, its replay file shows it again, and the
clean zoo gives no finding. The zoo runs in a thread of this process (tests/conftest.py ``start_zoo``)."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from dcmconform.cli import main
from dcmconform.content import oracle
from dcmconform.content.strategies import MAX_INSTANCES, Query, Spec
from dcmconform.net.target import Endpoint

DEFECTS = [d["name"] for d in yaml.safe_load(
    (Path(__file__).parents[2] / "peers" / "zoo" / "defects.yaml").read_text())["defects"]["query matching"]]


def _zoo(start_zoo: Callable[..., Any], *defects: str) -> Endpoint:
    return Endpoint("ZOO", "127.0.0.1", start_zoo(defects=frozenset(defects)).server_address[1])


def querydiff(endpoint: Endpoint, report: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["querydiff", "--target", str(endpoint), "--timeout", "5", "--report-dir", str(report), *extra])
    return code, json.loads((report / "querydiff.json").read_text())


@pytest.mark.slow
def test_each_planted_matching_bug_is_found_shrunk_and_replayed(start_zoo: Callable[..., Any], tmp_path: Path) -> None:
    started = time.monotonic()
    missed = []
    for n, defect in enumerate(DEFECTS):
        zoo = _zoo(start_zoo, defect)
        code, doc = querydiff(zoo, tmp_path / defect, "--max-findings", "1", "--seed", str(n))
        assert doc["elapsed"] < doc["budget"] + 10
        if code != 1 or not doc["findings"]:
            missed.append(f"{defect}: {doc['examples']} examples, no finding")
            continue
        finding = doc["findings"][0]
        spec = Spec.from_json(finding["corpus_spec"])
        query = Query.from_json(finding["query_keys"])
        assert sum(s.instances for p in spec.patients for st in p.studies for s in st.series) <= MAX_INSTANCES
        # shrunk: the query tests one key (or the hierarchy alone), the corpus holds at most 2 patients
        assert len(query.matched()) <= 2 + (oracle.LEVELS.index(query.level) if query.level != "PATIENT" else 0)
        assert finding["expected_ids"] != finding["received_ids"]
        assert main(["querydiff", "--target", str(zoo), "--timeout", "5", "--report-dir", str(tmp_path / defect / "r"),
                     "--replay", finding["replay_file"]]) == 1, defect
    assert not missed, missed
    print(f"{len(DEFECTS)} planted bugs found in {time.monotonic() - started:.0f} s")


@pytest.mark.slow
def test_the_clean_zoo_gives_no_finding_and_every_object_is_listed(start_zoo: Callable[..., Any],
                                                                    tmp_path: Path) -> None:
    zoo = _zoo(start_zoo)
    code, doc = querydiff(zoo, tmp_path, "--budget", "8")
    assert code == 0 and doc["findings"] == [], doc["findings"]
    assert doc["examples"] > 0 and doc["queries"] >= doc["examples"]
    with (tmp_path / "stored-objects.csv").open() as fp:
        rows = list(csv.DictReader(fp))
    assert len(rows) == doc["objects_stored"] and all(r["check"] == "querydiff" and r["stored"] == "True" for r in rows)


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["querydiff", "--target", "ZOO@127.0.0.1:1", "--no-store", "--report-dir", str(tmp_path)]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["querydiff", "--target", "ZOO@127.0.0.1:1", "--replay", str(bad), "--report-dir", str(tmp_path)]) == 2
    assert main(["querydiff", "--peer", "dcmtk", "--defect", "match-no-universal"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 3 and "Traceback" not in err
