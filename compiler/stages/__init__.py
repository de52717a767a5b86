"""The pipeline's one door: read -> validate -> resolve -> policy -> render -> emit (`pipeline.py`, in order).

Every command, the editor, the plan, the gates and the report enter here and nowhere else
(tests/test_layout.py forbids importing a stage's modules from outside `compiler.stages`):

- `check` / `check_path`: every finding of a project (a `Sources`: a directory, a revision, editor buffers),
  as a frozen `Checked`; `build`: what a clean check renders; `plan_writes` / `apply`: emit it to disk.
- `load_document`: one file on its own, read, each document validated on demand (`Loaded.spec_of`).
- `render_outputs`: the outputs of a resolved project, for a revision the plan or the report compares.
- `run_policy_tests`: the policies' unit tests (cases as data) of a directory.
- `analysis_view`: a rollout's analysis as rendered (queries and bounds), which `charter deploy analyze` measures;
  `shadow_analysis`: its shadow window's, which `charter deploy shadow` measures for evidence.
- `dvc_data`: the DVC data version a contract's server names (its `.dvc` file or `dvc.lock`), for the gates that
  record it and the plan that compares it.
- The few facts commands share with the stages: the policy packs, governance kinds and classification, the
  workflow name of a gate, the project file, the read cap, the ODCS schema, files in output directories that
  no spec renders.

The stages import `compiler.core` only, never commands, integrations, gates or the plan.
"""

from compiler.stages.checked import Checked
from compiler.stages.emit.ownership import unrendered_findings
from compiler.stages.pipeline import (
    Loaded,
    Progress,
    apply,
    build,
    check,
    check_path,
    current_date,
    load_document,
    plan_writes,
)
from compiler.stages.policy.governed import GOVERNANCE_KINDS, Governance, classification
from compiler.stages.policy.packs import builtin_packs, policy_files
from compiler.stages.policy.testing import run_directory as run_policy_tests
from compiler.stages.read import dvc_data
from compiler.stages.read.discovery import project_file
from compiler.stages.read.load import MAX_FILE_BYTES
from compiler.stages.render.manifests import analysis_view, shadow_analysis
from compiler.stages.render.outputs import gate_workflow, render_outputs
from compiler.stages.validate.odcs_schemas import LATEST as LATEST_ODCS
from compiler.stages.validate.odcs_schemas import official_schema as odcs_schema

__all__ = [
    "GOVERNANCE_KINDS",
    "LATEST_ODCS",
    "MAX_FILE_BYTES",
    "Checked",
    "Governance",
    "Loaded",
    "Progress",
    "analysis_view",
    "apply",
    "build",
    "builtin_packs",
    "check",
    "check_path",
    "classification",
    "current_date",
    "dvc_data",
    "gate_workflow",
    "load_document",
    "odcs_schema",
    "plan_writes",
    "policy_files",
    "project_file",
    "render_outputs",
    "run_policy_tests",
    "shadow_analysis",
    "unrendered_findings",
]
