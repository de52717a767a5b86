"""The catalogue of codes: every finding Charter reports has one, with its severity and documentation.

Codes never change meaning once published. The catalogue is data, in
`compiler/catalogue/*.toml` (one file per family of producers), read once; `charter
explain CODE` and the docs come from it, and a test fails on a code used anywhere in
Charter that it does not hold.

Families: CH1xx reading YAML, CH2xx spec schema, CH3xx data contracts (ODCS), CH4xx
references across files, CH5xx policies and waivers, CH6xx breaking changes (`charter
plan`; each code's name is the rule id the plan shows, such as `policy-pack-removed`),
CH7xx runtime gate checks (`charter gate`), CH8xx evidence records, CH9xx the run itself.
"""

from __future__ import annotations

import enum
import re
import textwrap
import tomllib
from dataclasses import dataclass
from importlib import resources


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Code:
    id: str
    name: str
    severity: Severity
    title: str
    doc: str

    @property
    def explanation(self) -> str:
        return textwrap.dedent(self.doc).strip()


class UnknownCode(KeyError):
    """A code that the catalogue does not hold: a bug in Charter, caught before any user sees it."""


# One file per family of producers, in the order `charter explain --list` shows them.
CATALOGUE_FILES = ("check.toml", "plan.toml", "gates.toml")
_ID = re.compile(r"CH[1-9]\d\d")


def _read_catalogue() -> tuple[Code, ...]:
    folder = resources.files("compiler") / "catalogue"
    codes: list[Code] = []
    for file_name in CATALOGUE_FILES:
        data = tomllib.loads((folder / file_name).read_text(encoding="utf-8"))
        for entry in data["code"]:
            if not _ID.fullmatch(entry["id"]):
                raise ValueError(f"{file_name}: malformed code id {entry['id']!r}")
            codes.append(Code(entry["id"], entry["name"], Severity(entry["severity"]), entry["title"], entry["doc"]))
    return tuple(sorted(codes, key=lambda code: code.id))


_CATALOGUE: tuple[Code, ...] = _read_catalogue()
CODES: dict[str, Code] = {code.id: code for code in _CATALOGUE}
BY_NAME: dict[str, Code] = {code.name: code for code in _CATALOGUE}


def all_codes() -> tuple[Code, ...]:
    return _CATALOGUE


def lookup(key: str) -> Code | None:
    """A code by id (`CH200`, case-insensitive) or by name (`unknown-field`, `policy-pack-removed`)."""
    return CODES.get(key.upper()) or BY_NAME.get(key.lower())


def registered(key: str) -> Code:
    """The code `key` (an id or a name); UnknownCode when the catalogue does not hold it."""
    found = lookup(key)
    if found is None:
        raise UnknownCode(f"{key!r} is not in the catalogue of codes (compiler/catalogue/)")
    return found


def severity_of(key: str) -> Severity:
    """The severity the catalogue gives a code: what a finding has unless its design lets it be set."""
    return registered(key).severity
