"""martctl docs build / serve, show, debug: the site's facts checked in its files (the browser test
opens them in Chromium: tests/test_docs_browser.py)."""

from __future__ import annotations

import json
import re
import shutil
import threading
import urllib.request
from html import unescape
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, write_project
from test_cli_skin import martctl

import martctl as api
from martctl.docs.layout import layers


def build_demo(root: Path) -> Path:
    """A private copy of the demo, built, then its docs built; returns the project folder."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config.yaml", root / "config.yaml")
    shutil.copytree(REPO / "marts", root / "marts")
    shutil.copytree(REPO / "seeds", root / "seeds")
    ws = api.open(root)
    assert ws.build().exit_code() == 0
    docs = martctl("docs", "build", "--project-dir", str(root))  # the command, once
    assert docs.returncode == 0 and "wrote 18 files (9 marts, 5 sources)" in docs.stderr, docs.stderr
    return root


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory) -> Path:
    return build_demo(tmp_path_factory.mktemp("docs") / "demo")


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_the_index_links_every_mart_and_source_with_its_status_and_rows(built_demo):
    site = built_demo / "target" / "docs"
    index = (site / "index.html").read_text()
    project = api.open(built_demo).project
    for key in project.marts:
        assert f'href="marts/{key}.html"' in index, key
        assert (site / "marts" / f"{key}.html").is_file()
    for key in project.sources:
        assert f'href="sources/{key}.html"' in index, key
    rows = duckdb.connect(str(built_demo / "warehouse.duckdb"), read_only=True).sql(
        "select count(*) from data_analyst.customer_ltv").fetchall()[0][0]
    row = re.search(r'<tr class="entry"[^>]*>.*?marts/data_analyst\.customer_ltv\.html.*?</tr>', index).group(0)
    assert "Customer lifetime value" in row and ">built<" in row and f'class="num">{rows}<' in row
    assert "Last run: <code>build</code>" in index


def test_a_mart_page_has_columns_tests_sql_and_both_lineages(built_demo):
    page = (built_demo / "target" / "docs" / "marts" / "data_analyst.customer_ltv.html").read_text()
    text = text_of(page)
    for heading in ("<h1>data_analyst.customer_ltv</h1>", 'id="columns">Columns</h2>', 'id="tests">Tests</h2>',
                    'id="lineage">Lineage</h2>', 'id="sql">SQL</h2>'):
        assert heading in page, heading
    net = re.search(r"<tr id=\"col-net_revenue\">.*?</tr>", page).group(0).replace("<wbr>", "")
    assert "data_analyst.customer_orders.revenue" in net and "data_analyst.customer_orders.refunded" in net
    assert "data_analyst.top_customers.net_revenue" in net  # used by
    assert re.search(r"accepted_values__tier\s+PASS", text)
    assert "revenue - refunded as net_revenue" in text  # as written
    assert "Compiled for target" in page and '"data_analyst"."customer_orders"' in unescape(page) or \
        "data_analyst.customer_orders" in text
    columns_svg = page[page.index('<svg class="lineage columns"'):]
    assert 'data-from="data_analyst.customer_orders.refunded" data-to="data_analyst.customer_ltv.net_revenue"' in columns_svg
    assert 'data-from="data_analyst.customer_ltv.net_revenue" data-to="data_analyst.top_customers.net_revenue"' in columns_svg
    assert 'data-from="raw.orders.amount" data-to="data_analyst.customer_orders.revenue"' in columns_svg  # down to sources
    tables_svg = page[page.index('<svg class="lineage tables"'):page.index('<svg class="lineage columns"')]
    assert 'data-from="data_analyst.customer_orders" data-to="data_analyst.customer_ltv"' in tables_svg
    assert 'data-from="raw.orders" data-to="data_analyst.customer_orders"' in tables_svg  # two hops up
    assert 'role="img" aria-label="Column lineage of data_analyst.customer_ltv' in page  # a text equivalent


def test_the_site_needs_no_network_and_its_local_links_resolve(built_demo):
    site = built_demo / "target" / "docs"
    for path in site.rglob("*.html"):
        html = path.read_text()
        without_svg_namespace = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "http://" not in without_svg_namespace and "https://" not in without_svg_namespace and "//cdn" not in html, path
        for ref in re.findall(r'(?:href|src)="([^"#]+)', html):
            assert (path.parent / ref).resolve().is_file(), f"{path.name}: {ref}"
    assert {p.name for p in (site / "assets").iterdir()} == {"site.css", "site.js"}


def test_a_planted_failure_shows_on_the_pages_and_good_data_passes(tmp_path):
    root = write_project(tmp_path / "p", {
        "seeds/people.csv": "id,email\n1,a@x.org\n2,\n3,c@x.org\n",  # planted: a missing email
        "marts/crm/people.yml": "description: 'People we can write to <script>alert(1)</script>'\n"
                                "sql: select id, email from raw.people\n"
                                "columns:\n  email: {tests: [not_null]}\n  id: {tests: [unique]}\n",
        "marts/crm/mailing.yml": "sql: select email from crm.people\n",
    })
    ws = api.open(root)
    assert ws.build().exit_code() == 1
    ws.docs_build()
    site = json.loads((root / "target" / "docs" / "catalog.json").read_text())
    people = site["marts"]["crm.people"]
    tests = {t["name"]: (t["status"], t["failures"]) for c in people["columns"] for t in c["tests"]}
    assert tests == {"not_null__email": ("FAIL", 1), "unique__id": ("PASS", 0)}
    assert people["status"] == "failing" and site["marts"]["crm.mailing"]["status"] == "skipped"
    page = (root / "target" / "docs" / "marts" / "crm.people.html").read_text()
    assert re.search(r'not_null__email</code></td>.*?class="badge s-fail">FAIL<', page)
    index = (root / "target" / "docs" / "index.html").read_text()
    for html in (page, index):  # text is text, never markup
        assert "<script>alert" not in html and "People we can write to &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_docs_build_from_the_project_alone_touches_no_warehouse(demo_dir):
    stale = demo_dir / "target" / "docs" / "marts" / "old_area.removed_mart.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("a page of a mart since removed")
    assert api.open(demo_dir).docs_build().warehouse is False
    assert not stale.exists()
    assert not (demo_dir / "warehouse.duckdb").exists()
    site = json.loads((demo_dir / "target" / "docs" / "catalog.json").read_text())
    assert {m["status"] for m in site["marts"].values()} == {"not run"} and site["run"] is None
    assert all(m["rows"] is None and m["compiled_sql"] for m in site["marts"].values())


def test_a_big_project_draws_areas_on_the_index_and_a_capped_neighbourhood_per_mart(tmp_path):
    from benchmarks.generate import generate_project
    from martctl.docs.neighbourhood import MAX_TABLES
    from martctl.docs.pages import FULL_GRAPH_MAX

    root = generate_project(tmp_path / "big", 120)
    site = api.open(root).docs_build(warehouse=False)
    assert site.marts == 120
    index = (site.path / "index.html").read_text()
    drawn = re.findall(r'<g class="node[^"]*" data-key="([^"]+)"', index)
    assert 1 < len(drawn) < FULL_GRAPH_MAX and "area_00" in drawn
    for page in (site.path / "marts").glob("*.html"):
        assert len(re.findall(r'<g class="node', page.read_text())) <= MAX_TABLES


def test_show_prints_a_marts_first_rows(built_demo):
    result = martctl("show", "customer_ltv", "-n", "3", "--json", "--project-dir", str(built_demo))
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    expected = duckdb.connect(str(built_demo / "warehouse.duckdb"), read_only=True).sql(
        "select * from data_analyst.customer_ltv limit 3").fetchall()
    assert shown["mart"] == "data_analyst.customer_ltv" and len(shown["rows"]) == 3
    assert [list(r.values()) for r in shown["rows"]] == json.loads(json.dumps(expected, default=str))  # decimals exact
    table = martctl("show", "data_analyst.top_customers", "--project-dir", str(built_demo))
    assert table.returncode == 0 and "first 20 rows" in table.stdout and "net_revenue" in table.stdout


def test_show_of_an_unknown_or_unbuilt_mart_says_what_to_do(built_demo, demo_dir):
    typo = martctl("show", "custmer_ltv", "--project-dir", str(built_demo))
    assert typo.returncode == 2 and "did you mean 'customer_ltv'" in typo.stderr and "Traceback" not in typo.stderr
    ws = api.open(demo_dir)
    ws.seed()
    with pytest.raises(api.ProjectError, match="'data_analyst.customer_ltv' is not built") as unbuilt:
        ws.show("customer_ltv")
    assert unbuilt.value.problems[0].hint == "martctl build -s data_analyst.customer_ltv"


def test_debug_passes_on_the_demo_and_names_what_fails(built_demo):
    ok = martctl("debug", "--project-dir", str(built_demo))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "All checks passed!" in ok.stdout and "sqlglot" in ok.stdout and "OK   connection" in ok.stdout
    report = api.debug(built_demo, "pg").as_dict()
    assert not report["ok"]
    target = next(c for c in report["checks"] if c["name"] == "target")
    assert not target["ok"] and "MARTCTL_PG_DSN" in target["detail"]


def test_debug_reports_a_refused_connection_without_the_password(built_demo, monkeypatch):
    monkeypatch.setenv("MARTCTL_PG_DSN", "postgresql://me:s3cret-pw@127.0.0.1:1/nothing?connect_timeout=3")
    report = api.debug(built_demo, "pg")
    checks = {c.name: c for c in report.checks}
    assert report.exit_code() == 1 and checks["target"].ok and checks["config"].ok
    assert not checks["connection"].ok and "s3cret-pw" not in json.dumps(report.as_dict())


def test_docs_serve_serves_the_site_on_localhost(built_demo, demo_dir):
    server = api.open(built_demo).docs_server(port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=10) as response:
            assert response.status == 200 and "examplecorp: 9 marts" in response.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/assets/site.js", timeout=10) as response:
            assert b"column lineage" in response.read()
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(api.ProjectError, match="no docs site"):
        api.open(demo_dir).docs_server(port=0)


def test_layers_put_every_edge_left_to_right_and_uncross_a_simple_crossing():
    grouped = layers(["a", "b", "x", "y"], [("a", "y"), ("b", "x")])
    assert grouped == [["a", "b"], ["y", "x"]]  # y follows a, x follows b: no crossing
    edges = [("s1", "m1"), ("s2", "m1"), ("m1", "m2"), ("s1", "m2"), ("m2", "m3")]
    placed = {n: i for i, layer in enumerate(layers(["m3", "m2", "m1", "s2", "s1"], edges)) for n in layer}
    assert all(placed[a] < placed[b] for a, b in edges)
    assert placed["m2"] == 2  # its longest path, not its shortest
    both_ways = layers(["a", "b", "c"], [("a", "b"), ("b", "a"), ("b", "c"), ("c", "c")])  # areas may read each other
    assert sorted(n for layer in both_ways for n in layer) == ["a", "b", "c"] and both_ways[0] == ["a"]


def test_on_postgres_show_docs_and_debug_read_the_real_server(pg_server, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCS_PG_DSN", pg_server.new_database())
    root = write_project(tmp_path / "p", {
        "config.yaml": "name: pgdocs\ndialect: duckdb\ndefault_target: pg\n"
                       "targets:\n  pg: {type: postgres, dsn: '${DOCS_PG_DSN}'}\n",
        "seeds/people.csv": "id,country\n1,FR\n2,DE\n3,FR\n",
        "marts/crm/by_country.yml": "sql: select country, count(*) as people from raw.people group by country\n"
                                    "columns:\n  country: {tests: [unique]}\n",
    })
    ws = api.open(root)
    assert ws.build().exit_code() == 0
    preview = ws.show("by_country", limit=1)
    assert preview.relation == "crm.by_country" and preview.columns == ["country", "people"] and len(preview.rows) == 1
    assert sorted(tuple(r) for r in ws.show("crm.by_country").rows) == [("DE", 1), ("FR", 2)]
    site = ws.docs_build()
    assert site.warehouse and site.warnings == []
    catalog = json.loads((site.path / "catalog.json").read_text())
    mart = catalog["marts"]["crm.by_country"]
    assert mart["rows"] == 2 and catalog["sources"]["raw.people"]["rows"] == 3
    assert [c["type"] for c in mart["columns"]] == ["text", "bigint"]  # as the server reports them
    assert mart["columns"][0]["tests"][0]["status"] == "PASS"
    assert {c.name: c.ok for c in ws.debug().checks}["connection"]


def test_marts_left_out_of_the_last_run_still_show_what_the_warehouse_holds(built_demo, tmp_path):
    root = tmp_path / "demo"
    shutil.copytree(built_demo, root, ignore=shutil.ignore_patterns("docs"))
    ws = api.open(root)
    assert ws.run(select=["customer_orders"]).exit_code() == 0  # the last run: one mart
    ws.docs_build(tmp_path / "site")
    site = json.loads((tmp_path / "site" / "catalog.json").read_text())
    assert site["marts"]["data_analyst.customer_orders"]["status"] == "built"
    assert site["marts"]["data_analyst.customer_ltv"]["status"] == "in warehouse"
    assert site["marts"]["data_analyst.customer_ltv"]["rows"] == 600
    index = (tmp_path / "site" / "index.html").read_text()
    row = re.search(r'<tr class="entry"[^>]*>.*?marts/data_analyst\.customer_orders\.html.*?</tr>', index).group(0)
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d</td>", row)  # when it was built
