"""The leaderboard site in headless Chromium, driven by Playwright: sorting, charts, paging, opening a sample,
filtering and searching samples, the fixed model column, why a score is missing, no console errors, no network
requests, and stored HTML or script shown as text, never executed.

Chromium is Debian's package (``make test`` installs it when run as root); Playwright only drives it and
never downloads a browser. Mandatory when ``CI=true``; elsewhere skipped, with the reason, if absent.
"""

from __future__ import annotations

import json
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
    "output": "</pre><script>window.__pwned='output'</script><b>bold</b>",
    "doc": "<img src=x onerror=\"window.__pwned='doc'\">",
    "continuation": " <script>window.__pwned='request'</script>",
    "plot": "<script>window.__pwned='plot'</script> Finance score against parameters, a title far too long for "
            "one line of the chart",
}
BOARD = {
    "name": "hostile", "title": "Finance <i>board</i>", "description": "<script>window.__pwned = 'description'</script>",
    "groups": [{"name": "finance", "normalise": True, "columns": [
        {"task": "finance_sentiment", "metric": "acc", "direction": "higher", "chance": 1 / 3,
         "label": HOSTILE["label"]},
        {"task": "finance_headline", "metric": "acc", "direction": "higher", "chance": 0.5}]},
        {"name": "reasoning", "columns": [{"task": "reasoning_navigate_cot", "metric": "exact_match",
                                           "filter": "extract-choice", "direction": "higher"}]}],
    "plots": [{"title": HOSTILE["plot"], "y": "finance", "log_x": True}],
}


