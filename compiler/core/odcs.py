"""An Open Data Contract Standard v3 document read once into typed parts: schema objects (tables), their
properties (columns), quality rules, servers and SLA properties, as Charter uses them.

The contract was validated against the official ODCS JSON Schema of its apiVersion; this reader still takes
any data (a base revision in `charter plan` may be invalid) and skips, without failing, what is not the shape
the standard gives: a table, a column or a server that is not a mapping, a column without a string name. Each
part keeps its position in the document (`path`, `index`) and the mapping as written (`raw`), for what Charter
does not type (the body of a quality rule). A server's connection fields read as written, since the endpoint
checks run on invalid contracts too and report a bad value by its text.

Every reader of a contract goes through it (tests/test_odcs_reader.py checks that no other module reads ODCS
keys raw): resolve (`compiler.core.contracts`, server references, endpoints, DVC files), rendering (which
server a job reads, its cloud and engine), the gates (tables and rules, servers, Spark, Snowflake, databases),
evidence verification, and the plan (breaking changes, endpoints, data versions, owners).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from compiler.core.diagnostics import PathSegment

# Custom properties that list a column's allowed values, as teams write them before ODCS v3.2's `enum`.
ENUM_PROPERTIES = ("enum", "validValues", "allowedValues")
# The custom property of a server that names the DVC file tracking its data.
DVC_PROPERTY = "dvc"


@dataclass(frozen=True)
class QualityRule:
    """One entry of a `quality` list (of a table or a column)."""

    index: int
    raw: dict[str, Any]

    @property
    def metric(self) -> Any:
        """The library metric it measures (`metric`, or `rule` in contracts before ODCS v3.1)."""
        return self.raw.get("metric", self.raw.get("rule"))

    @property
    def valid_values(self) -> list[Any] | None:
        """The `arguments.validValues` of an `invalidValues` rule, as written; None without a list."""
        arguments = self.raw.get("arguments")
        valid = arguments.get("validValues") if isinstance(arguments, dict) else None
        return valid if isinstance(valid, list) else None


@dataclass(frozen=True)
class Property:
    """A column of a schema object."""

    name: str
    table: str
    path: tuple[PathSegment, ...]
    raw: dict[str, Any]
    quality: tuple[QualityRule, ...]

    @property
    def physical_name(self) -> str | None:
        return _str(self.raw.get("physicalName"))

    @property
    def logical_type(self) -> str | None:
        return _str(self.raw.get("logicalType"))

    @property
    def type_options(self) -> dict[str, Any]:
        options = self.raw.get("logicalTypeOptions")
        return options if isinstance(options, dict) else {}

    @property
    def required(self) -> bool:
        return self.raw.get("required") is True

    @property
    def unique(self) -> bool:
        return self.raw.get("unique") is True

    @property
    def classification(self) -> str | None:
        return _str(self.raw.get("classification"))

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(str(tag) for tag in _list(self.raw.get("tags")))

    @property
    def has_quality(self) -> bool:
        """Whether it declares quality rules at all."""
        return bool(self.raw.get("quality"))

    @property
    def enum(self) -> list[Any] | None:
        """ODCS v3.2's `enum`, each value as written (an item `{value: ...}` is its value); None without a list."""
        enum = self.raw.get("enum")
        if not isinstance(enum, list):
            return None
        return [item.get("value") if isinstance(item, dict) else item for item in enum]

    @property
    def custom_allowed(self) -> tuple[str, list[Any]] | None:
        """The first custom property (`enum`, `validValues`, `allowedValues`) listing allowed values."""
        for custom in _list(self.raw.get("customProperties")):
            if isinstance(custom, dict) and custom.get("property") in ENUM_PROPERTIES:
                values = custom.get("value")
                if isinstance(values, list):
                    return str(custom["property"]), values
        return None


