"""The VS Code extension packages with `@vscode/vsce` without a prompt, as one bundled file.

`vsce package` stopped at two prompts (no `repository`, no LICENSE) and would have shipped 320
unbundled files of node_modules. Here the real vsce (npm, pinned in package.json) packages a copy
of editors/vscode with its standard input closed, so a prompt fails the test; the .vsix must hold
exactly the manifest, README, LICENSE and the esbuild bundle, and the bundle must load with nothing
but `vscode` and Node's own modules.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "editors" / "vscode"
NODE_MODULES = ROOT / "node_modules"
VSCE = NODE_MODULES / ".bin" / "vsce"

# Loads the bundle with a stand-in `vscode` module and refuses any other package: it must be bundled.
SMOKE = """
const Module = require("module");
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === "vscode") {
    return new Proxy({}, { get: (_, key) => (key === "__esModule" ? false : class {}) });
  }
  const bare = !request.startsWith(".") && !request.startsWith("/");
  if (bare && !Module.builtinModules.includes(request.replace(/^node:/, ""))) {
    throw new Error(`the bundle requires ${request} at run time`);
  }
  return load.apply(this, arguments);
};
console.log(JSON.stringify(Object.keys(require(process.argv[1])).sort()));
"""


def needs_vsce() -> None:
    missing = [
        p.name for p in (VSCE, NODE_MODULES / "esbuild", NODE_MODULES / "vscode-languageclient") if not p.exists()
    ]
    if not missing:
        return
    reason = f"npm packages missing ({', '.join(missing)}); run `npm ci`"
    if os.environ.get("CHARTER_REQUIRE_ORACLES") or os.environ.get("CI"):
        pytest.fail(f"oracle unavailable, but this run requires every oracle: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    needs_vsce()
    work = tmp_path_factory.mktemp("vscode") / "vscode"
    shutil.copytree(EXTENSION, work, ignore=shutil.ignore_patterns("node_modules", "dist", "*.vsix"))
    env = {
        **os.environ,
        "PATH": f"{NODE_MODULES / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        # The copy has no node_modules of its own: esbuild finds vscode-languageclient in the repository's.
        "NODE_PATH": str(NODE_MODULES),
    }
    done = subprocess.run(
        [str(VSCE), "package", "--out", "charter.vsix"],
        cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return work


def test_vsce_packages_one_bundle_without_prompting(packaged: Path) -> None:
    with zipfile.ZipFile(packaged / "charter.vsix") as vsix:
        names = sorted(vsix.namelist())
        manifest = json.loads(vsix.read("extension/package.json"))
        licence = vsix.read("extension/LICENSE.txt").decode("utf-8")
    assert names == [
        "[Content_Types].xml",
        "extension.vsixmanifest",
        "extension/LICENSE.txt",
        "extension/dist/extension.js",
        "extension/package.json",
        "extension/readme.md",
    ]
    assert manifest["main"] == "./dist/extension.js"
    assert manifest["repository"]["url"] == "https://github.com/charter-dev/charter.git"
    assert manifest["license"] == "Apache-2.0"
    assert "Apache License" in licence.splitlines()[1]
    assert "dependencies" not in manifest  # bundled: nothing for VS Code to install


def test_the_bundle_loads_with_only_vscode(packaged: Path) -> None:
    done = subprocess.run(
        ["node", "-e", SMOKE, str(packaged / "dist" / "extension.js")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["activate", "deactivate"]


def test_the_extension_builds_with_the_pinned_packages() -> None:
    """The extension's own devDependencies are the versions the repository's lock installs for this test."""
    ours = json.loads((EXTENSION / "package.json").read_text("utf-8"))["devDependencies"]
    pinned = json.loads((ROOT / "package.json").read_text("utf-8"))["devDependencies"]
    assert ours == {name: pinned[name] for name in ours}
