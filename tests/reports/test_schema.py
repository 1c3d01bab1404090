"""The JSON document of real runs follows reports/schema.json, and the schema can say no."""

from __future__ import annotations

import copy
import json
from importlib.resources import files
from typing import Any

import jsonschema
import pytest

from dcmconform.reports.document import OUTCOMES, SCHEMA, SCHEMA_FILE, counts


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_the_schema_ships_with_the_package_and_names_the_version() -> None:
    shipped = files("dcmconform.reports").joinpath("schema.json")
    schema = json.loads(shipped.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema"]["const"] == SCHEMA
    assert schema["$defs"]["outcome"]["enum"] == OUTCOMES


@pytest.mark.parametrize("run", ["zoo_run", "outcomes_run", "embedded_run"])
def test_real_documents_validate(run: str, request: pytest.FixtureRequest,
                                 validator: jsonschema.Draft202012Validator) -> None:
    document = request.getfixturevalue(run).document()
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    assert document["counts"] == counts(document["results"])
    assert document["results"], "the run produced no result"


def _broken(document: dict[str, Any], how: str) -> dict[str, Any]:
    doc = copy.deepcopy(document)
    first = doc["results"][0]
    if how == "no clause":
        del first["clause"]
    elif how == "unknown outcome":
        first["outcome"] = "passed"
    elif how == "verdict without evidence":
        first["outcome"], first["evidence"] = "pass", []
    elif how == "other schema":
        doc["schema"] = "dcmconform/9"
    elif how == "count as text":
        doc["counts"]["pass"] = "3"
    elif how == "no implementation uid key":
        del doc["target"]["implementation_class_uid"]
    return doc


@pytest.mark.parametrize("how", ["no clause", "unknown outcome", "verdict without evidence", "other schema",
                                 "count as text", "no implementation uid key"])
def test_the_schema_rejects_a_broken_document(how: str, zoo_run: Any, validator: jsonschema.Draft202012Validator) -> None:
    assert validator.is_valid(zoo_run.document())
    assert not validator.is_valid(_broken(zoo_run.document(), how))


def test_extensions_stay_valid(zoo_run: Any, validator: jsonschema.Draft202012Validator) -> None:
    """Extend, never break: a field added later must not make a dcmconform/2 document invalid."""
    doc = zoo_run.document()
    doc["machine"] = {"os": "linux"}
    doc["results"][0]["profile_claim"] = "accepted"
    doc["target"]["tls"] = False
    assert validator.is_valid(doc)
