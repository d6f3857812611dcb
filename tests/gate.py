"""Holding a build at a known point, so a test acts on an event instead of after a sleep.

A gate is a named pipe (FIFO) that a mart reads with DuckDB's `read_csv(:gate)`: the build blocks
inside that mart's statement (its transaction open, the run lock held) until the test opens the
pipe for writing. `Gate.wait_for_reader()` returns exactly when the build has reached that point;
`release()` lets it go on, or the test kills the process there.

`FileOpens` tells when any process opens a file (Linux inotify), e.g. a build trying the run lock.
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import subprocess
import time
from pathlib import Path

ROW = "x\n1\n"  # what a gated mart reads: one row, so a cross join keeps its other side's rows


class Gate:
    def __init__(self, path: Path):
        self.path = Path(path)
        os.mkfifo(self.path)
        self._fd: int | None = None

    def wait_for_reader(self, proc: subprocess.Popen, timeout: float = 120) -> None:
        """Return once `proc` has opened the pipe (it is inside the gated statement)."""
        deadline = time.monotonic() + timeout
        while self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:  # ENXIO: no reader yet
                if exc.errno != errno.ENXIO:
                    raise
                if proc.poll() is not None:
                    out, err = proc.communicate()
                    raise AssertionError(f"the build ended (exit {proc.returncode}) before reaching the gate:\n{out}\n{err}")
                if time.monotonic() > deadline:
                    raise AssertionError("the build did not reach the gate")
                time.sleep(0.02)

    def release(self) -> None:
        """Let the reader go on (it reads one row), or just close after the reader was killed."""
        if self._fd is not None:
            try:
                os.write(self._fd, ROW.encode())
            except BrokenPipeError:
                pass
            os.close(self._fd)
            self._fd = None


class FileOpens:
    """Counts opens of one file by any process, from the moment it is created."""

    IN_OPEN = 0x20

    def __init__(self, path: Path):
        path = Path(path)
        path.touch()
        libc = ctypes.CDLL(None, use_errno=True)
        self._fd = libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
        if self._fd < 0 or libc.inotify_add_watch(self._fd, os.fsencode(path), self.IN_OPEN) < 0:
            raise OSError(ctypes.get_errno(), f"inotify on {path}")

    def wait(self, timeout: float = 120) -> None:
        """Return at the next open of the file."""
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            raise AssertionError("nobody opened the file")
        os.read(self._fd, 4096)

    def close(self) -> None:
        os.close(self._fd)


class Created:
    """Tells when a file or folder named `name` appears in `folder` (Linux inotify), e.g. the
    directory of the table a Spark build starts writing."""

    IN_CREATE, IN_MOVED_TO = 0x100, 0x80

    def __init__(self, folder: Path, name: str):
        self.folder, self.name = Path(folder), name
        self.folder.mkdir(parents=True, exist_ok=True)
        libc = ctypes.CDLL(None, use_errno=True)
        self._fd = libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
        if self._fd < 0 or libc.inotify_add_watch(self._fd, os.fsencode(self.folder), self.IN_CREATE | self.IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), f"inotify on {folder}")

    def wait(self, proc: subprocess.Popen | None = None, timeout: float = 300) -> None:
        """Return when `name` is created in the folder (fail if `proc` ends first)."""
        import struct

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._fd], [], [], 1.0)
            if ready:
                data = os.read(self._fd, 65536)
                offset = 0
                while offset < len(data):
                    _, _, _, length = struct.unpack_from("iIII", data, offset)
                    found = data[offset + 16: offset + 16 + length].rstrip(b"\0").decode()
                    offset += 16 + length
                    if found == self.name:
                        return
            elif proc is not None and proc.poll() is not None:
                out, err = proc.communicate()
                raise AssertionError(f"the build ended (exit {proc.returncode}) before creating {self.name}:\n{out}\n{err}")
        raise AssertionError(f"{self.name} was not created in {self.folder}")

    def close(self) -> None:
        os.close(self._fd)


def kill_inside_gate(gate_file: Path, start) -> None:
    """`gate_file` (a one-row CSV a mart reads) becomes a FIFO at the same path (so the same
    fingerprint); `start()` starts the build, which is SIGKILLed once it reads the FIFO; then the
    one-row file is put back."""
    import signal

    gate_file.unlink()
    gate = Gate(gate_file)
    proc = start()
    gate.wait_for_reader(proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    gate.release()
    gate_file.unlink()
    gate_file.write_text(ROW)
