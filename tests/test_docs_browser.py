"""The docs site in a real browser: Debian's headless Chromium, driven over the DevTools protocol
(tests/browser.py). With CI set, a browser that cannot start fails the test instead of skipping it.

MARTCTL_SCREENSHOTS=DIR also saves the README's screenshots (index, a mart page, column lineage) there:
    MARTCTL_SCREENSHOTS=docs/img .venv/bin/python -m pytest -q tests/test_docs_browser.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser import Browser, BrowserError, find_chromium
from test_docs import build_demo

import martctl as api

MART = "data_analyst.customer_ltv"


@pytest.fixture(scope="module")
def browser():
    if find_chromium() is None and not os.environ.get("CI"):
        pytest.skip("no chromium on PATH (apt-get install chromium); CI fails here instead")
    try:
        chromium = Browser.start(width=1280, height=900)
    except (BrowserError, OSError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"headless Chromium did not start: {exc}")
        pytest.skip(f"headless Chromium did not start: {exc}")
    with chromium:
        yield chromium


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_demo(tmp_path_factory.mktemp("browser") / "demo") / "target" / "docs"


def shots() -> Path | None:
    folder = os.environ.get("MARTCTL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder) if folder else None


def visible_marts(page) -> list[str]:
    return page.evaluate("[...document.querySelectorAll('tr.entry:not(.hidden) a')].map(a => a.textContent)")


def test_the_index_lists_every_mart_and_search_finds_one_by_a_word_of_its_description(browser, site):
    page = browser.open((site / "index.html").as_uri())
    marts = set(api.open(site.parent.parent).project.marts)
    assert marts <= set(visible_marts(page))
    assert page.evaluate("document.querySelector('h1').textContent").startswith("examplecorp: 9 marts")
    if shots():
        page.screenshot(shots() / "docs-index.png")
    page.key("/", text="/")  # the shortcut focuses the search box
    assert page.evaluate("document.activeElement.id") == "search"
    page.type("lifetime")  # customer_ltv's description: "Customer lifetime value ..."
    assert visible_marts(page) == [MART]
    assert page.evaluate("document.getElementById('search-count').textContent") == "1 of 14 match"
    assert page.evaluate("document.querySelector('#area-marketing').classList.contains('hidden')")
    page.key("Enter")  # opens the first match
    page.browser.wait_event("Page.loadEventFired", page.session)
    assert page.evaluate("location.pathname").endswith(f"/marts/{MART}.html")


def test_a_mart_page_shows_its_columns_and_tests(browser, site):
    page = browser.open((site / "marts" / f"{MART}.html").as_uri())
    columns = page.evaluate("[...document.querySelectorAll('table.columns tbody th')].map(th => th.textContent)")
    assert columns == ["customer_id", "country", "completed_orders", "revenue", "net_revenue", "avg_order_value",
                       "active_days", "rank_in_country", "tier"]
    tests = page.evaluate("[...document.querySelectorAll('table.tests tbody tr')].map(tr => "
                          "[tr.cells[0].textContent, tr.cells[4].textContent])")
    assert ["accepted_values__tier", "PASS"] in tests and ["not_null__customer_id", "PASS"] in tests
    headings = page.evaluate("[...document.querySelectorAll('h1, h2, h3')].map(h => h.tagName + ' ' + h.textContent)")
    assert headings[:5] == [f"H1 {MART}", "H2 Columns", "H2 Tests", "H2 Lineage", "H3 Tables"]
    if shots():
        page.screenshot(shots() / "docs-mart.png")


def test_clicking_a_column_highlights_where_it_comes_from_and_what_reads_it(browser, site):
    page = browser.open((site / "marts" / f"{MART}.html").as_uri())
    page.click(f'svg.columns .col[data-id="{MART}.net_revenue"]')
    ids = "(cls) => [...document.querySelectorAll('svg.columns .col.' + cls)].map(c => c.dataset.id).sort()"
    assert page.evaluate(f"({ids})('upstream')") == ["data_analyst.customer_orders.refunded",  # the input mart's
                                                      "data_analyst.customer_orders.revenue",
                                                      "raw.orders.amount", "raw.orders.status"]  # and the source's
    assert page.evaluate(f"({ids})('downstream')") == ["data_analyst.top_customers.net_revenue"]
    assert page.evaluate(f"({ids})('selected')") == [f"{MART}.net_revenue"]
    assert page.evaluate("document.querySelectorAll('svg.columns .edge.upstream').length") == 6
    said = page.evaluate("document.getElementById('lineage-said').textContent")
    assert said.startswith(f"{MART}.net_revenue comes from data_analyst.customer_orders.refunded")
    if shots():
        page.evaluate("document.getElementById('column-lineage').scrollIntoView()")
        page.screenshot(shots() / "docs-column-lineage.png")
    # the keyboard does the same: Tab to a column, Enter selects it, Enter again clears
    page.evaluate(f"document.querySelector('svg.columns .col[data-id=\"{MART}.country\"]').focus()")
    page.key("Enter")
    assert page.evaluate(f"({ids})('upstream')") == ["data_analyst.customer_orders.country", "raw.customers.country"]
    assert page.evaluate(f"({ids})('selected')") == [f"{MART}.country"]
    page.key("Enter")
    assert page.evaluate(f"({ids})('selected')") == [] and page.evaluate(f"({ids})('upstream')") == []
