"""The conformance cases: tests/conformance/cases/<family>.sql, one one-construct mart a line.

A case is a DuckDB query over the raw.* seed tables (conformance_data.py) and its expectation on
every other engine: the same rows and column names (a bare line), or refused at compile with a
message naming the construct, written after the query as
`-- refused: <construct> -- rewrite: <the portable way to write it>`. A line ending in `-- ulp` is a
floating-point aggregate (stddev, variance) whose last bits DuckDB itself computes in row order:
its doubles may differ by 4 units in the last place. Lines starting with # are notes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Case:
    id: str
    family: str
    sql: str
    refused: str | None = None
    rewrite: str | None = None
    ulps: int = 0  # `-- ulp`: a floating-point aggregate whose last bits depend on DuckDB's row order


def load_cases(folder: Path = HERE / "cases") -> list[Case]:
    cases = []
    for path in sorted(folder.glob("*.sql")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        for n, line in enumerate((x for x in lines if x and not x.startswith("#")), start=1):
            line, ulp, _ = line.partition(" -- ulp")
            sql, _, note = line.partition(" -- refused: ")
            refused, _, rewrite = note.partition(" -- rewrite: ")
            cases.append(Case(f"{path.stem}_{n:03d}", path.stem, sql.strip(), refused.strip() or None,
                              rewrite.strip() or None, 4 if ulp else 0))
    return cases


def report(cases: list[Case]) -> str:
    """The README's table (cases per family, same / refused) and the list of refused constructs."""
    families: dict[str, list[int]] = {}
    for case in cases:
        counts = families.setdefault(case.family, [0, 0])
        counts[1 if case.refused else 0] += 1
    lines = ["| family | cases | same rows and names | refused at compile |", "| --- | ---: | ---: | ---: |"]
    for family, (same, refused) in families.items():
        lines.append(f"| {family} | {same + refused} | {same} | {refused} |")
    total_same = sum(c[0] for c in families.values())
    total_refused = sum(c[1] for c in families.values())
    lines.append(f"| **all** | **{len(cases)}** | **{total_same}** | **{total_refused}** |")
    lines += ["", "| refused construct | portable rewrite |", "| --- | --- |"]
    seen = set()
    for case in cases:
        if case.refused and case.refused not in seen:
            seen.add(case.refused)
            lines.append(f"| `{case.refused}` | {case.rewrite or ''} |")
    return "\n".join(lines)


if __name__ == "__main__":  # python tests/conformance/conformance_cases.py -> the README tables
    print(report(load_cases()))
