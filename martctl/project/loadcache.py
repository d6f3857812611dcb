"""target/.cache/marts-<hash>.pickle: the marts of each unchanged YAML file, so that a command does not
parse 1,000 YAML files again to find them unchanged.

An entry holds one mart file's marts and the stamp (size, mtime_ns, inode, device) of every file they
were read from (the YAML file, its SQL files, the sibling .sql files that did not exist). It is used only
when every stamp is unchanged, and only for a file that loaded without a problem, so a project with
problems is always read, and reported, as without the cache. A file whose stamp is within RACY_NS of
the moment its entry was made is read again (an edit in the same clock tick leaves mtime and perhaps
size equal), so such an entry alone does not rewrite the cache; a file read through a symlink is never kept. The whole cache is dropped when config.yaml,
martctl, Python or sqlglot change. The file is written atomically and read with an unpickler that
builds only the model's own types; an unreadable or foreign file is ignored.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import time
from importlib.util import find_spec
from pathlib import Path
from stat import S_ISREG

FILE = Path(".cache") / "marts.pickle"  # marts-<hash>.pickle: one per spelling of the project's folder (cache_file)
FORMAT = 1
RACY_NS = 3_000_000_000  # coarser than any file system's mtime tick (FAT: 2 s)

_ALLOWED = {
    "martctl.project.model": {"Mart", "Column", "TestSpec", "UnitTest"},
    "martctl.project.yamlfile": {"YamlMap", "YamlList"},
    "pathlib": {"Path", "PosixPath", "WindowsPath", "PurePosixPath", "PureWindowsPath"},
    "datetime": {"date", "datetime", "time", "timedelta", "timezone"},
    "builtins": {"dict", "list", "set", "frozenset", "tuple", "object", "bytes", "bytearray", "complex"},
    "copyreg": {"_reconstructor"},
}


class _ModelUnpickler(pickle.Unpickler):
    """Builds the project model's types and plain values, nothing else (no code runs from the file)."""

    def find_class(self, module: str, name: str):
        if name in _ALLOWED.get(module, ()):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a cached project")


def stamp(path: Path | str) -> tuple[int, int, int, int] | None:
    """(size, mtime_ns, inode, device) of a file, None when there is none; size -1 for what is not a
    regular file (a symlink: its own stamp does not change with its target's)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_size if S_ISREG(st.st_mode) else -1, st.st_mtime_ns, st.st_ino, st.st_dev)


def cache_file(target_dir: Path) -> Path:
    """The cache of the project whose target/ is spelled `target_dir`. Entries hold the marts with their
    paths as the project's folder was named (`.` in it, /srv/marts from cron): each spelling has its
    own file, so alternating between them does not read every YAML file again at each switch."""
    spelling = hashlib.blake2b(os.fspath(target_dir).encode(), digest_size=4).hexdigest()
    return Path(target_dir) / FILE.with_name(f"{FILE.stem}-{spelling}{FILE.suffix}")


def _code_key(config_text: str) -> str:
    """What every entry depends on besides its own files: config.yaml, martctl's and sqlglot's code."""
    here = Path(__file__).resolve().parent
    code = sorted((p.name, p.stat().st_mtime_ns) for p in here.glob("*.py"))
    spec = find_spec("sqlglot")
    sqlglot = stamp(spec.origin) if spec and spec.origin else None
    from martctl import __version__

    blob = repr((FORMAT, __version__, sys.version, code, sqlglot, config_text))
    return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()


class MartFileCache:
    """The cached marts of a project's YAML files: get() the marts of an unchanged file, put() those of
    a file just read, save() once loading is done."""

    def __init__(self, target_dir: Path, config_text: str) -> None:
        self.path = cache_file(target_dir)
        self.key = _code_key(config_text)
        self.started = time.time_ns()
        self.entries: dict[str, tuple[int, list, list]] = {}
        self.changed = False
        try:
            with open(self.path, "rb") as handle:
                data = _ModelUnpickler(io.BytesIO(handle.read())).load()
            if isinstance(data, dict) and data.get("key") == self.key:
                self.entries = data["entries"]
        except Exception:  # noqa: BLE001 - a cache that cannot be read is no cache
            self.entries = {}

    def get(self, path: Path) -> list | None:
        """The marts of `path` when none of the files they were read from changed, else None."""
        entry = self.entries.get(str(path))
        if entry is None:
            return None
        made, deps, marts = entry
        for dep, old in deps:
            if old is not None and old[1] >= made - RACY_NS:
                return None
            if stamp(dep) != old:
                return None
        return marts

    def put(self, path: Path, marts: list, read: list) -> None:
        """Keep the marts of `path`, read from the files `read`; not when one of them is a symlink."""
        deps = [(str(p), stamp(p)) for p in dict.fromkeys(os.fspath(r) for r in read)]
        if any(old is not None and old[0] < 0 for _, old in deps):
            self.entries.pop(str(path), None)
            return
        self.entries[str(path)] = (self.started, deps, marts)
        # an entry get() will refuse (a file changed within RACY_NS: the usual edit-then-run) is not worth a write
        self.changed = self.changed or not any(old is not None and old[1] >= self.started - RACY_NS for _, old in deps)

    def save(self, kept: set[str]) -> None:
        """Write the entries of the files in `kept` (the mart files that exist now), atomically;
        a read-only target/ only costs the cache."""
        if not self.changed and kept == set(self.entries):
            return
        data = {"key": self.key, "entries": {k: v for k, v in self.entries.items() if k in kept}}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(tmp, self.path)
        except OSError:
            pass
