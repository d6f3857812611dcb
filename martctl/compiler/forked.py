"""Work done on the other core by a forked child, streamed back through a pipe.

The child computes `work(key)` for its keys, from the last one back, and sends each result as soon
as it has it (a plain value in marshal's format: nothing in it runs). The parent takes whatever has
arrived when it reaches a key and does the others itself, so it never waits for the child: a child
that is slow, hangs, dies or sends garbage costs the parent only the work it then does itself. A key
the child could not do (`work` returned None or raised) is not sent. The child writes no file and
prints nothing (its stdout and stderr are /dev/null), runs at the lowest priority, ends with os._exit (no exit
handler runs) and dies with the parent.
"""

from __future__ import annotations

import marshal
import os
import signal
import sys
from typing import Any, Callable, Iterable

_LENGTH = 4  # bytes of a frame's length prefix
_PIPE_BYTES = 1 << 20  # a larger pipe (Linux) lets the child run ahead of the parent's reads
in_child: Callable[[str], None] | None = None  # tests: called in the child before each key (to crash or hang it)


class Forked:
    """The parent's end: results by key, read without blocking."""

    def __init__(self, pid: int, fd: int, keys: Iterable[str], valid: Callable[[Any], bool]) -> None:
        self.pid, self._fd, self._keys, self._valid = pid, fd, set(keys), valid
        self._buffer = bytearray()
        self.results: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        """The child's result for `key` if it has arrived, else None."""
        if key not in self.results:
            self._read()
        return self.results.get(key)

    def _read(self) -> None:
        while self._fd is not None:
            try:
                chunk = os.read(self._fd, _PIPE_BYTES)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:  # the child ended (or died): what it sent is all it will send
                self._hang_up()
                return
            self._buffer += chunk
            self._frames()

    def _frames(self) -> None:
        while len(self._buffer) >= _LENGTH:
            size = int.from_bytes(self._buffer[:_LENGTH], "little")
            if len(self._buffer) < _LENGTH + size:
                return
            frame = bytes(self._buffer[_LENGTH:_LENGTH + size])
            del self._buffer[:_LENGTH + size]
            try:
                key, value = marshal.loads(frame)
                good = key in self._keys and key not in self.results and self._valid(value)
            except Exception:  # not a (key, value) pair: garbage
                good = False
            if not good:  # a child that sends garbage is not trusted with the rest
                self.close()
                return
            self.results[key] = value

    def _hang_up(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        """Stop the child (it may still be working on keys nobody needs now) and reap it."""
        self._hang_up()
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):  # already reaped (SIGCHLD ignored by the host program)
                pass
            self.pid = 0


def start(keys: list[str], work: Callable[[str], Any], valid: Callable[[Any], bool]) -> Forked:
    """Fork a child that sends (key, work(key)) for `keys`, last first; the parent's end of it."""
    read_end, write_end = os.pipe()
    _widen(write_end)
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _serve(write_end, keys, work, parent)
    os.close(write_end)
    os.set_blocking(read_end, False)
    return Forked(pid, read_end, keys, valid)


def _serve(fd: int, keys: list[str], work: Callable[[str], Any], parent: int) -> None:
    try:
        _quiet(parent)
        for key in reversed(keys):
            if in_child is not None:
                in_child(key)
            try:
                value = work(key)
            except Exception:
                continue
            if value is not None:
                _write_all(fd, _frame(key, value))
    except BaseException:  # a closed pipe (the parent is done), or anything else: just stop
        pass
    finally:
        os._exit(0)


def _quiet(parent: int) -> None:
    """Nothing the child does reaches the terminal, it takes only a CPU nobody else wants (on a busy
    machine the parent then does the work itself, as fast as without a child), and it ends with the
    parent."""
    os.nice(19)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # new objects: no lock or buffer shared with the parent
    for number in (signal.SIGINT, signal.SIGTERM):  # the parent's handlers stop a run: not the child's business
        signal.signal(number, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(0)


def _frame(key: str, value: Any) -> bytes:
    data = marshal.dumps((key, value))
    return len(data).to_bytes(_LENGTH, "little") + data


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _widen(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)
    except (OSError, ImportError):
        pass