def _chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Chromium is missing: apt-get install -y chromium")
        pytest.skip("Chromium is not installed (apt-get install -y chromium; 'make test' does it as root)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    return CHROMIUM


def _hostile_outputs(store: Store, run_id: str, n: int) -> None:
    """Give a synthetic run hostile raw outputs (each with a findable ``answer NNN``), documents and requests (with
    a context of their own), written as a run's are."""
    requests = [{"run_id": run_id, "doc_id": doc_id, "idx": 0, "repeat": 0, "request_type": "generate_until",
                 "arguments": json.dumps([HOSTILE["doc"], HOSTILE["continuation"]]),
                 "response": json.dumps(HOSTILE["output"]), "cache_key": None} for doc_id in range(n)]
    store.append(requests, [], [])
    with store.writing() as conn:
        conn.execute("UPDATE samples SET raw_output = ? || ' answer ' || lpad(doc_id::VARCHAR, 3, '0'), doc = ? "
                     "WHERE run_id = ?", [HOSTILE["output"], json.dumps({"question": HOSTILE["doc"]}), run_id])


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Real tiny-pythia evaluations (log-likelihood and chain of thought) beside synthetic runs whose names, tags,
    outputs, documents and requests carry HTML and script."""
    root = tmp_path_factory.mktemp("browser")
    db = root / "store.duckdb"
    proc = run_cli("run", "--model", "tiny-pythia", "--task", "finance_sentiment,finance_headline", "--limit", "8",
                   "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("run", "--model", "tiny-pythia", "--task", "reasoning_navigate_cot", "--limit", "4",
                   "--gen-kwargs", "max_gen_toks=24", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    n = 120  # three pages of samples
    ids = write_runs(Store(db), [
        SyntheticRun(HOSTILE["model"], "finance_sentiment", {"acc": [i % 2 for i in range(n)]},
                     family=HOSTILE["family"], parameters=7_000_000, inputs=[HOSTILE["input"]] * n,
                     predictions=[HOSTILE["prediction"]] * n),
        SyntheticRun(HOSTILE["model"], "finance_headline", {"acc": [int(i % 4 == 0) for i in range(n)]},
                     family=HOSTILE["family"], parameters=7_000_000),  # below chance: a negative group score
        SyntheticRun("zeta-13b", "finance_sentiment", {"acc": [1, 1, 1, 0]}, family="zeta", parameters=13_000_000),
    ])
    assert run_cli("tag", ids[0], HOSTILE["tag"], "--db", str(db)).returncode == 0
    _hostile_outputs(Store(db), ids[0], n)
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
    for descending in (False, True):  # the finance group (after the score): missing last in both directions
        page.click("#leaderboard thead th:nth-child(7)")
        scores = _column(page, 7)
        numbers = [float(s) for s in scores[:-1]]
        assert scores[-1] == "—1 of 2" and numbers == sorted(numbers, reverse=descending) and min(numbers) < 0
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


def _stored_samples(site: Path, model: str, task: str) -> list[dict]:
    store = Store(site.parent / "store.duckdb")
    run_id = next(r["run_id"] for r in store.list_runs() if r["model"] == model and r["task"] == task)
    return store.samples_of([run_id])[run_id]


def _detail(page) -> dict[str, str]:
    """The open sample's sections: heading -> text of what follows it."""
    return page.eval_on_selector_all("tr.detail h4", """hs => Object.fromEntries(hs.map(h =>
        [h.textContent, h.nextElementSibling.textContent]))""")


def test_a_chain_of_thought_sample_opens_to_its_prompt_raw_output_prediction_and_target(site, browser_page):
    page = browser_page
    page.goto((site / "index.html").as_uri())
    page.click("#leaderboard tbody tr:has-text('tiny-pythia') td a[href] >> nth=-1")  # the reasoning column
    assert "tiny-pythia on reasoning_navigate_cot" in page.locator("h1").inner_text()
    stored = _stored_samples(site, "tiny-pythia", "reasoning_navigate_cot")
    headers = page.eval_on_selector_all("table.samples thead th", "hs => hs.map(h => h.textContent)")
    assert headers == ["doc", "input", "target", "prediction", "output", "metrics"]
    first = page.eval_on_selector_all("table.samples tbody tr:first-child td", "cs => cs.map(c => c.textContent)")
    assert first[4] == stored[0]["raw_output"][:300] + ("…" if len(stored[0]["raw_output"]) > 300 else "")
    assert page.locator("tr.detail").count() == 0
    page.click("table.samples tbody tr:first-child button.open")
    detail = _detail(page)
    assert detail["Prompt as sent"] == stored[0]["input"] and "Question:" in stored[0]["input"]
    assert detail["Model output (raw)"] == (stored[0]["raw_output"] or "(empty)")
    assert "target" + json.loads(stored[0]["target"]) in detail["Answer"] and "prediction (extracted)" in detail["Answer"]
    assert "max_gen_toks" in detail["Requests (1)"] and "the prompt above" in detail["Requests (1)"]
    assert "gold_letter" in detail["Document"]
    page.click("table.samples tbody tr:first-child button.open")  # closes again
    assert page.locator("tr.detail").count() == 0
    assert page.problems == []


def test_a_multiple_choice_sample_shows_each_request_as_sent(site, browser_page):
    page = browser_page
    page.goto((site / "index.html").as_uri())
    page.click("#leaderboard tbody tr:has-text('tiny-pythia') td a >> nth=0")
    task = page.locator("h1").inner_text().rpartition(" on ")[2]
    stored = _stored_samples(site, "tiny-pythia", task)[0]
    page.click("table.samples tbody tr:first-child button.open")
    rows = page.eval_on_selector_all("tr.detail table.requests tbody tr",
                                     "rs => rs.map(r => Array.from(r.cells).map(c => c.textContent))")
    choices = json.loads(stored["choices"])
    assert [row[2] for row in rows] == [json.dumps(" " + choice) for choice in choices]  # the continuations sent
    assert all(row[3].startswith("log-likelihood -") for row in rows)
    assert _detail(page)["Prompt as sent"] == stored["input"]
    assert page.problems == []


def test_samples_filter_to_wrong_answers_and_search_their_text(site, browser_page):
    page = browser_page
    page.goto((site / "index.html").as_uri())
    page.click(f"#leaderboard tbody tr:has-text('{HOSTILE['model'][:8]}') td a >> nth=0")
    status = page.locator("#page-status")
    page.select_option("#sample-filter", "acc")  # acc is 0 on the even docs
    assert status.inner_text() == "page 1 of 2 (60 of 120 samples)"
    docs = page.eval_on_selector_all("table.samples tbody tr", "rs => rs.map(r => [r.className, r.cells[0].textContent])")
    assert len(docs) == 50 and all(cls == "wrong" and int(doc) % 2 == 0 for cls, doc in docs)
    page.fill("#sample-search", "ANSWER 042")  # case-insensitive, in the raw output
    assert status.inner_text() == "page 1 of 1 (1 of 120 samples)"
    page.fill("#sample-search", "answer 043")  # right, so filtered out
    assert status.inner_text() == "page 1 of 1 (0 of 120 samples)"
    page.select_option("#sample-filter", "")
    assert page.locator("table.samples tbody tr").count() == 1
    page.fill("#sample-search", "<script>window.__pwned")  # hostile text in a search is only text (every output)
    assert status.inner_text() == "page 1 of 3 (120 samples)"
    assert page.evaluate("window.__pwned") is None and page.problems == []


def test_an_opened_hostile_sample_is_text_and_never_runs(site, browser_page):
    page = browser_page
    page.goto((site / "index.html").as_uri())
    page.click(f"#leaderboard tbody tr:has-text('{HOSTILE['model'][:8]}') td a >> nth=0")
    page.fill("#sample-search", "answer 007")
    page.click("table.samples tbody tr:first-child button.open")
    detail = _detail(page)
    assert detail["Model output (raw)"] == HOSTILE["output"] + " answer 007"
    assert detail["Prompt as sent"] == HOSTILE["input"] and HOSTILE["doc"] in detail["Document"]
    assert HOSTILE["doc"] in detail["Requests (1)"] and json.dumps(HOSTILE["continuation"]) in detail["Requests (1)"]
    assert page.locator("table.samples img, table.samples b, table.samples script").count() == 0
    page.click("#next-page")  # paging and closing around the open sample
    page.click("table.samples tbody tr:first-child button.open")
    assert page.evaluate("window.__pwned") is None and page.problems == []
    assert all(url.startswith(("file://", "data:")) for url in page.requests), page.requests


def test_run_settings_are_readable_tables_with_rounded_numbers(site, browser_page):
    page = browser_page
    page.goto((site / "index.html").as_uri())
    page.click("#leaderboard tbody tr:has-text('tiny-pythia') td a[href] >> nth=-1")
    settings = dict(page.eval_on_selector_all("#settings tr", "rs => rs.map(r => [r.cells[0].textContent, "
                                                               "r.cells[1].textContent])"))
    assert settings["limit"] == "4" and settings["gen_kwargs.max_gen_toks"] == "24"
    assert json.loads(settings["gen_kwargs.until"])[0] == "\n\nQuestion:"
    config = dict(page.eval_on_selector_all("#configuration tr", "rs => rs.map(r => [r.cells[0].textContent, "
                                                                   "r.cells[1].textContent])"))
    for key in ("duration_s", "samples_per_s"):
        digits = config[key].replace(".", "").replace(",", "").lstrip("0")
        assert 0 < len(digits) <= 5, config[key]
    assert page.locator("pre").count() == 0  # no JSON dumps (until a sample is opened)
    assert page.problems == []


def test_the_model_column_stays_in_view_while_the_table_scrolls_sideways(site, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 640, "height": 800})
    page.goto((site / "index.html").as_uri())
    box = lambda selector: page.locator(selector).first.bounding_box()  # noqa: E731
    before = box("#leaderboard tbody tr td.model"), box("#leaderboard tbody tr td:nth-child(3)")
    scrolled = page.eval_on_selector(".table-scroll", "s => { s.scrollLeft = 400; return s.scrollLeft; }")
    assert scrolled > 100
    after = box("#leaderboard tbody tr td.model"), box("#leaderboard tbody tr td:nth-child(3)")
    container = box(".table-scroll")
    assert after[1]["x"] < before[1]["x"] - 100  # the family column scrolled away
    assert abs(after[0]["x"] - container["x"]) <= 2  # the model column stayed at the left edge
    assert page.locator("#leaderboard thead th.model").bounding_box()["x"] == after[0]["x"]
    assert page.problems == []


