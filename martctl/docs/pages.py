"""The pages: the index (searchable list of marts and sources by area, the project's table
lineage) and one page per mart and per source (columns, tests, SQL, lineage pictures)."""

from __future__ import annotations

from typing import Any, Mapping

from martctl.docs import svg
from martctl.docs.html import badge, e, facts, join, link, page, seconds
from martctl.docs.neighbourhood import area_graph, column_boxes, table_neighbourhood

FULL_GRAPH_MAX = 60  # a project up to this many tables is drawn whole on the index; above, by area


def file_of(key: str, kind: str) -> str:
    return f"{'marts' if kind == 'mart' else 'sources'}/{key}.html"


def _href_from_page(site: Mapping[str, Any]):
    def href(key: str) -> str | None:
        item = site["marts"].get(key) or site["sources"].get(key)
        return "../" + file_of(key, item["kind"]) if item else None
    return href


def _rel(site, key: str, prefix: str = "../") -> str:
    item = site["marts"].get(key) or site["sources"].get(key)
    return link(prefix + file_of(key, item["kind"]), key) if item else e(key)


# --- index -------------------------------------------------------------------------------------------

def index_page(site: Mapping[str, Any]) -> str:
    items = list(site["marts"].values()) + list(site["sources"].values())
    by_area: dict[str, list[dict]] = {}
    for item in items:
        by_area.setdefault(item["area"], []).append(item)
    run = site.get("run")
    summary = (f"<p>Last run: <code>{e(run.get('command'))}</code> on target {e(run.get('target'))}, finished "
               f"{e(run.get('finished_at'))} in {seconds(run.get('elapsed_seconds'))}, exit code {e(run.get('exit_code'))}.</p>"
               if run else "<p>No run recorded yet (target/run_results.json): statuses show <em>not run</em>.</p>")
    sections = []
    for area in sorted(by_area):
        rows = "".join(_index_row(item) for item in sorted(by_area[area], key=lambda i: i["name"]))
        kinds = {i["kind"] for i in by_area[area]}
        what = "marts" if kinds == {"mart"} else "sources"
        sections.append(
            f'<section class="area" id="area-{e(area)}" aria-labelledby="h-{e(area)}"><h3 id="h-{e(area)}">{e(area)} '
            f'<span class="count">{len(by_area[area])} {what}</span></h3>'
            '<table class="list"><thead><tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Owner</th>'
            '<th scope="col">Tags</th><th scope="col">Status</th><th scope="col">Last built</th><th scope="col">Rows</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></section>")
    n_marts, n_sources = len(site["marts"]), len(site["sources"])
    body = f"""<h1>{e(site['project'])}: {n_marts} marts, {n_sources} sources</h1>
{summary}
<div class="search" role="search">
<label for="search">Search marts and sources</label>
<input id="search" type="search" placeholder="name, word of a description, owner, tag, column… (press /)" autocomplete="off"
 aria-describedby="search-count">
<span id="search-count" aria-live="polite"></span>
</div>
<h2 id="catalog">Catalog by area</h2>
{''.join(sections)}
<h2 id="lineage">Table lineage</h2>
{_project_picture(site)}
"""
    return page("Catalog", body, "", site["project"])


def _index_row(item: dict) -> str:
    words = " ".join([item["key"], item["description"], item.get("owner") or "", " ".join(item.get("tags") or ()),
                      " ".join(c["name"] for c in item["columns"])])
    return (f'<tr class="entry" data-search="{e(words.lower())}" data-kind="{e(item["kind"])}">'
            f'<td>{link(file_of(item["key"], item["kind"]), item["key"])}</td><td>{e(item["description"])}</td>'
            f'<td>{e(item.get("owner") or "")}</td><td>{e(", ".join(item.get("tags") or ()))}</td>'
            f'<td>{badge(item["status"])}</td><td>{e(_when(item))}</td><td class="num">{e(item.get("rows") if item.get("rows") is not None else "")}</td></tr>')


def _when(item: dict) -> str:
    """The last run's start of this node, to the minute (UTC), when it was built then."""
    last = item.get("last_run") or {}
    started = last.get("started_at") if last.get("status") == "success" else None
    return started[:16].replace("T", " ") if started else ""


def _project_picture(site) -> str:
    total = len(site["marts"]) + len(site["sources"])
    if total <= FULL_GRAPH_MAX:
        nodes = {**site["sources"], **site["marts"]}
        edges = [(u, k) for k, m in site["marts"].items() for u in m["upstream"]]
        picture = svg.table_graph(nodes, edges, lambda k: file_of(k, nodes[k]["kind"]), None,
                                  f"Table lineage of {site['project']}: {total} tables; the catalog above lists each "
                                  "with its page, which names its upstream and downstream.")
        note = "Every mart and source; inputs on the left, readers on the right. Each box links to its page."
    else:
        nodes, edges, counts = area_graph(site)
        picture = svg.table_graph(nodes, edges, lambda a: f"#area-{a}", None,
                                  f"Lineage between the {len(nodes)} areas of {site['project']}")
        note = (f"{total} tables are too many for one readable picture: this shows the areas and which areas read which "
                "(the number of marts in each box); each mart's page draws its own neighbourhood.")
        rows = "".join(f"<li>{e(a)} reads {join(e(b) for b in sorted(bs))}</li>" for a, bs in sorted(counts.items()))
        note += f'<details><summary>As text</summary><ul>{rows}</ul></details>'
    return f'<p class="note">{note}</p><div class="pan" data-pan>{picture}</div>'


# --- a mart's page -----------------------------------------------------------------------------------

def mart_page(site: Mapping[str, Any], key: str, target: str) -> str:
    mart = site["marts"][key]
    last = mart.get("last_run") or {}
    run_text = (f"{badge(last.get('status'))} at {e(last.get('started_at'))}, {seconds(last.get('seconds'))}"
                + (f" — {e(last.get('error') or last.get('reason'))}" if last.get("error") or last.get("reason") else "")
                if last else badge(None))
    body = [f"<h1>{e(key)}</h1>", f'<p class="lead">{e(mart["description"]) or "<em>No description.</em>"}</p>',
            facts([("Status", badge(mart["status"])), ("Owner", e(mart["owner"])), ("Tags", e(", ".join(mart["tags"]))),
                   ("Materialized", e(mart["materialized"])), ("Dialect", e(mart["dialect"])),
                   ("Defined in", f"<code>{e(mart['file'])}</code>"),
                   ("Rows in the warehouse", e(mart["rows"]) if mart["rows"] is not None else ""),
                   ("Last build", run_text)]),
            _columns_table(site, mart), _tests_section(mart), _lineage_section(site, key), _sql_section(mart, target)]
    return page(key, "\n".join(body), "../", site["project"])


def _tests_badges(tests: list[dict]) -> str:
    return " ".join(f'<span class="test">{e(t["name"])} {badge(t["status"])}</span>' for t in tests) or ""


def _columns_table(site, mart: dict) -> str:
    rows = []
    for column in mart["columns"]:
        rows.append(f'<tr id="col-{e(column["name"])}"><th scope="row"><code>{e(column["name"])}</code></th>'
                    f'<td>{e(column["type"] or "")}</td><td>{e(column["description"])}</td>'
                    f'<td>{_tests_badges(column["tests"])}</td>'
                    f'<td>{join(_breakable(c) for c in column["from"])}</td><td>{join(_breakable(c) for c in column["to"])}</td></tr>')
    return ('<h2 id="columns">Columns</h2><table class="columns" aria-describedby="columns">'
            '<thead><tr><th scope="col">Column</th><th scope="col">Type</th><th scope="col">Description</th>'
            '<th scope="col">Tests (last result)</th><th scope="col">Comes from</th><th scope="col">Used by</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _breakable(ident: str) -> str:
    """area.mart.column, allowed to wrap after each dot (long ids in narrow cells)."""
    return ".<wbr>".join(e(part) for part in ident.split("."))


def _tests_section(mart: dict) -> str:
    every = [t for c in mart["columns"] for t in c["tests"]] + mart["tests"]
    rows = "".join(f'<tr><td><code>{e(t["name"])}</code></td><td>{e(t["kind"])}</td><td>{e(t["column"] or "(mart)")}</td>'
                   f'<td>{e(t["severity"])}</td><td>{badge(t["status"])}</td>'
                   f'<td class="num">{e(t["failures"] if t["failures"] is not None else "")}</td></tr>' for t in every)
    table = ('<table class="tests"><thead><tr><th scope="col">Test</th><th scope="col">Kind</th><th scope="col">Column</th>'
             '<th scope="col">Severity</th><th scope="col">Last result</th><th scope="col">Failing rows</th></tr></thead>'
             f"<tbody>{rows}</tbody></table>") if every else "<p>No data tests.</p>"
    units = (f"<p>Unit tests: {join(f'<code>{e(u)}</code>' for u in mart['unit_tests'])}</p>" if mart["unit_tests"] else "")
    return f'<h2 id="tests">Tests</h2>{table}{units}'


def _lineage_section(site, key: str) -> str:
    mart = site["marts"][key]
    href = _href_from_page(site)
    nodes, edges, hidden = table_neighbourhood(site, key)
    tables = svg.table_graph(nodes, edges, href, key, f"Tables around {key}: {len(mart['upstream'])} inputs, "
                             f"{len(mart['downstream'])} readers (listed below the picture)")
    more = f'<p class="note">{hidden} more tables further away are not drawn.</p>' if hidden else ""
    boxes, column_edges = column_boxes(site, key)
    columns = svg.column_graph(key, boxes, column_edges, href, f"Column lineage of {key}: each column's inputs and readers "
                               "(the Columns table above says the same as text)")
    untraced = "".join(f"<li>{e(p)}</li>" for p in mart["problems"])
    untraced = f'<p class="note">Column lineage is incomplete:</p><ul class="note">{untraced}</ul>' if untraced else ""
    return f"""<h2 id="lineage">Lineage</h2>
<h3>Tables</h3>
<p>Upstream: {join(_rel(site, u) for u in mart['upstream'])}. Downstream: {join(_rel(site, d) for d in mart['downstream'])}.</p>
<div class="pan" data-pan>{tables}</div>{more}
<h3 id="column-lineage">Columns</h3>
<p class="note">Select a column (click, or Tab to it and press Enter) to highlight the columns it comes from and those that depend on it.</p>
{untraced}<p id="lineage-said" class="said" aria-live="polite"></p>
<div class="pan" data-pan>{columns}</div>"""


def _sql_section(mart: dict, target: str) -> str:
    compiled = (f"<details open><summary>Compiled for target <code>{e(target)}</code></summary><pre><code>{e(mart['compiled_sql'])}</code></pre></details>"
                if mart["compiled_sql"] else f"<p>Not compiled for target {e(target)}.</p>")
    return (f'<h2 id="sql">SQL</h2><details open><summary>As written ({e(mart["dialect"])}, '
            f'<code>{e(mart["sql_file"])}</code>)</summary><pre><code>{e(mart["sql"])}</code></pre></details>{compiled}')


# --- a source's page ---------------------------------------------------------------------------------

def source_page(site: Mapping[str, Any], key: str) -> str:
    source = site["sources"][key]
    rows = "".join(f'<tr><th scope="row"><code>{e(c["name"])}</code></th><td>{e(c["type"] or "")}</td>'
                   f'<td>{join(_breakable(t) for t in c["to"])}</td></tr>' for c in source["columns"])
    body = [f"<h1>{e(key)}</h1>", f'<p class="lead">{e(source["description"]) or "<em>No description.</em>"}</p>',
            facts([("Kind", e(source["kind"])), ("Schema", f"<code>{e(source['schema'])}</code>"),
                   ("Seed file", f"<code>{e(source['file'])}</code>" if source["file"] else ""),
                   ("Rows in the warehouse", e(source["rows"]) if source["rows"] is not None else "")]),
            '<h2 id="columns">Columns</h2>',
            ('<table class="columns"><thead><tr><th scope="col">Column</th><th scope="col">Type</th>'
             f'<th scope="col">Used by</th></tr></thead><tbody>{rows}</tbody></table>') if rows
            else "<p>Columns unknown: declare them in config.yaml, or build the warehouse.</p>",
            f'<h2 id="lineage">Read by</h2><p>{join(_rel(site, d) for d in source["downstream"])}</p>']
    return page(key, "\n".join(body), "../", site["project"])
