"""Test results as JUnit XML (what CI servers ingest): one testsuite per mart, one testcase per test.

FAIL -> <failure>, ERROR -> <error>, SKIPPED -> <skipped>; WARN passes, its message in <system-out>.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from martctl.quality.checks import ERROR, FAIL, SKIPPED, WARN
from martctl.quality.results import TestResult


def format_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]], prefix: str = "") -> str:
    """A plain-text table of rows (for CI logs and XML bodies)."""
    rows = [["NULL" if v is None else str(v) for v in row] for row in rows]
    header = [prefix and " " * len(prefix)] if prefix else []
    widths = [max([len(str(c))] + [len(r[i]) for r in rows if i < len(r)]) for i, c in enumerate(columns)]
    lines = ["  ".join(header + [str(c).ljust(w) for c, w in zip(columns, widths)]).rstrip()]
    for row in rows:
        lines.append("  ".join(([prefix] if prefix else []) + [v.ljust(w) for v, w in zip(row, widths)]).rstrip())
    return "\n".join(lines)


def failure_text(result: TestResult) -> str:
    """What a person needs to see about a failed test: the rows and the SQL that finds them."""
    parts = [result.message or result.status]
    if result.kind == "unit":
        if result.missing:
            parts.append("missing rows (expected, not returned):\n" + format_rows(result.columns, result.missing, "-"))
        if result.unexpected:
            parts.append("unexpected rows (returned, not expected):\n" + format_rows(result.columns, result.unexpected, "+"))
    elif result.sample:
        more = (result.failures or 0) - len(result.sample)
        parts.append("failing rows" + (f" (first {len(result.sample)} of {result.failures})" if more > 0 else "") + ":\n"
                     + format_rows(result.columns, result.sample))
    if result.sql and result.kind != "unit":
        parts.append("SQL returning the failing rows:\n" + result.sql.rstrip() + ";")
    return "\n\n".join(parts)


def to_xml(results: Sequence[TestResult], name: str = "martctl") -> ET.Element:
    by_mart: dict[str, list[TestResult]] = {}
    for result in results:
        by_mart.setdefault(result.mart, []).append(result)
    root = ET.Element("testsuites", name=name)
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for mart, items in by_mart.items():
        suite = ET.SubElement(root, "testsuite", name=mart, timestamp=stamp)
        for result in items:
            case = ET.SubElement(suite, "testcase", classname=mart, name=result.name, time=f"{result.seconds:.3f}")
            if result.file:
                case.set("file", result.file)
                if result.line:
                    case.set("line", str(result.line))
            tag = {FAIL: "failure", ERROR: "error", SKIPPED: "skipped"}.get(result.status)
            if tag:
                node = ET.SubElement(case, tag, message=(result.message or result.status).splitlines()[0], type=result.status)
                if tag != "skipped":
                    node.text = failure_text(result)
            elif result.status == WARN:
                ET.SubElement(case, "system-out").text = "WARN: " + failure_text(result)
        _count(suite, items)
    _count(root, list(results))
    return root


def _count(element: ET.Element, items: Sequence[TestResult]) -> None:
    element.set("tests", str(len(items)))
    element.set("failures", str(sum(r.status == FAIL for r in items)))
    element.set("errors", str(sum(r.status == ERROR for r in items)))
    element.set("skipped", str(sum(r.status == SKIPPED for r in items)))
    element.set("time", f"{sum(r.seconds for r in items):.3f}")


def write_junit(results: Sequence[TestResult], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = ET.ElementTree(to_xml(results))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path
