"""Stage 3, resolve: references across files.

Names are unique per kind; every reference lands on a spec that exists;
columns named by models and suites exist in their contracts; metrics fit
the model's task; environments promote in a chain. The result links each
spec to what it refers to, which the policy engine reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from compiler.core.contracts import Contract
from compiler.core.diagnostics import Diagnostic, PathSegment, Severity
from compiler.core.invalid import Invalid
from compiler.core.metrics import FAIRNESS, PERFORMANCE, fairness_metrics_for, gate_metrics, metrics_for
from compiler.core.models import CONTRACT_KIND
from compiler.core.models.common import DataRef
from compiler.core.models.environment import Environment
from compiler.core.models.model import Model
from compiler.core.models.suite import EvaluationSuite, EvaluationSuiteSpec
from compiler.core.models.waiver import Waiver
from compiler.core.odcs import read_odcs
from compiler.core.references import Reference, column_references, references
from compiler.core.resolved import ModelLinks, Resolved
from compiler.core.specs import Spec
from compiler.core.suggest import closest, did_you_mean
from compiler.stages.resolve.broken import Broken


def resolve(specs: Sequence[Spec], known_policies: Iterable[str] = (), invalid: Sequence[Invalid] = ()) -> Resolved:
    """`invalid`: documents that failed validation; a reference to one is not a finding of its own."""
    ordered = sorted(specs, key=lambda spec: (spec.file, spec.document.index))
    resolver = _Resolver(ordered, set(known_policies), Broken(invalid))
    resolver.run()
    return Resolved(
        ordered,
        resolver.by_kind,
        resolver.links,
        resolver.findings,
        resolver.suite_datasets,
        unresolved=resolver.broken.unresolved,
        invalid=list(invalid),
    )


class _Resolver:
    def __init__(self, specs: list[Spec], known_policies: set[str], broken: Broken):
        self.specs = specs
        self.known_policies = known_policies
        self.broken = broken
        self.findings: list[Diagnostic] = []
        self.by_kind: dict[str, dict[str, Spec]] = {}
        self.contracts: list[Spec] = []
        self.links: dict[str, ModelLinks] = {}
        self.suite_users: dict[str, list[Spec]] = {}
        self.suite_datasets: dict[str, Spec] = {}
        self.contract_index: dict[str, list[Spec]] | None = None

    def run(self) -> None:
        self.index()
        for spec in self.specs:
            if isinstance(spec.model, Model):
                self.model(spec, spec.model)
        for spec in self.specs:
            if isinstance(spec.model, EvaluationSuite):
                self.suite(spec, spec.model)
            elif isinstance(spec.model, Environment):
                self.environment(spec, spec.model)
            elif isinstance(spec.model, Waiver):
                self.waiver(spec, spec.model)
        self.broken.spread()

    # --- names --------------------------------------------------------------

    def index(self) -> None:
        seen_contracts: dict[tuple[str, str | None], Spec] = {}
        for spec in self.specs:
            if spec.contract is not None:
                key = (spec.contract.id, spec.contract.version)
                if key in seen_contracts:
                    self.duplicate(spec, seen_contracts[key], ["id"], f"contract id `{key[0]}` version `{key[1]}`")
                    continue
                seen_contracts[key] = spec
                self.contracts.append(spec)
                self.by_kind.setdefault(CONTRACT_KIND, {}).setdefault(spec.name, spec)
                continue
            names = self.by_kind.setdefault(spec.kind, {})
            if spec.kind == "Project" and names:
                first = next(iter(names.values()))
                self.findings.append(
                    spec.finding("CH407", f"a second Project spec (the first is in {first.file})", ["kind"])
                )
                continue
            if spec.name in names:
                self.duplicate(spec, names[spec.name], ["metadata", "name"], f"{spec.kind} `{spec.name}`")
                continue
            names[spec.name] = spec

    def duplicate(self, spec: Spec, first: Spec, path: list[PathSegment], what: str) -> None:
        where = first.span(path)
        self.findings.append(
            spec.finding(
                "CH400",
                f"{what} is already defined in {first.file}:{where.line}",
                path,
                hint="rename one of them; names are unique per kind",
            )
        )

    # --- lookups ------------------------------------------------------------

    def contracts_named(self, name: str) -> list[Spec]:
        """The contracts whose id or name is `name`; the index is built on first use."""
        if self.contract_index is None:
            self.contract_index = {}
            for spec in self.contracts:
                assert spec.contract is not None
                for key in dict.fromkeys((spec.contract.id, spec.contract.name)):
                    if key is not None:
                        self.contract_index.setdefault(key, []).append(spec)
        return self.contract_index.get(name, [])

    def contract(self, owner: Spec, ref: DataRef, path: list[PathSegment]) -> Spec | None:
        matches = [
            spec
            for spec in self.contracts_named(ref.contract)
            if spec.contract is not None and (ref.version is None or ref.version == spec.contract.version)
        ]
        if len(matches) == 1:
            self.broken.lands(owner, matches[0])
            if ref.server is not None:
                self.server(owner, matches[0], ref.server, [*path, "server"])
            return matches[0]
        if not matches and self.broken.lands_on_invalid(owner, CONTRACT_KIND, ref.contract, ref.version):
            return None
        if not matches:
            self.broken.left_out(owner)
            names = [c.contract.name or c.contract.id for c in self.contracts if c.contract is not None]
            names += [c.contract.id for c in self.contracts if c.contract is not None]
            version = f" version `{ref.version}`" if ref.version else ""
            self.findings.append(
                owner.finding(
                    "CH401",
                    f"no data contract with id or name `{ref.contract}`{version}",
                    [*path, "contract"],
                    hint=did_you_mean(ref.contract, names) or "contracts are ODCS documents (kind: DataContract)",
                )
            )
            return None
        self.broken.left_out(owner)
        versions = ", ".join(sorted(str(m.contract.version) for m in matches if m.contract is not None))
        self.findings.append(
            owner.finding(
                "CH404",
                f"`{ref.contract}` matches {len(matches)} contracts (versions {versions})",
                [*path, "contract"],
                hint="add `version:` to the reference",
            )
        )
        return None

    def server(self, owner: Spec, contract: Spec, name: str, path: list[PathSegment]) -> None:
        """The server a reference names is an entry of the contract's ODCS `servers`."""
        names = [str(server.name) for server in read_odcs(contract.data).servers]
        if name not in names:
            label = _contract_label(contract.contract) if contract.contract else contract.name
            self.findings.append(
                owner.finding(
                    "CH401",
                    f"contract `{label}` has no server `{name}`",
                    path,
                    hint=did_you_mean(name, names) or f"its servers: {', '.join(names) or 'none (add `servers`)'}",
                )
            )

    def named(self, owner: Spec, kind: str, name: str, path: Sequence[PathSegment]) -> Spec | None:
        target = self.by_kind.get(kind, {}).get(name)
        if target is None and not self.broken.lands_on_invalid(owner, kind, name):
            meant = closest(name, self.by_kind.get(kind, {}))
            self.broken.left_out(owner, kind, meant)
            self.findings.append(
                owner.finding(
                    "CH401",
                    f"no {kind} named `{name}`",
                    path,
                    hint=f"did you mean `{meant}`?" if meant else f"define it with `kind: {kind}`",
                )
            )
        elif target is not None:
            self.broken.lands(owner, target)
        return target

    def columns(self, owner: Spec, contract_spec: Spec, names: Sequence[tuple[str, list[PathSegment]]]) -> None:
        contract = contract_spec.contract
        assert contract is not None
        for column, path in names:
            found = contract.find(column)
            if len(found) == 1:
                continue
            if not found:
                self.findings.append(
                    owner.finding(
                        "CH402",
                        f"column `{column}` is not in contract `{_contract_label(contract)}` ({contract_spec.file})",
                        path,
                        hint=did_you_mean(column, contract.column_keys)
                        or f"its columns: {_listed(contract.column_keys)}",
                    )
                )
            else:
                tables = ", ".join(sorted({c.table for c in found}))
                self.findings.append(
                    owner.finding(
                        "CH404",
                        f"column `{column}` is in several tables of `{_contract_label(contract)}`: {tables}",
                        path,
                        hint="qualify it as `table.column`",
                    )
                )

    # --- kinds --------------------------------------------------------------

    def model(self, spec: Spec, model: Model) -> None:
        links = self.links.setdefault(spec.name, ModelLinks())
        for reference in references(spec):
            target = self.lands(spec, reference)
            field = reference.path[1:3]
            if field == ("data", "training"):
                links.training = target
                if model.spec.monitoring is not None and model.spec.monitoring.reference is None:
                    self.watched_server(spec, target, reference)  # the drift gate's reference data
            elif field == ("data", "validation"):
                links.validation = target
            elif field in (("data", "production"), ("monitoring", "reference")):
                self.watched_server(spec, target, reference)
            elif reference.kind == "EvaluationSuite":
                links.suite = target
            elif reference.kind == "Environment" and target is not None:
                links.environments[reference.name] = target
        if model.spec.monitoring is not None and model.spec.data.production is None:
            self.findings.append(
                spec.finding(
                    "CH441",
                    "`spec.monitoring` watches production traffic, but `spec.data.production` names none",
                    ["spec", "monitoring"],
                    key=True,
                    hint="add `spec.data.production: {contract: ..., server: ...}`: the contract and server the "
                    "deployed model's traffic is logged to, which the monitor's drift gate reads",
                )
            )
        if links.suite is not None:
            self.suite_users.setdefault(links.suite.name, []).append(spec)
        if links.training is not None:
            wanted = [(named.column, list(named.path)) for named in column_references(spec)]
            self.columns(spec, links.training, wanted)

    def watched_server(self, spec: Spec, contract: Spec | None, reference: Reference) -> None:
        """The drift gate reads a server: a reference of a monitored model names one, or its contract has one."""
        assert isinstance(spec.model, Model)
        if spec.model.spec.monitoring is None or contract is None or reference.data is None:
            return
        count = read_odcs(contract.data).server_entries
        if reference.data.server is None and count > 1:  # none at all: a project that runs its gates on files
            label = _contract_label(contract.contract) if contract.contract else contract.name
            self.findings.append(
                spec.finding(
                    "CH441",
                    f"the monitor's drift gate reads `{label}`, but this names no server of it (it has {count})",
                    list(reference.path[:-1]),
                    key=True,
                    hint="add `server:` naming the entry of the contract's `servers` to read",
                )
            )

    def lands(self, owner: Spec, reference: Reference) -> Spec | None:
        """The spec a reference names, or None with a finding at the reference."""
        if reference.data is not None:
            return self.contract(owner, reference.data, list(reference.path[:-1]))
        return self.named(owner, reference.kind, reference.name, reference.path)

    def suite(self, spec: Spec, suite: EvaluationSuite) -> None:
        body = suite.spec
        (reference,) = references(spec)
        dataset = self.lands(spec, reference)
        if dataset is not None:
            self.suite_datasets[spec.name] = dataset
            wanted = [(named.column, list(named.path)) for named in column_references(spec)]
            self.columns(spec, dataset, wanted)
        slice_names = {piece.name for piece in body.slices}
        for i, bound in enumerate(body.metrics):
            if bound.slice is not None and bound.slice not in slice_names:
                self.findings.append(
                    spec.finding(
                        "CH401",
                        f"no slice named `{bound.slice}` in this suite",
                        ["spec", "metrics", i, "slice"],
                        hint=did_you_mean(bound.slice, slice_names) or f"its slices: {_listed(sorted(slice_names))}",
                    )
                )
        users = self.suite_users.get(spec.name, [])
        if not users and not self.broken.claims(spec):
            self.findings.append(
                spec.finding(
                    "CH408",
                    f"no model uses evaluation suite `{spec.name}`",
                    ["metadata", "name"],
                    severity=Severity.INFO,
                    hint="name it in a model's `spec.evaluation.suite`, or remove it",
                )
            )
        for user in users:
            assert isinstance(user.model, Model)
            self.metrics_fit(spec, body, user)
            label = user.model.spec.label
            contract = dataset.contract if dataset is not None else None
            if contract is not None and label is not None and len(contract.find(label)) != 1:
                self.findings.append(
                    spec.finding(
                        "CH409",
                        f"the dataset `{_contract_label(contract)}` has no column `{label}`, "
                        f"the label of model `{user.name}` that uses this suite",
                        ["spec", "dataset", "contract"],
                        hint="evaluate on a contract that carries the label, or fix the model's `label`",
                    )
                )

    def metrics_fit(self, spec: Spec, body: EvaluationSuiteSpec, user: Spec) -> None:
        assert isinstance(user.model, Model)
        task = user.model.spec.task
        for group, registry, allowed in (
            ("metrics", PERFORMANCE, metrics_for(task)),
            ("fairness", FAIRNESS, fairness_metrics_for(task)),
        ):
            for i, item in enumerate(getattr(body, group)):
                if task not in registry[item.metric].tasks:
                    self.findings.append(
                        spec.finding(
                            "CH403",
                            f"`{item.metric}` does not fit task `{task}` of model `{user.name}`",
                            ["spec", group, i, "metric"],
                            hint=f"metrics for {task}: {', '.join(allowed) or 'none'}",
                        )
                    )
                elif group == "metrics" and item.metric not in gate_metrics(task):
                    computed = sorted(gate_metrics(task))
                    self.findings.append(
                        spec.finding(
                            "CH403",
                            f"`{item.metric}` fits task `{task}`, but `charter gate eval` does not compute it: "
                            "its bound could never be judged",
                            ["spec", group, i, "metric"],
                            hint=f"metrics the gate computes for {task}: {', '.join(computed) or 'none yet'}",
                        )
                    )

    def environment(self, spec: Spec, environment: Environment) -> None:
        previous = environment.spec.promotes_from
        if previous is None:
            return
        if self.named(spec, "Environment", previous, ["spec", "promotesFrom"]) is None:
            return
        chain = [spec.name]
        current: str | None = previous
        environments = self.by_kind.get("Environment", {})
        while current is not None:
            if current in chain:
                cycle = " -> ".join([*chain, current])
                hint = "the first environment of a chain promotes from nothing: remove its `promotesFrom`"
                self.findings.append(
                    spec.finding("CH405", f"promotion cycle: {cycle}", ["spec", "promotesFrom"], hint=hint)
                )
                return
            chain.append(current)
            target = environments.get(current)
            model = target.model if target is not None else None
            current = model.spec.promotes_from if isinstance(model, Environment) else None

    def waiver(self, spec: Spec, waiver: Waiver) -> None:
        target = waiver.spec.target
        if self.broken.lands_on_invalid(spec, target.kind, target.name):
            pass  # its target failed validation: that is the one finding, and the waiver waits for it
        elif target.kind == CONTRACT_KIND:
            if not self.contracts_named(target.name):  # an index: a scan per waiver grew with waivers x contracts
                names = [
                    key for spec in self.contracts if spec.contract for key in (spec.contract.id, spec.contract.name)
                ]
                hint = did_you_mean(target.name, [name for name in names if name]) or "name a contract's id or name"
                self.findings.append(
                    spec.finding("CH401", f"no data contract `{target.name}`", ["spec", "target", "name"], hint=hint)
                )
        else:
            self.named(spec, target.kind, target.name, ["spec", "target", "name"])
        policies = self.known_policies | set(self.by_kind.get("Policy", {}))
        if waiver.spec.policy in policies or self.broken.lands_on_invalid(spec, "Policy", waiver.spec.policy):
            return  # a policy that failed validation has its own finding; the waiver waits for it
        self.findings.append(
            spec.finding(
                "CH401",
                f"no policy named `{waiver.spec.policy}`",
                ["spec", "policy"],
                hint=did_you_mean(waiver.spec.policy, policies) or "name a Policy of the project or of a built-in pack",
            )
        )


def _listed(names: Sequence[str], shown: int = 8) -> str:
    """Names for a hint: all of them up to `shown`, then how many more."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return (", ".join(names[:shown]) or "none") + more


def _contract_label(contract: Contract) -> str:
    return contract.name or contract.id