def test_missing_scores_say_why_and_normalised_scores_are_explained(site, browser_page):
    page = browser_page
    page.goto((site / "index.html").as_uri())
    zeta = "#leaderboard tbody tr:has-text('zeta-13b')"
    cells = page.eval_on_selector_all(f"{zeta} td.missing", "cs => cs.map(c => [c.textContent, c.title])")
    assert ["—0 of 2 groups", "partially evaluated: 0 of 2 scored groups (the overall score needs all); missing: "
            "finance, reasoning"] in cells
    assert any(text == "—1 of 2" and title.startswith("task group partially evaluated: 1 of 2 columns")
               and "finance_headline acc: no run for this task (finance_headline)" in title for text, title in cells)
    assert ["—no run", "no run for this task (finance_headline)"] in cells
    hostile = f"#leaderboard tbody tr:has-text('{HOSTILE['model'][:8]}')"
    score = page.eval_on_selector(f"{hostile} td:nth-child(6)", "c => [c.textContent, c.title]")
    assert score[0] == "—1 of 2 groups" and score[1].endswith("missing: reasoning")
    below = page.eval_on_selector(f"{hostile} td:nth-child(7)", "c => [Number(c.textContent), c.title]")
    assert below[0] < 0 and below[1].startswith("below chance")
    header = page.eval_on_selector("#leaderboard thead th:nth-child(7)", "h => [h.textContent, h.title]")
    assert header[0] == "financenormalised *" and "below chance is negative" in header[1]
    assert "below chance is negative" in page.inner_text("#normalised-note")
    assert page.locator("#leaderboard thead th:nth-child(8) .mark").count() == 0  # reasoning is not normalised
    assert page.problems == []


def test_chart_titles_wrap_and_are_never_cut(site, browser_page):
    page = browser_page
    page.goto((site / "index.html").as_uri())
    titles = page.eval_on_selector_all("svg.chart", """svgs => svgs.map(svg => {
        const spans = Array.from(svg.querySelectorAll('text.chart-title tspan'));
        return [spans.map(s => s.textContent).join(' '), Number(svg.getAttribute('width')),
                Math.max(...spans.map(s => s.getBBox().x + s.getComputedTextLength()))];
    })""")
    assert titles and all(text == HOSTILE["plot"] and right <= width for text, width, right in titles)
    assert page.locator("svg.chart text.chart-title tspan").count() >= 2
    assert page.evaluate("window.__pwned") is None and page.problems == []
