"""The fast ODCS validators (jsonschema-rs) and the detailed ones (python-jsonschema) agree.

Valid contracts skip the detailed validator, so a contract the fast one
accepts must have no error in the detailed one, and the other way round, for
the schema of every ODCS release.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from compiler.stages.read.load import load_file
from compiler.stages.validate.odcs_schemas import VERSIONS, detailed_errors, fast_validator, validator

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    ROOT / "examples",
    ROOT / "tests" / "cases",
    ROOT / "policies",
    ROOT.parent / "shared" / "odcs-examples",
]


def contracts() -> list[tuple[str, Any]]:
    found = []
    for folder in SOURCES:
        for path in sorted(folder.rglob("*.yaml")):
            for document in load_file(path, path.name).documents:
                data = document.data
                if isinstance(data, dict) and data.get("kind") == "DataContract":
                    found.append((f"{path.relative_to(folder.parent)}#{document.index}", data))
    return found


def mutations(data: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key in ("id", "version", "status", "apiVersion"):
        broken = copy.deepcopy(data)
        broken.pop(key, None)
        out.append(broken)
    for value in (5, [1], {"x": 1}, None):
        broken = copy.deepcopy(data)
        broken["status"] = value
        out.append(broken)
    broken = copy.deepcopy(data)
    broken["colour"] = "blue"
    out.append(broken)
    if isinstance(data.get("schema"), list) and data["schema"]:
        broken = copy.deepcopy(data)
        broken["schema"][0]["properties"] = [{"name": "x", "logicalType": "nonsense"}]
        out.append(broken)
        broken = copy.deepcopy(data)
        broken["schema"][0]["properties"] = [{"name": "x", "quality": [{"metric": "nullValues", "mustBe": "a"}]}]
        out.append(broken)
    return out


CONTRACTS = contracts()


def test_there_are_contracts_to_compare() -> None:
    assert len(CONTRACTS) >= 20


@pytest.mark.parametrize(("where", "data"), CONTRACTS, ids=[where for where, _ in CONTRACTS])
def test_fast_and_detailed_validators_agree(where: str, data: dict[str, Any]) -> None:
    for version in VERSIONS:
        for candidate in [{**data, "apiVersion": version}, *mutations(data)]:
            fast = fast_validator(version).is_valid(candidate)
            detailed = not any(True for _ in validator(version).iter_errors(candidate))
            assert fast == detailed, (where, version, candidate)
            # The errors explained where jsonschema-rs found them: some whenever there are any.
            assert bool(detailed_errors(version, candidate)) == (not fast), (where, version, candidate)