@dataclass(frozen=True)
class SchemaObject:
    """A table of the contract (an ODCS schema object) with its columns and table-level quality rules."""

    name: str
    index: int
    raw: dict[str, Any]
    properties: tuple[Property, ...]
    quality: tuple[QualityRule, ...]

    @property
    def physical_name(self) -> str | None:
        return _str(self.raw.get("physicalName"))

    @property
    def declared_name(self) -> str | None:
        """Its `name` when it writes one as a string (`name` reads anything else as text)."""
        return _str(self.raw.get("name"))


@dataclass(frozen=True)
class CustomProperty:
    """An entry of a `customProperties` list: `property` and `value` as written."""

    index: int
    property: Any
    value: Any


@dataclass(frozen=True)
class Server:
    """An entry of `servers`: where the contract's data lives.

    The connection fields read as written (Any): the endpoint checks run on contracts that may be invalid, and
    report a non-string `region` or `host` by its value.
    """

    index: int
    raw: dict[str, Any]

    @property
    def name(self) -> Any:
        return self.raw.get("server")

    @property
    def kind(self) -> str | None:
        """Its `type` (`s3`, `postgres`, `local`...); None when it is not a string."""
        return _str(self.raw.get("type"))

    @property
    def location(self) -> Any:
        return self.raw.get("location")

    @property
    def path(self) -> Any:
        return self.raw.get("path")

    @property
    def local_path(self) -> str | None:
        """The `path` of a `local` server, when it is a string."""
        return _str(self.raw.get("path")) if self.kind == "local" else None

    @property
    def format(self) -> Any:
        return self.raw.get("format")

    @property
    def delimiter(self) -> Any:
        return self.raw.get("delimiter")

    @property
    def region(self) -> Any:
        return self.raw.get("region")

    @property
    def endpoint_url(self) -> Any:
        return self.raw.get("endpointUrl")

    @property
    def host(self) -> Any:
        return self.raw.get("host")

    @property
    def port(self) -> Any:
        return self.raw.get("port")

    @property
    def database(self) -> Any:
        return self.raw.get("database")

    @property
    def schema(self) -> Any:
        return self.raw.get("schema")

    @property
    def catalog(self) -> Any:
        return self.raw.get("catalog")

    @property
    def account(self) -> Any:
        return self.raw.get("account")

    @property
    def warehouse(self) -> Any:
        return self.raw.get("warehouse")

    @property
    def project(self) -> Any:
        """A BigQuery server's Google Cloud project."""
        return self.raw.get("project")

    @property
    def dataset(self) -> Any:
        """A BigQuery server's dataset."""
        return self.raw.get("dataset")

    def text(self, field: str) -> str:
        """A connection field as the drivers take it: its text, empty when the entry does not write it."""
        return str(self.raw.get(field, ""))

    def writes(self, field: str) -> bool:
        """Whether the entry writes this field at all (a finding points at it then, else at the entry)."""
        return field in self.raw

    @property
    def custom_properties(self) -> tuple[CustomProperty, ...]:
        """Its `customProperties` entries that are mappings, each with its position in the list."""
        return tuple(
            CustomProperty(i, entry.get("property"), entry.get("value"))
            for i, entry in enumerate(_list(self.raw.get("customProperties")))
            if isinstance(entry, dict)
        )

    def custom_entry(self, name: str) -> CustomProperty | None:
        """The first `customProperties` entry about `name`, whatever its value."""
        return next((entry for entry in self.custom_properties if entry.property == name), None)

    def custom(self, name: str) -> str | None:
        """The value of the first `customProperties` entry about `name` whose value is a string."""
        for entry in self.custom_properties:
            if entry.property == name and isinstance(entry.value, str):
                return entry.value
        return None

    @property
    def dvc_file(self) -> str | None:
        """The DVC file (`.dvc` or `dvc.lock`) its `customProperties: [{property: dvc, value: ...}]` names."""
        return self.custom(DVC_PROPERTY)

    @property
    def dvc_position(self) -> int | None:
        """Where in `customProperties` the `dvc` entry is (a finding about the DVC file points at its value)."""
        entry = self.custom_entry(DVC_PROPERTY)
        return entry.index if entry is not None else None

    @property
    def engine(self) -> str | None:
        """Its `customProperties` `engine` (`spark` reads its files with Spark)."""
        return self.custom("engine")


