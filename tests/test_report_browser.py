"""`charter report` in a real browser: Debian's headless Chromium, driven by Playwright, on the files themselves.

Each page must load from file:// with no console error and no request other than file://;
the inventory lists every model of the example; an expired waiver shows as expired; the
lineage graph has one node per spec the model uses and per file `charter build` writes for
it. Screenshots go to tests/screenshots/ (ignored by git) for people to look at.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compiler.commands.cli import main
from compiler.stages import check_path, render_outputs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCREENSHOTS = ROOT / "tests" / "screenshots"
CHROMIUM = os.environ.get("CHARTER_CHROMIUM", "/usr/bin/chromium")
# The credit example's waiver expires on 2027-12-31.
BEFORE_EXPIRY, AFTER_EXPIRY = "2026-11-01", "2028-01-15"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _needs_browser() -> None:
    missing = None if Path(CHROMIUM).is_file() else f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "the playwright package is not installed"
    if missing is None:
        return
    if os.environ.get("CHARTER_REQUIRE_ORACLES") or os.environ.get("CI"):
        pytest.fail(f"browser unavailable, but this run requires it: {missing}")
    pytest.skip(missing)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    _needs_browser()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS, viewport={"width": 1280, "height": 900}
        )
        try:
            yield context
        finally:
            context.close()


def _site(tmp_path: Path, example: str, today: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHARTER_TODAY", today)
    out = tmp_path / f"site-{example}-{today}"
    assert main(["report", str(EXAMPLES / example), "--out", str(out)]) == 0
    return out


class Visit:
    """One page load, with every request and console message recorded."""

    def __init__(self, context: Any, path: Path, screenshot: str):
        self.requests: list[str] = []
        self.errors: list[str] = []
        page = context.new_page()
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.goto(path.as_uri(), wait_until="load")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / screenshot), full_page=True)
        self.page = page

    def assert_offline_and_clean(self) -> None:
        assert self.errors == []
        assert [url for url in self.requests if not url.startswith("file://")] == []


@pytest.mark.parametrize("example", ["credit-scoring", "demand-forecast"])
def test_the_inventory_lists_every_model_offline(
    browser: Any, example: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _site(tmp_path, example, BEFORE_EXPIRY, monkeypatch)
    visit = Visit(browser, site / "index.html", f"{example}-index.png")
    visit.assert_offline_and_clean()
    checked = check_path(EXAMPLES / example)
    assert checked.resolved is not None
    models = sorted(checked.resolved.by_kind["Model"])
    page = visit.page
    assert page.locator("h1").inner_text() == f"Governance report: {example}"
    rows = page.locator("#inventory-table tbody tr")
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.model)") == models
    headers = page.locator("#inventory-table thead th").all_inner_texts()
    assert headers == [
        "Model",
        "Owner",
        "Risk tier",
        "Version",
        "Environments",
        "Last evidence",
        "Policy rules failing",
    ]
    for name in models:
        row = page.locator(f'#inventory-table tr[data-model="{name}"]')
        cells = row.locator("td").all_inner_texts()
        spec = checked.resolved.by_kind["Model"][name].model
        assert cells[:3] == [spec.metadata.owner, spec.spec.risk_tier, spec.spec.version]  # type: ignore[union-attr]
        assert cells[3] == "staging → production"
        assert cells[4].startswith("data: pass") or cells[4].startswith("eval: pass")
        assert cells[5] == "none"
        # Following the link opens the model's page, offline too.
        row.locator("a").click()
        page.wait_for_load_state("load")
        assert page.locator("h1").inner_text().startswith(f"Model {name} ")
    assert [url for url in visit.requests if not url.startswith("file://")] == []
    assert visit.errors == []


def test_an_expired_waiver_shows_as_expired(browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    current = Visit(browser, _site(tmp_path, "credit-scoring", BEFORE_EXPIRY, monkeypatch) / "index.html", "w.png")
    row = current.page.locator('#waivers-table tr[data-waiver="credit-default-validation-data"]')
    assert row.locator("td").nth(4).inner_text() == "425"
    assert row.get_attribute("class") == ""
    site = _site(tmp_path, "credit-scoring", AFTER_EXPIRY, monkeypatch)
    visit = Visit(browser, site / "index.html", "credit-scoring-index-expired.png")
    visit.assert_offline_and_clean()
    row = visit.page.locator('#waivers-table tr[data-waiver="credit-default-validation-data"]')
    assert row.get_attribute("class") == "expired"
    assert row.locator("td").nth(4).inner_text() == "expired 15 day(s) ago"
    # The rule it waived no longer holds: the inventory says so instead of "none".
    inventory = visit.page.locator('#inventory-table tr[data-model="credit-default"] td').all_inner_texts()
    assert inventory[5] == "1 warning"
    model = Visit(browser, site / "models" / "credit-default.html", "credit-default-expired.png")
    model.assert_offline_and_clean()
    rule = model.page.locator('#policy-table tr[data-rule="acme-lending-models/independent-validation-data"]')
    assert rule.get_attribute("data-status") == "warns"
    assert model.page.locator("#waivers + ul li").inner_text().endswith("until 2027-12-31 expired.")


MODELS = [("credit-scoring", "credit-default"), ("demand-forecast", "demand-forecast")]


@pytest.mark.parametrize(("example", "model"), MODELS)
def test_the_lineage_graph_has_a_node_per_spec_and_generated_file(
    browser: Any, example: str, model: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _site(tmp_path, example, BEFORE_EXPIRY, monkeypatch)
    visit = Visit(browser, site / "models" / f"{model}.html", f"{model}.png")
    visit.assert_offline_and_clean()
    checked = check_path(EXAMPLES / example)
    resolved = checked.resolved
    assert resolved is not None
    links = resolved.links[model]
    assert links.suite is not None
    contracts = {s.name for s in (links.training, links.validation, resolved.suite_datasets.get(links.suite.name)) if s}
    expected = {("Model", model), ("EvaluationSuite", links.suite.name)}
    expected |= {("DataContract", name) for name in contracts}
    model_spec = resolved.get("Model", model)
    assert model_spec is not None
    training = model_spec.model.spec.training
    # The environments it is promoted through; the one it trains in is not a step of its promotion.
    expected |= {("Environment", name) for name in links.environments if name != training.environment}
    outputs = render_outputs(resolved, checked.project, checked_today(), checked.evidence)
    expected |= {("Output", o.path) for o in outputs if o.model == model}
    # What the version was trained from and registered as: the W&B artifacts the spec declares, and, read from the
    # committed evidence files themselves, the data versions its gates measured, its run and registered version.
    expected |= {("Artifact", reference) for reference in training.lineage}
    expected |= _evidence_nodes(EXAMPLES / example / "evidence" / model)
    visit.page.locator("svg.lineage").screenshot(path=str(SCREENSHOTS / f"{model}-lineage.png"))
    nodes = visit.page.locator("svg.lineage g.node")
    found = nodes.evaluate_all("nodes => nodes.map(n => [n.dataset.kind, n.dataset.name])")
    assert sorted(map(tuple, found)) == sorted(expected)
    # A named figure (not an image, whose children would be hidden): its nodes' links stay reachable.
    svg = visit.page.locator("svg.lineage")
    assert (svg.get_attribute("role"), svg.get_attribute("aria-labelledby")) == ("figure", f"lineage-{model}-title")
    # Every node is drawn inside the picture.
    box = visit.page.locator("svg.lineage").bounding_box()
    for index in range(nodes.count()):
        rect = nodes.nth(index).locator("rect").bounding_box()
        assert rect["x"] >= box["x"]
        assert rect["x"] + rect["width"] <= box["x"] + box["width"] + 1
    # The model card is on the page, with the measured values of its committed evidence.
    assert visit.page.locator("article.card h4", has_text="Evaluation").count() == 1
    assert visit.page.locator("article.card").inner_text().count("Measured by the eval gate at commit") == 1


def _evidence_nodes(folder: Path) -> set[tuple[str, str]]:
    """The DataVersion, Run and Registered nodes the committed evidence of the model's one version records."""
    (version,) = folder.iterdir()
    nodes: set[tuple[str, str]] = set()
    for path in sorted(version.glob("*.json")):
        record = json.loads(path.read_text("utf-8"))
        if record["kind"] == "Registration":
            run = record["run"]
            nodes.add(("Run", f"MLflow run {run['mlflowRun']}" if "mlflowRun" in run else run["wandb"]))
            nodes.add(("Registered", f"MLflow {record['name']} v{record['registeredVersion']}"))
            continue
        contract = record["subject"].get("contract")
        for item in record["inputs"]:
            md5 = [f"md5 {item['dvc']['md5']}"] if "dvc" in item else []
            if contract:
                nodes.add(("DataVersion", " ".join([contract, record["subject"]["version"], *md5])))
            elif md5:
                nodes.add(("DataVersion", " ".join([item["dvc"]["path"], *md5])))
    return nodes


