"""Everything martctl reads lies inside the project folder, symlinks resolved: a project cannot
make it read /etc/passwd (into an error message or the warehouse) by a path or a symlink."""

from __future__ import annotations

import os
from pathlib import Path

from martctl.errors import Problem


class ProjectFolder:
    """Whether paths lie in one folder (or in a folder config.yaml's `allow_outside` names) once
    every symlink is resolved. Each parent folder is resolved once and each file costs one lstat
    (resolving every path would add ~0.2 s per 1,000 marts)."""

    def __init__(self, root: Path | str):
        self.root = os.path.realpath(root)
        self._allowed = [self.root]
        self._folders: dict[str, bool] = {}

    def allow(self, folder: Path | str) -> None:
        """Files in `folder` (relative to the project, or absolute) may be read too."""
        self._allowed.append(os.path.realpath(os.path.join(self.root, folder)))
        self._folders.clear()

    def _under(self, resolved: str) -> bool:
        return any(resolved == a or resolved.startswith(a.rstrip(os.sep) + os.sep) for a in self._allowed)

    def contains(self, path: Path | str) -> bool:
        text = os.fspath(path)
        folder, name = os.path.split(text)
        if name in ("", ".", "..") or os.path.islink(text):
            return self._under(os.path.realpath(text))
        if folder not in self._folders:
            self._folders[folder] = self._under(os.path.realpath(folder or "."))
        return self._folders[folder]

    def problem(self, path: Path, what: str, file=None, line=None) -> Problem | None:
        """A problem naming the file (never reading it) when `path` leads out of the folder."""
        if self.contains(path):
            return None
        return Problem(
            f"{what} leads outside the project folder, to {Path(path).resolve()}",
            file if file is not None else path,
            line,
            hint="martctl reads only files inside the project: copy the file into it, or list its folder "
                 "under allow_outside: in config.yaml",
        )
