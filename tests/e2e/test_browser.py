"""The leaderboard site in headless Chromium, driven by Playwright: sorting, charts, paging, no console
errors, no network requests, and stored HTML or script shown as text, never executed.

Chromium is Debian's package (``make test`` installs it when run as root); Playwright only drives it and
never downloads a browser. Mandatory when ``CI=true``; elsewhere skipped, with the reason, if absent.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from harness.store import Store
from harness.store.synthetic import SyntheticRun, write_runs
from tests.helpers import run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic"]
HOSTILE = {
    "model": "<script>window.__pwned = 'model'</script>",
    "family": '"><img src=x onerror="window.__pwned = \'family\'">',
    "input": "<img src=x onerror=\"window.__pwned='input'\"> & <b>bold</b>",
    "prediction": "javascript:window.__pwned='prediction'",
    "tag": "<svg onload=\"window.__pwned='tag'\">",
    "label": "<a href=\"javascript:window.__pwned='label'\">Sentiment</a>",
}
BOARD = {
    "name": "hostile", "title": "Finance <i>board</i>", "description": "<script>window.__pwned = 'description'</script>",
    "groups": [{"name": "finance", "normalise": True, "columns": [
        {"task": "finance_sentiment", "metric": "acc", "direction": "higher", "chance": 1 / 3,
         "label": HOSTILE["label"]},
        {"task": "finance_headline", "metric": "acc", "direction": "higher", "chance": 0.5}]}],
}


def _chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Chromium is missing: apt-get install -y chromium")
        pytest.skip("Chromium is not installed (apt-get install -y chromium; 'make test' does it as root)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    return CHROMIUM


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A real tiny-pythia evaluation beside synthetic runs whose names, tags and outputs carry HTML and script."""
    root = tmp_path_factory.mktemp("browser")
    db = root / "store.duckdb"
    proc = run_cli("run", "--model", "tiny-pythia", "--task", "finance_sentiment,finance_headline", "--limit", "8",
                   "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    n = 120  # three pages of samples
    ids = write_runs(Store(db), [
        SyntheticRun(HOSTILE["model"], "finance_sentiment", {"acc": [i % 2 for i in range(n)]},
                     family=HOSTILE["family"], parameters=7_000_000, inputs=[HOSTILE["input"]] * n,
                     predictions=[HOSTILE["prediction"]] * n),
        SyntheticRun(HOSTILE["model"], "finance_headline", {"acc": [1] * n}, family=HOSTILE["family"],
                     parameters=7_000_000),
        SyntheticRun("zeta-13b", "finance_sentiment", {"acc": [1, 1, 1, 0]}, family="zeta", parameters=13_000_000),
    ])
    assert run_cli("tag", ids[0], HOSTILE["tag"], "--db", str(db)).returncode == 0
    (root / "hostile.yaml").write_text(yaml.safe_dump(BOARD))
    proc = run_cli("leaderboard", str(root / "hostile.yaml"), "--out", str(root / "site"), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    return root / "site"


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        page = browser.new_page()
        page.problems, page.requests = [], []
        page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        page.on("request", lambda r: page.requests.append(r.url))
        yield page
        browser.close()


def _column(page, index: int) -> list[str]:
    return page.eval_on_selector_all(f"#leaderboard tbody tr td:nth-child({index})",
                                     "cells => cells.map(c => c.textContent.trim())")


def test_the_table_sorts_when_a_header_is_clicked(site, browser_page):
    page = browser_page
    page.goto((site / "index.html").as_uri())
    models = _column(page, 2)
    assert len(models) == 3 and "tiny-pythia" in models
    header = "#leaderboard thead th:nth-child(2)"
    page.click(header)
    assert _column(page, 2) == sorted(models) and page.get_attribute(header, "aria-sort") == "ascending"
    page.click(header)
    assert _column(page, 2) == sorted(models, reverse=True) and page.get_attribute(header, "aria-sort") == "descending"
    page.click("#leaderboard thead th:nth-child(4)")  # parameters: by number, not by text
    sizes = page.eval_on_selector_all("#leaderboard tbody td:nth-child(4)", "cs => cs.map(c => Number(c.dataset.sort))")
    assert sizes == sorted(sizes) and len(set(sizes)) == 3
    for descending in (False, True):  # score (after memory): missing last in both directions
        page.click("#leaderboard thead th:nth-child(6)")
        scores = _column(page, 6)
        numbers = [float(s) for s in scores[:-1]]
        assert scores[-1] == "" and numbers == sorted(numbers, reverse=descending)
    assert page.problems == []


def test_plots_render_offline_without_requests_or_console_errors(site, browser_page):
    page = browser_page
    page.goto((site / "index.html").as_uri())
    assert page.locator("svg.chart").count() >= 1
    assert page.locator("svg.chart circle.point").count() >= 2  # the models with a score
    page.screenshot(path=str(site.parent / "index.png"), full_page=True)
    assert page.problems == []
    assert all(url.startswith(("file://", "data:")) for url in page.requests), page.requests


def test_stored_html_and_script_show_as_text_and_never_run(site, browser_page):
    page = browser_page
    page.goto((site / "index.html").as_uri())
    table = page.inner_text("#leaderboard")
    for key in ("model", "family", "tag"):
        assert HOSTILE[key] in table, key
    assert "Sentiment" in page.inner_text("#leaderboard thead") and page.locator("#leaderboard a[href^=javascript]").count() == 0
    assert page.locator("h1").inner_text() == "Finance <i>board</i>"
    page.mouse.move(5, 5)
    page.click("#leaderboard thead th:nth-child(6)")  # hover and click around
    assert page.evaluate("window.__pwned") is None
    hrefs = page.eval_on_selector_all("a", "links => links.map(a => a.getAttribute('href'))")
    assert all(h.startswith("runs/") and h.endswith(".html") for h in hrefs)
    # the run page of the hostile model: samples are text too
    page.click(f"#leaderboard tbody tr:has-text('{HOSTILE['model'][:8]}') td a >> nth=0")
    page.wait_for_selector("table.samples tbody tr")
    assert page.locator("table.samples tbody tr").count() == 50
    cells = page.eval_on_selector_all("table.samples tbody tr:first-child td", "cs => cs.map(c => c.textContent)")
    assert HOSTILE["input"] in cells and HOSTILE["prediction"] in cells
    assert page.locator("table.samples img, table.samples b, table.samples script").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.problems == []
    assert all(url.startswith(("file://", "data:")) for url in page.requests), page.requests


def test_run_pages_page_through_samples(site, browser_page):
    page = browser_page
    page.goto((site / "index.html").as_uri())
    page.click(f"#leaderboard tbody tr:has-text('{HOSTILE['model'][:8]}') td a >> nth=0")
    status = page.locator("#page-status")
    assert status.inner_text() == "page 1 of 3 (120 samples)"
    page.click("#next-page")
    page.click("#next-page")
    assert status.inner_text() == "page 3 of 3 (120 samples)"
    assert page.locator("table.samples tbody tr").count() == 20
    assert page.locator("table.samples tbody tr:first-child td").first.inner_text() == "100"
    page.click("#prev-page")
    assert status.inner_text().startswith("page 2 of 3")
    page.go_back()
    page.click("#leaderboard tbody tr:has-text('tiny-pythia') td a >> nth=0")  # a real evaluation's page
    assert "tiny-pythia on finance_" in page.locator("h1").inner_text()
    first = page.eval_on_selector_all("table.samples tbody tr:first-child td", "cs => cs.map(c => c.textContent)")
    assert first[0] == "0" and first[1].startswith(("Sentence:", "Headline:")) and ":" in first[3]
    assert page.problems == []
