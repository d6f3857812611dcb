"""Reading a project's text files: UTF-8 (a leading BOM is dropped); a byte that is not UTF-8, or a
file that cannot be read, is a Problem naming the file, line and column."""

from __future__ import annotations

import codecs
import threading
from contextlib import contextmanager
from pathlib import Path

from martctl.errors import Problem


class UnreadableFile(Exception):
    """A project file that is not text martctl can read; `.problem` says where and how to fix it."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem.render())


_reads = threading.local()


@contextmanager
def recording_reads():
    """Collect, in the list it yields, every path read_text reads in this thread meanwhile."""
    outer = getattr(_reads, "paths", None)
    _reads.paths = paths = []
    try:
        yield paths
    finally:
        _reads.paths = outer
        if outer is not None:
            outer.extend(paths)


def read_text(path: Path) -> str:
    """The file's text; raise UnreadableFile for I/O errors and bytes that are not UTF-8."""
    recorder = getattr(_reads, "paths", None)
    if recorder is not None:
        recorder.append(Path(path))
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UnreadableFile(Problem(f"cannot read the file: {exc.strerror or exc}", path)) from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(encoding_problem(path, data, exc.start)) from None


def encoding_problem(path: Path, data: bytes, offset: int) -> Problem:
    """A Problem pointing at the first byte that is not UTF-8."""
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return Problem(
        f"not UTF-8 text: byte 0x{data[offset]:02x} at line {line}, column {column}",
        path,
        line,
        column,
        hint="save the file as UTF-8 (an editor's 'encoding' setting, or iconv -f latin1 -t utf-8)",
    )
