"""diff: what an environment's build changes in the data, against another environment."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from martctl.cli.options import Exclude, Json, ProjectDir, Select, TargetOpt

STATS = ("nulls", "distinct", "min", "max", "sum", "avg")


def diff(
    mart: Optional[str] = typer.Argument(None, metavar="[MART]", help="area.name (or a bare name); none: every mart that differs."),
    env: str = typer.Option(..., "--env", "-e", metavar="ENV", help="The environment whose data is reviewed (dev, ci_42, ...)."),
    against: str = typer.Option("prod", "--against", metavar="ENV", help="The environment it is compared with."),
    sample: int = typer.Option(5, "--sample", metavar="N", help="How many changed rows to show (0: none)."),
    fail_on_change: bool = typer.Option(False, "--fail-on-change", help="Exit 1 when something differs (for CI)."),
    project_dir: ProjectDir = Path("."),
    target: TargetOpt = None,
    select: Select = None,
    exclude: Exclude = None,
    json_out: Json = False,
) -> None:
    """What the data of MART in --env looks like against --against: rows added, removed and changed by key, per column."""
    import martctl
    from martctl.cli import render

    ws = martctl.open(project_dir, target)
    report = ws.diff(mart, env=env, against=against, sample=sample, select=select, exclude=exclude)
    if json_out:
        render.print_json(report.as_dict(fail_on_change))
    elif mart:
        _one(report.marts[0], report)
    else:
        _lines(report)
    raise typer.Exit(report.exit_code(fail_on_change))


def _lines(report) -> None:
    """One line per mart that differs, then how many did."""
    console = _console()
    for item in report.marts:
        console.print(f"[bold]{_esc(item.mart)}[/bold]  {_esc(_headline(item, report))}")
    differing = len(report.marts)
    console.print(f"{differing} of {report.compared} mart(s) differ between {report.env} and {report.against}"
                  if differing else f"no mart differs between {report.env} and {report.against}")


def _headline(item, report, why: bool = True) -> str:
    """Rows, +added -removed ~changed, schema changes; with `why`, why there is no count by key."""
    if item.status == "new":
        return f"only in {report.env} ({item.rows} rows), not in {report.against}"
    if item.status == "gone":
        return f"not in {report.env}, only in {report.against} ({item.rows} rows)"
    found = item.diff
    parts = [f"rows {found.old_rows} -> {found.new_rows}", f"+{found.added} -{found.removed}"]
    if found.changed is not None:
        parts[-1] += f" ~{found.changed}"
    elif why:
        parts.append(f"(compared as multisets: {_no_key(found)})")
    schema = found.schema
    changes = [f"+{c}" for c in schema.added] + [f"-{c}" for c in schema.removed] + [f"{c} retyped" for c in schema.retyped]
    if changes:
        parts.append("columns " + " ".join(changes))
    return "  ".join(parts)


def _no_key(found) -> str:
    return "; ".join(found.key_problems) or "no key (declare primary_key: or a unique test)"


def _one(item, report) -> None:
    """A mart's diff: the headline, the key, schema changes, a column table and the sample."""
    console = _console()
    where = f"{report.env} ({_rel(item.relation)}) against {report.against} ({_rel(item.against_relation)})"
    console.print(f"[bold]{_esc(item.mart)}[/bold]: {_esc(where)}")
    console.print(_esc(_headline(item, report, why=False)))
    found = item.diff
    if found is None:
        return
    if found.by_key:
        console.print(_esc(f"by key ({', '.join(found.key)}): {found.added} added, {found.removed} removed, "
                           f"{found.changed} changed"))
    else:
        console.print(_esc(f"{_no_key(found)}: compared as multisets, {found.added} row(s) only in {report.env}, "
                           f"{found.removed} only in {report.against}"))
    for column, (was, now) in found.schema.retyped.items():
        console.print(_esc(f"column {column} retyped: {was} -> {now}"))
    for label, columns in (("added", found.schema.added), ("removed", found.schema.removed)):
        for column, type_text in columns.items():
            console.print(_esc(f"column {column} {label} ({type_text})"))
    console.print(_columns_table(found))
    if found.sample:
        console.print(_sample_table(found, report))


def _columns_table(found):
    from rich.table import Table

    table = Table(title="columns (old -> new)", title_justify="left")
    for heading in ("column", "changed", *STATS):
        table.add_column(heading)
    for column, sides in found.summaries.items():
        changed = found.column_changes.get(column)
        table.add_row(_esc(column), "" if changed is None else str(changed),
                      *[_esc(_pair(sides["old"], sides["new"], stat)) for stat in STATS])
    return table


def _sample_table(found, report):
    from rich.table import Table

    table = Table(title=f"changed rows (first {len(found.sample)} by key)", title_justify="left")
    for heading in (*found.key, "column", report.against, report.env):
        table.add_column(_esc(heading))
    for row in found.sample:
        keys = [_value(v) for v in row["key"].values()]
        for i, (column, change) in enumerate(row["changes"].items()):
            table.add_row(*[_esc(k if i == 0 else "") for k in keys], _esc(column),
                          _esc(_value(change["old"])), _esc(_value(change["new"])))
    return table


def _pair(old: dict | None, new: dict | None, stat: str) -> str:
    """One summary figure: once when both sides agree, `old -> new` when not, `-` for a side without the column."""
    if stat not in (old or {}) and stat not in (new or {}):
        return ""
    was = "-" if old is None else _value(old.get(stat))
    now = "-" if new is None else _value(new.get(stat))
    return was if was == now else f"{was} -> {now}"


def _value(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _rel(relation) -> str:
    return ".".join(relation) if relation else "missing"


def _console():
    from martctl.cli import render

    return render.out()


def _esc(text: str) -> str:
    from martctl.cli import render

    return render.escape(text)


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)
