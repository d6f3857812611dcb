"""A run lock in a file: an OS lock (flock) so two processes can never both hold it.

The file holds JSON naming the holder (pid, host, start time, command). The OS drops the lock
when its process dies, so a lock left by a dead process is simply taken over; the note naming
the dead holder is kept in `taken_over` for the caller to report.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Callable

from martctl.errors import LockBusy

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


def holder_info(**extra) -> dict:
    from martctl.engine.events import iso

    return {"pid": os.getpid(), "host": socket.gethostname(), "started_at": iso(time.time()), **extra}


def describe(holder: dict) -> str:
    if not holder:
        return "another process (no details in the lock file)"
    text = f"pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started_at')}"
    if holder.get("command"):
        text += f" ({holder['command']})"
    return text


REPORT_WAITING_EVERY = 60.0  # seconds between "still waiting for the lock" messages


class WaitReporter:
    """Calls `on_wait(message)` when a run starts waiting for the lock, then every REPORT_WAITING_EVERY seconds."""

    def __init__(self, on_wait: Callable[[str], None] | None, wait_seconds: float):
        self.on_wait, self.wait_seconds = on_wait, wait_seconds
        self.started = time.monotonic()
        self.next_at = self.started

    def tick(self, holder: Callable[[], str]) -> None:
        now = time.monotonic()
        if self.on_wait is None or now < self.next_at:
            return
        self.next_at = now + REPORT_WAITING_EVERY
        waited = now - self.started
        self.on_wait(f"waiting for the run lock ({waited:.0f}s of {self.wait_seconds:g}s): {holder()}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FileLock:
    """Exclusive lock on `path`; `acquire(wait_seconds)` raises LockBusy naming the holder."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._fd: int | None = None
        self.taken_over: dict | None = None  # a dead holder's note, when we took its lock over

    def _read(self, fd: int | None = None) -> dict:
        try:
            if fd is not None:
                os.lseek(fd, 0, os.SEEK_SET)
                text = os.read(fd, 65536).decode("utf-8", "replace")
            else:
                text = self.path.read_text(encoding="utf-8")
            return json.loads(text) if text.strip() else {}
        except (OSError, ValueError):
            return {}

    def _try(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:  # no OS lock: trust a live pid in the file
                previous = self._read(fd)
                if previous.get("pid") and previous.get("host") == socket.gethostname() and pid_alive(int(previous["pid"])):
                    raise BlockingIOError
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def acquire(self, wait_seconds: float = 0.0, info: dict | None = None,
                on_wait: Callable[[str], None] | None = None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + max(0.0, wait_seconds)
        delay = 0.05
        reporter = WaitReporter(on_wait, wait_seconds)
        while not self._try():
            if time.monotonic() < deadline:
                reporter.tick(lambda: describe(self._read()))
            else:
                holder = self._read()
                waited = f" after waiting {wait_seconds:g}s" if wait_seconds else ""
                raise LockBusy(
                    f"another run holds the lock {self.path}{waited}: {describe(holder)}; "
                    "wait for it to finish, or pass --wait SECONDS",
                    holder,
                )
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 1.0)
        previous = self._read(self._fd)
        if previous.get("pid") and previous.get("pid") != os.getpid():
            self.taken_over = previous  # its process is gone: the OS released its lock
        os.ftruncate(self._fd, 0)
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.write(self._fd, json.dumps(info or holder_info()).encode())

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)  # an empty file: nobody holds it
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    def holder(self) -> dict:
        """Who holds (or last held) the lock, from the lock file."""
        return self._read()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> "FileLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
