"""The catalogue of diagnostic codes: stable, unique, documented.

Codes never change meaning once published. `charter explain CODE` and the
docs are generated from this table, and a test checks that every code is
unique, documented and reachable from the mappings that use it.

Families: CH1xx reading YAML, CH2xx spec schema, CH3xx data contracts
(ODCS), CH4xx references across files, CH5xx policies, CH6xx evidence, CH9xx the run itself.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from compiler.diagnostics import Severity


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


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO

_CATALOGUE: tuple[Code, ...] = (
    # --- CH1xx: reading files -------------------------------------------------
    Code(
        "CH100",
        "yaml-syntax",
        E,
        "The file is not valid YAML",
        """
        The YAML parser stopped at this position. The message says what it
        expected; the usual causes are a tab used for indentation, a missing
        space after `:`, an unclosed quote or bracket, or mixed indentation.
        Fix: correct the syntax at the line shown; `yamllint` helps.""",
    ),
    Code(
        "CH101",
        "invalid-utf8",
        E,
        "The file is not valid UTF-8",
        """
        Specs must be UTF-8 text. The byte at this position cannot be decoded.
        Fix: re-save the file as UTF-8 (most editors have an encoding menu).""",
    ),
    Code(
        "CH102",
        "binary-file",
        E,
        "The file is binary, not text",
        """
        The file holds NUL bytes, so it is not a YAML text file. Fix: move it
        out of the spec directories, or narrow `spec.specs` in charter.yaml.""",
    ),
    Code(
        "CH103",
        "empty-document",
        W,
        "The file or document is empty",
        """
        The file (or one `---` document in it) holds no content. It is
        skipped. Fix: delete the file or the stray `---` separator.""",
    ),
    Code(
        "CH104",
        "duplicate-key",
        E,
        "A mapping has the same key twice",
        """
        YAML mappings must not repeat a key; most tools silently keep the last
        value, which hides mistakes. Keys that are equal as values collide too
        (`1` and `1.0`, `null` and `~`). Fix: remove or rename one of them.""",
    ),
    Code(
        "CH105",
        "document-not-mapping",
        E,
        "A document is not a mapping",
        """
        Every spec document is a mapping with `apiVersion`, `kind`, `metadata`
        and `spec`. This document is a list or a plain value instead.""",
    ),
    Code(
        "CH106",
        "alias-expansion",
        E,
        "Aliases expand to too much data",
        """
        YAML anchors and aliases (`&a`, `*a`) can make a tiny file expand into
        millions of values (the "billion laughs" attack). Charter refuses a
        document whose aliases expand beyond 100,000 values. Fix: write the
        data out, or use fewer levels of aliases.""",
    ),
    Code(
        "CH107",
        "recursive-alias",
        E,
        "An alias refers to itself",
        """
        An anchor is used inside its own value (`a: &x [*x]`), which describes
        infinite data. Fix: remove the alias.""",
    ),
    Code(
        "CH108",
        "too-deep",
        E,
        "Nesting is too deep",
        """
        Specs nest a few levels deep; this document nests more than 64 levels,
        which Charter refuses to protect the parser and everything after it.
        Fix: flatten the structure.""",
    ),
    Code(
        "CH109",
        "tag-not-allowed",
        E,
        "YAML tags are not allowed",
        """
        Explicit tags such as `!!python/object` or `!Ref` make some loaders
        run code or build custom objects. Charter reads plain data only: the
        core tags `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!map`
        and `!!seq` are accepted, all others refused. Fix: remove the tag.""",
    ),
    Code(
        "CH110",
        "key-not-string",
        E,
        "A mapping key is not a string",
        """
        Spec keys are field names, so they must be strings. A key that is a
        number, a boolean, null, a list or a mapping is refused. Fix: quote
        the key (`"404": ...`) or restructure the data.""",
    ),
    Code(
        "CH111",
        "number-too-large",
        E,
        "A number is too large",
        """
        An integer with more than 4,000 digits (or a hex or octal one over
        13,000 bits) cannot be read safely. Fix:
        quote it if it is an identifier, or use a smaller value.""",
    ),
    Code(
        "CH112",
        "unknown-kind",
        E,
        "Unknown kind",
        """
        `kind` must be one of Project, Model, EvaluationSuite, Environment,
        Policy, Waiver, or DataContract (an Open Data Contract Standard v3
        document). The hint suggests the closest kind.""",
    ),
    Code(
        "CH113",
        "unknown-api-version",
        E,
        "Unknown apiVersion",
        """
        Charter specs use `apiVersion: charter/v1alpha1`; data contracts use
        the ODCS release they follow, written in full: `v3.0.0`, `v3.0.1`,
        `v3.0.2`, `v3.1.0` or `v3.2.0` (`v3.1` is not a release). Fix: use a
        supported apiVersion; the hint suggests the closest.""",
    ),
    Code(
        "CH114",
        "missing-envelope",
        E,
        "apiVersion or kind is missing",
        """
        Every document says what it is with `apiVersion` and `kind`, so that
        Charter can choose its schema. Fix: add both at the top.""",
    ),
    Code(
        "CH115",
        "yaml-directive",
        W,
        "A %YAML directive changes how values are read",
        """
        `%YAML 1.1` would turn `no`, `on` and `yes` into booleans in other
        tools. Charter always reads YAML 1.2, where they stay strings, so the
        directive is misleading. Fix: remove the directive.""",
    ),
    Code(
        "CH116",
        "file-too-large",
        E,
        "The file is too large",
        """
        Spec files above 10 MiB are refused: a spec that large is almost
        certainly data committed by mistake. Fix: move the data out.""",
    ),
    Code(
        "CH117",
        "unreadable-file",
        E,
        "The file cannot be read",
        """
        The operating system refused to read the file (permissions, a broken
        symbolic link, a directory in its place). Fix: check the path.""",
    ),
    Code(
        "CH118",
        "not-a-number",
        E,
        "NaN or infinity is not a valid value",
        """
        `.nan` and `.inf` are YAML numbers, but a NaN bound makes every
        comparison false and silently disables a gate. Fix: write a finite
        number.""",
    ),
    Code(
        "CH120",
        "unsafe-path",
        E,
        "A repository path Charter will not read or write",
        """
        In a pull request every file of the checkout is its author's, so
        Charter reads and writes only regular files inside the project root,
        reached without following a symbolic link. This path is a link (to a
        file, a directory, `/proc/self/environ`...), a device, a FIFO, or
        leaves the root; it was not read, and nothing of what it points at
        appears in any output.
        Fix: commit the file itself instead of a link, or remove the entry.""",
    ),
    Code(
        "CH125",
        "document-too-large",
        E,
        "A document holds too many values",
        """
        A spec describes one model, contract or environment: a few hundred
        values. Charter refuses a document of more than 100,000 values (list
        items, keys and scalars), written out without aliases, so that
        validation and policies stay fast and bounded. The position is where
        the limit was passed.
        Fix: split the document, or keep bulk data (lists of rows, samples)
        in the data files that contracts point at, not in specs.""",
    ),
    # --- CH2xx: spec schema --------------------------------------------------
    Code(
        "CH200",
        "unknown-field",
        E,
        "Unknown field",
        """
        The field is not part of this kind's schema, so Charter would ignore
        it; usually it is a typo. The hint suggests the closest field. The
        published JSON Schemas (`charter schema`) give completion in editors.""",
    ),
    Code(
        "CH201",
        "missing-field",
        E,
        "Required field is missing",
        """
        The schema requires this field. The message names it; the position is
        the mapping that should hold it.""",
    ),
    Code(
        "CH202",
        "wrong-type",
        E,
        "Value has the wrong type",
        """
        The value is not of the type the field takes (for example a list where
        a string is expected). YAML reads unquoted `1.10` as the number 1.1,
        `2024-01-01` as a string, and `yes` as a string: quote version strings.
        The message shows the source text Charter read.""",
    ),
    Code(
        "CH203",
        "invalid-choice",
        E,
        "Value is not one of the allowed values",
        """
        The field takes one of a fixed set of values, listed in the message.
        The hint suggests the closest.""",
    ),
    Code(
        "CH204",
        "out-of-range",
        E,
        "Number is out of range",
        """
        The number is outside the bounds the field allows (for example a
        percentage above 100, a negative replica count).""",
    ),
    Code(
        "CH205",
        "invalid-string",
        E,
        "String does not have the required form",
        """
        The string is too short, too long or does not match the required
        pattern (for example a name that is not a DNS label: lower-case
        letters, digits and `-`, at most 63 characters).""",
    ),
    Code(
        "CH206",
        "invalid-length",
        E,
        "Wrong number of items",
        """
        The list or mapping has fewer or more items than the field allows.""",
    ),
    Code(
        "CH207",
        "invalid-format",
        E,
        "Value is not in the required format",
        """
        The value should be a date (`2027-03-31`), a URL, an e-mail address,
        a digest or another well-known format, and is not.""",
    ),
    Code(
        "CH208",
        "invalid-value",
        E,
        "Value is not valid",
        """
        The value breaks a rule of the field that the message explains (for
        example a minimum above a maximum, or an item listed twice).""",
    ),
    Code(
        "CH209",
        "expression-in-text",
        E,
        "Spec text holds a GitHub expression",
        """
        GitHub evaluates `${{ ... }}` almost everywhere in a workflow, not
        only in `run:` scripts. Spec text reaches generated workflows, so a
        spec string holding `${{` could read secrets or run code in CI.
        Fix: remove the `${{`; if you mean it literally, write `$ {{`.""",
    ),
    Code(
        "CH210",
        "invalid-name",
        E,
        "metadata.name is not a valid name",
        """
        Names become Kubernetes object names, file names and workflow ids:
        lower-case letters, digits and `-`, starting with a letter, ending
        with a letter or digit, at most 63 characters (an RFC 1123 DNS label).""",
    ),
    Code(
        "CH211",
        "unsafe-path-name",
        E,
        "A name that becomes a path is not a single plain path segment",
        """
        A data contract's `id` names the directory its generated pipelines
        read (`data/<id>`). An id with `/`, `\\`, `..`, a leading `.` or `-`,
        whitespace, or a control or bidirectional character (ESC, NUL,
        U+202E...) could point a pipeline outside its directory or show one
        thing and be another. Fix: use letters, digits, `-`, `_`, `.` and
        `:` (UUIDs and URNs are fine).""",
    ),
    # --- CH3xx: data contracts ----------------------------------------------
    Code(
        "CH300",
        "contract-schema",
        E,
        "The data contract breaks the ODCS schema",
        """
        Data contracts are Open Data Contract Standard v3 documents, checked
        against the official ODCS JSON Schema of the apiVersion they declare
        (v3.0.0, v3.0.1, v3.0.2, v3.1.0 or v3.2.0; Charter ships each one as
        published). Every error is reported at its key. Where the schema
        offers alternatives (`oneOf`, `anyOf`, `if`/`then`), the alternative
        the contract evidently means is the one reported: the one its `type`
        or `logicalType` selects, else the one that fits best. Most errors
        carry a more specific code (CH200 unknown field, CH201 missing field,
        CH202 wrong type, CH203 not an allowed value, ...); CH300 is a rule
        of the schema that has no such code (for example a quality rule that
        gives two operators).

        One change to the official schemas: in v3.2.0 the rule "a column
        with `logicalType: map` needs `map`" is written as an `if` that JSON
        Schema also holds for a column without any `logicalType`, so every
        such column would need `map`. Charter applies the rule only when
        `logicalType` is given, as the standard intends.""",
    ),
    Code(
        "CH301",
        "duplicate-column",
        E,
        "A contract lists a column twice",
        """
        Column names must be unique within a schema object, or features and
        labels that refer to them are ambiguous.""",
    ),
    Code(
        "CH302",
        "contract-later-version",
        W,
        "The contract uses fields of a later ODCS version than it declares",
        """
        The contract is not valid under the ODCS schema of its apiVersion, but
        it is valid under a later release (the message names the earliest):
        it uses fields or values that release added. Charter accepts it and
        warns, because other ODCS tools judge it by the version it declares.
        Fix: declare the version the contract follows (`apiVersion: v3.1.0`).
        A field missing at the top of the contract (`status` in v3.0.2) is
        an error all the same: a later release that stopped requiring it
        does not make the omission a feature of that release.""",
    ),
    # --- CH4xx: references across files -------------------------------------
    Code(
        "CH400",
        "duplicate-name",
        E,
        "Two specs of the same kind have the same name",
        """
        Names are unique per kind across the whole project, because specs
        refer to each other by name and generated files are named after them.
        The message names the other file. Data contracts are unique by `id`
        and `version`.""",
    ),
    Code(
        "CH401",
        "dangling-reference",
        E,
        "Reference to something that does not exist",
        """
        The spec refers to a contract, suite, environment, model or policy
        that no file in the project defines, or to a `server` that is not an
        entry of the contract's ODCS `servers`. The hint suggests the closest
        name that does exist.""",
    ),
    Code(
        "CH402",
        "unknown-column",
        E,
        "Column not in the contract",
        """
        A model's features, label and sensitive features, and a suite's
        fairness features, must be columns of the data contract they use, so
        that the pipeline and the gates read real data. Qualify a column as
        `table.column` when the contract has several schema objects.""",
    ),
    Code(
        "CH403",
        "metric-task-mismatch",
        E,
        "Metric does not fit the model's task",
        """
        Each metric is defined for some tasks only (roc_auc for classification,
        rmse for regression...). The message lists the metrics that fit.""",
    ),
    Code(
        "CH404",
        "ambiguous-reference",
        E,
        "Reference matches more than one spec",
        """
        The reference matches several specs (for example several versions of
        a data contract with the same id). Fix: add the version.""",
    ),
    Code(
        "CH405",
        "promotion-cycle",
        E,
        "Environments promote in a cycle",
        """
        `promotesFrom` must form a chain (staging -> production), never a
        loop.""",
    ),
    Code(
        "CH406",
        "missing-project",
        W,
        "No Project file",
        """
        Charter looks for `charter.yaml` at the root of the path it checks.
        Without it, defaults apply: every `*.yaml` and `*.yml` file is read.
        Fix: run `charter init` or add a Project spec.""",
    ),
    Code(
        "CH407",
        "duplicate-project",
        E,
        "More than one Project spec",
        """
        A repository has exactly one Project spec, in `charter.yaml`.""",
    ),
    Code(
        "CH408",
        "unused-spec",
        I,
        "Spec is not used by anything",
        """
        An evaluation suite or data contract that no model refers to. Not an
        error: it is reported so that leftovers get noticed.""",
    ),
    Code(
        "CH409",
        "suite-model-mismatch",
        E,
        "Suite and model disagree",
        """
        An evaluation suite that names a model must be the suite that model
        uses, and a suite's dataset must carry the model's label and
        features.""",
    ),
    Code(
        "CH410",
        "output-collision",
        E,
        "Two sources would produce one output",
        """
        Names are joined into file paths and object names: model `credit` in
        environment `default-staging` and model `credit-default` in
        environment `staging` both give `credit-default-staging`. Two outputs
        with one path, two Kubernetes objects with one name in one namespace,
        or two Argo CD Applications with one name would silently drop one of
        them, so the build is refused; the message names both sources.
        Fix: rename one of the models or environments.""",
    ),
    Code(
        "CH411",
        "output-directory-refused",
        E,
        "An output directory overlaps the specs",
        """
        `charter build` deletes and overwrites files in its output
        directories. An output directory that is, or lies inside, a
        directory holding specs would let the build overwrite them (and hide
        them from discovery). `.git` and `.charter` are refused outright.
        Fix: choose output directories of their own, such as `deploy`.""",
    ),
    Code(
        "CH412",
        "unchecked-spec",
        W,
        "A spec file is not checked: no glob matches it",
        """
        The file starts with an `apiVersion` and a `kind` that Charter knows,
        so it is most likely a spec, but no glob in the Project's
        `spec.specs` matches it (a `.yml` file beside `"**/*.yaml"`, say), so
        it is neither validated nor used. Fix: add a glob that matches it to
        `spec.specs`, or list it in `spec.exclude` if it is not a spec.""",
    ),
    # --- CH5xx: policies and waivers ----------------------------------------
    Code(
        "CH500",
        "policy-violation",
        E,
        "A policy rule does not hold",
        """
        A rule of a policy pack (built in, or your organisation's) found a
        problem. The message says what; `charter explain POLICY/RULE` says
        why the rule exists, how to fix it and its references (for example
        the EU AI Act article). The severity is the rule's, unless the
        Project overrides it. To accept the risk for one spec, add a Waiver
        with a justification, approvers and an expiry date.""",
    ),
    Code(
        "CH501",
        "policy-invalid",
        E,
        "A policy expression does not compile",
        """
        A CEL expression of the policy does not parse, uses an unknown
        variable (expressions see object, related, params, variables,
        project, kind, name and today) or nests comprehensions too deeply.
        The position points into the expression. The policy's rules are not
        evaluated, and the run fails: a policy that cannot run fails closed.""",
    ),
    Code(
        "CH502",
        "policy-evaluation-failed",
        E,
        "A policy could not be evaluated",
        """
        The rule's expression failed on this spec (a missing field, a type
        mismatch, a division by zero), or was stopped: policies run in a
        worker process that is stopped when one evaluation runs longer than
        2 s, needs more than 1 GiB of memory, or the run's budget for policy
        evaluation (6 s plus 2 ms per spec and policy) is spent; the message
        says which. Charter fails closed: the rule counts as failed.
        Fix the expression (use `has(...)` for optional fields, iterate less)
        or the spec.""",
    ),
    Code(
        "CH503",
        "waiver-expired",
        W,
        "A waiver has expired",
        """
        The waiver's `expires` date has passed, so it no longer waives: the
        finding it covered is reported again. Renew it with a new date and a
        fresh approval, or fix the finding.""",
    ),
    Code(
        "CH504",
        "waiver-unused",
        W,
        "A waiver matches no finding",
        """
        No finding matches the waiver's policy, rule and target: the problem
        was fixed, or the waiver names the wrong policy or target. Remove it,
        so that exceptions stay few and visible.""",
    ),
    Code(
        "CH505",
        "waiver-refused",
        E,
        "This finding cannot be waived",
        """
        Some rules may never be waived: the EU AI Act prohibits
        unacceptable-risk practices outright (Art. 5). The waiver is refused
        and the finding stands.""",
    ),
    Code(
        "CH506",
        "unknown-pack",
        E,
        "Unknown policy pack",
        """
        `spec.policies.packs` in charter.yaml names a pack that does not
        exist. The built-in packs are fairness, eu-ai-act, data-governance,
        production-readiness and supply-chain.""",
    ),
    Code(
        "CH507",
        "unknown-policy-setting",
        E,
        "A policy setting names nothing",
        """
        A severity override or parameter in charter.yaml names a policy,
        rule or parameter that does not exist, so it would silently do
        nothing. The hint suggests the closest name.""",
    ),
    Code(
        "CH508",
        "policy-test-failed",
        E,
        "A policy test case failed",
        """
        `charter policy test` ran a case whose findings differ from the ones
        it expects. The message lists what was missing and what was extra.""",
    ),
    # --- CH6xx: evidence of what the gates measured ---------------------------
    Code(
        "CH600",
        "evidence-invalid",
        E,
        "An evidence record does not match its schema",
        """
        A file under `evidence/<model>/<version>/` is not a valid evidence
        record (`schemas/evidence.schema.json`): it is not one JSON object, a
        field is missing or has the wrong type. The record is not used: the
        model card, the report and the policies see no evidence from it.
        Fix: record the gate's report again with `charter evidence record
        REPORT`; never edit a record by hand, since it stands for what a gate
        measured.""",
    ),
    Code(
        "CH601",
        "evidence-misfiled",
        E,
        "An evidence record is filed under another model, version or gate",
        """
        The record's `model`, `version` or `gate` differ from the path it is
        filed under (`evidence/<model>/<version>/<gate>.json`). A record copied
        to another version would claim that version was measured, so it is
        not used. Fix: record the gate's report with `charter evidence
        record`, which files each report where it belongs.""",
    ),
    # --- CH9xx: the run itself ----------------------------------------------
    Code(
        "CH900",
        "internal-error",
        E,
        "Internal error",
        """
        Charter hit a bug while processing this file. The message holds the
        exception. Please report it with the file that caused it; the rest
        of the run went on.""",
    ),
    Code(
        "CH901",
        "no-specs",
        W,
        "No spec files found",
        """
        The path holds no `*.yaml` or `*.yml` files that Charter could read.
        Check the path and `spec.specs` in charter.yaml.""",
    ),
    Code(
        "CH902",
        "manifest-entry-refused",
        E,
        "A manifest entry is not trusted",
        """
        `.charter/manifest.json` is a claim, not a permission: it lists the
        files an earlier build wrote, but anyone can edit it. `charter build`
        deletes or overwrites only regular files inside the configured output
        directories whose bytes still hash to the recorded value. This entry
        names a path outside the output directories, a link, a special file,
        or a file whose bytes changed; it was reported and left alone.
        Fix: remove the entry from the manifest (or delete the manifest and
        run `charter build` again); move hand-edited files away yourself.""",
    ),
)

CODES: dict[str, Code] = {code.id: code for code in _CATALOGUE}
BY_NAME: dict[str, Code] = {code.name: code for code in _CATALOGUE}


def all_codes() -> tuple[Code, ...]:
    return _CATALOGUE


def lookup(key: str) -> Code | None:
    """A code by id (`CH200`, case-insensitive) or by name (`unknown-field`)."""
    return CODES.get(key.upper()) or BY_NAME.get(key.lower())