@dataclass(frozen=True)
class SlaProperty:
    """An entry of `slaProperties`."""

    index: int
    raw: dict[str, Any]

    @property
    def name(self) -> Any:
        """Its `property`: what the SLA is about (`latency`, `availability`...)."""
        return self.raw.get("property")

    @property
    def element(self) -> str | None:
        return _str(self.raw.get("element"))

    @property
    def value(self) -> Any:
        return self.raw.get("value")

    @property
    def unit(self) -> Any:
        return self.raw.get("unit")


@dataclass(frozen=True)
class Odcs:
    """A contract document, typed; `data` is the document as written.

    Each part is read when first asked for: most callers want the servers only, and resolve asks for them
    five times per contract; reading every column's quality rules each time was most of that (issue 26).
    """

    data: dict[str, Any]

    @cached_property
    def schema(self) -> tuple[SchemaObject, ...]:
        return tuple(
            _schema_object(index, table)
            for index, table in enumerate(_list(self.data.get("schema")))
            if isinstance(table, dict)
        )

    @cached_property
    def servers(self) -> tuple[Server, ...]:
        return tuple(Server(i, s) for i, s in enumerate(_list(self.data.get("servers"))) if isinstance(s, dict))

    @cached_property
    def sla(self) -> tuple[SlaProperty, ...]:
        return tuple(
            SlaProperty(i, s) for i, s in enumerate(_list(self.data.get("slaProperties"))) if isinstance(s, dict)
        )

    @property
    def id(self) -> str:
        return str(self.data.get("id", ""))

    @property
    def name(self) -> str | None:
        return _str(self.data.get("name"))

    @property
    def version(self) -> str | None:
        return _str(self.data.get("version"))

    @property
    def status(self) -> str | None:
        return _str(self.data.get("status"))

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(str(tag) for tag in _list(self.data.get("tags")))

    @property
    def sla_default_element(self) -> str | None:
        return _str(self.data.get("slaDefaultElement"))

    @property
    def team_members(self) -> list[str]:
        """Who owns it: the `team.name` (ODCS v3.1's team object), else each member's `username`."""
        team = self.data.get("team")
        if isinstance(team, dict):
            if isinstance(team.get("name"), str):
                return [team["name"]]
            team = team.get("members")
        if isinstance(team, list):
            return [m["username"] for m in team if isinstance(m, dict) and isinstance(m.get("username"), str)]
        return []

    @property
    def server_entries(self) -> int:
        """How many entries `servers` lists, mappings or not (a count a message reports as written)."""
        return len(_list(self.data.get("servers")))

    def server(self, name: str) -> Server | None:
        """The first server entry called `name`."""
        return next((server for server in self.servers if server.name == name), None)

    @property
    def properties(self) -> list[Property]:
        """Every column of every table, in document order."""
        return [prop for table in self.schema for prop in table.properties]


def read_odcs(data: Any) -> Odcs:
    """The typed parts of a contract document; anything that is not a mapping reads as an empty contract."""
    return Odcs(data if isinstance(data, dict) else {})


def _schema_object(index: int, table: dict[str, Any]) -> SchemaObject:
    name = str(table.get("name", ""))
    properties = tuple(
        Property(prop["name"], name, ("schema", index, "properties", column), prop, _quality(prop))
        for column, prop in enumerate(_list(table.get("properties")))
        if isinstance(prop, dict) and isinstance(prop.get("name"), str)
    )
    return SchemaObject(name, index, table, properties, _quality(table))


def _quality(owner: dict[str, Any]) -> tuple[QualityRule, ...]:
    return tuple(QualityRule(i, rule) for i, rule in enumerate(_list(owner.get("quality"))) if isinstance(rule, dict))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