def checked_today() -> datetime.date:
    return datetime.date.fromisoformat(BEFORE_EXPIRY)


def test_hostile_spec_text_stays_text_in_the_browser(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "credit"
    shutil.copytree(EXAMPLES / "credit-scoring", project, ignore=shutil.ignore_patterns(".charter"))
    waiver = project / "waivers" / "credit-default-validation-data.yaml"
    hostile = "<img src=https://example.com/x.png onerror=alert(1)><script>alert(2)</script>"
    text = waiver.read_text("utf-8").replace("credit-default 3.x selects", f'"{hostile}" credit-default 3.x selects')
    waiver.write_text(text, "utf-8")
    monkeypatch.setenv("CHARTER_TODAY", BEFORE_EXPIRY)
    out = tmp_path / "site"
    assert main(["report", str(project), "--out", str(out)]) == 0
    visit = Visit(browser, out / "index.html", "hostile-index.png")
    visit.assert_offline_and_clean()
    cell = visit.page.locator('#waivers-table tr[data-waiver="credit-default-validation-data"] td').nth(5)
    assert hostile in cell.inner_text()
    assert visit.page.locator("img, script").count() == 0


_ACCESSIBILITY = """() => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 4).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg')) continue;
    const text = Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent.trim()).join('');
    if (!text) continue;
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(el.tagName + ' ' + text.slice(0, 30) + ' ' + ratio.toFixed(2));
  }
  const levels = Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6')).map(h => Number(h.tagName[1]));
  const skips = levels.filter((level, i) => i > 0 && level > levels[i - 1] + 1);
  const tables = Array.from(document.querySelectorAll('table'));
  return {
    low,
    h1: levels.filter(l => l === 1).length,
    first: levels[0],
    skips,
    uncaptioned: tables.filter(t => !t.querySelector('caption')).length,
    withoutHeaders: tables.filter(t => !t.querySelector('th')).length,
    lang: document.documentElement.lang,
  };
}"""


@pytest.mark.parametrize("page", ["index.html", "models/credit-default.html"])
def test_pages_are_accessible(browser: Any, page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _site(tmp_path, "credit-scoring", AFTER_EXPIRY, monkeypatch)
    visit = Visit(browser, site / page, f"accessible-{page.replace('/', '-')}.png")
    found = visit.page.evaluate(_ACCESSIBILITY)
    # WCAG 2.1 AA: text contrast at least 4.5:1; one h1 and no skipped heading level; tables with captions and
    # header cells (the model card's own tables have header rows but no caption: Markdown has none).
    assert found["low"] == []
    assert (found["h1"], found["first"], found["skips"], found["lang"]) == (1, 1, [], "en")
    assert found["withoutHeaders"] == 0
    # The site's own tables (not the model card's) each have a caption.
    assert visit.page.locator("main > .scroll > table:not(:has(caption))").count() == 0
    assert visit.page.locator("main > .scroll > table").count() == (2 if page == "index.html" else 1)


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PAGES = [
    ("credit-scoring", "index.html"),
    ("credit-scoring", "models/credit-default.html"),
    ("demand-forecast", "index.html"),
    ("demand-forecast", "models/demand-forecast.html"),
]
_AXE_RUN = """async () => (await axe.run(document)).violations.map(
  v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)"""


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize(("example", "page"), PAGES)
def test_pages_fit_a_phone_and_pass_axe(
    browser: Any, example: str, page: str, width: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 375 px no page scrolls sideways (each wide table scrolls in its own box), and axe-core, every rule
    (WCAG 2.1 A and AA, and best practices such as empty table headers), finds nothing."""
    if not AXE.is_file():
        reason = f"axe-core not installed ({AXE}); run `npm ci`"
        if os.environ.get("CHARTER_REQUIRE_ORACLES") or os.environ.get("CI"):
            pytest.fail(f"oracle unavailable, but this run requires every oracle: {reason}")
        pytest.skip(reason)
    site = _site(tmp_path, example, BEFORE_EXPIRY, monkeypatch)
    visit = Visit(browser, site / page, f"{example}-{page.replace('/', '-')}.png")
    visit.page.set_viewport_size({"width": width, "height": 800})
    visit.page.screenshot(path=str(SCREENSHOTS / f"{example}-{page.replace('/', '-')}-{width}.png"), full_page=True)
    assert visit.page.evaluate("document.documentElement.scrollWidth") <= width
    visit.page.add_script_tag(path=str(AXE))
    assert visit.page.evaluate(_AXE_RUN) == []
    visit.assert_offline_and_clean()


def test_the_cards_key_value_table_has_row_headers(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _site(tmp_path, "credit-scoring", BEFORE_EXPIRY, monkeypatch)
    visit = Visit(browser, site / "models" / "credit-default.html", "credit-default-card.png")
    first = visit.page.locator("article.card table").first
    assert first.locator("thead").count() == 0
    assert first.locator('th[scope="row"]').all_inner_texts()[:3] == ["Task", "Risk tier (EU AI Act)", "Owner"]
    regions = visit.page.locator("div.scroll[role=region]").evaluate_all("els => els.map(e => e.ariaLabel)")
    assert len(regions) == len(set(regions))
