"""Options shared by the commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

ProjectDir = Annotated[Path, typer.Option("--project-dir", metavar="DIR", help="Folder holding config.yaml (default: this folder or the nearest parent that has one).", show_default=False)]
TargetOpt = Annotated[Optional[str], typer.Option("--target", "-t", metavar="NAME", help="Target from config.yaml (default: default_target).")]
Select = Annotated[Optional[List[str]], typer.Option("--select", "-s", metavar="SELECTOR", help="Marts to act on: name, +name, name+, tag:x, area:x, path:..., globs.")]
Exclude = Annotated[Optional[List[str]], typer.Option("--exclude", metavar="SELECTOR", help="Marts to leave out (same grammar as --select).")]
Vars = Annotated[Optional[List[str]], typer.Option("--vars", metavar="KEY=VALUE", help="Override a var: key=value (repeatable) or '{key: value}'.")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors and the summary.")]
Threads = Annotated[Optional[int], typer.Option("--threads", min=1, metavar="N", help="Workers (default: the target's threads).")]
FailFast = Annotated[bool, typer.Option("--fail-fast", "-x", help="Stop at the first failure.")]
FullRefresh = Annotated[bool, typer.Option("--full-refresh", help="Rebuild incremental marts from scratch (and build every selected mart, up to date or not).")]
Start = Annotated[Optional[str], typer.Option("--start", metavar="VALUE", help="Backfill: replace the rows of the selected incremental marts whose cursor is >= VALUE (with --end).")]
End = Annotated[Optional[str], typer.Option("--end", metavar="VALUE", help="Backfill: ... and < VALUE (excluded): --start 2026-01-01 --end 2026-02-01 is January.")]
Force = Annotated[bool, typer.Option("--force", help="Build every selected mart, even those that are up to date.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would run, touch nothing.")]
LogFormat = Annotated[str, typer.Option("--log-format", metavar="text|json", help="text or json (one object per event).")]
Env = Annotated[Optional[str], typer.Option("--env", "-e", metavar="NAME", help="Environment: its own layer (area__NAME.mart), sharing every unchanged version with prod (default: prod).")]
