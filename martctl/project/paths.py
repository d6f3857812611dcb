"""Everything martctl reads lies inside the project folder, symlinks resolved: a project cannot
make it read /etc/passwd (into an error message or the warehouse) by a path or a symlink."""

from __future__ import annotations

from pathlib import Path

from martctl.errors import Problem


def inside(root: Path, path: Path) -> bool:
    """True when `path`, with every symlink resolved, lies in `root` (resolved too)."""
    try:
        Path(path).resolve().relative_to(Path(root).resolve())
    except ValueError:
        return False
    return True


def outside_problem(root: Path | None, path: Path, what: str, file=None, line=None) -> Problem | None:
    """A problem (naming the file, never reading it) when `path` leads out of the project."""
    if root is None or inside(root, path):
        return None
    return Problem(
        f"{what} leads outside the project folder, to {Path(path).resolve()}",
        file if file is not None else path,
        line,
        hint="martctl reads only files inside the project: copy the file into it",
    )
