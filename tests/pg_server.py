"""A throwaway PostgreSQL cluster for the tests (and the benchmark): initdb + pg_ctl, 127.0.0.1.

The server binaries come from Debian's `postgresql` package, off PATH under
/usr/lib/postgresql/<version>/bin. PostgreSQL refuses to run as root, so when we are root the
cluster runs as an unprivileged user (`nobody`, or `martctl-pg` created with useradd when
there is no `nobody`) that owns the data directory. Password auth (scram) over TCP, so a
wrong password is a real refusal.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "postgres"


class ServerUnavailable(RuntimeError):
    """The throwaway server cannot start here (no binaries, or it failed)."""


def find_bindir() -> Path:
    """The newest /usr/lib/postgresql/*/bin holding initdb and pg_ctl (or $MARTCTL_PG_BINDIR)."""
    explicit = os.environ.get("MARTCTL_PG_BINDIR")
    candidates = [explicit] if explicit else glob.glob("/usr/lib/postgresql/*/bin")

    def version(path: str) -> tuple[int, ...]:
        found = re.search(r"/(\d+(?:\.\d+)?)/bin$", path)
        return tuple(int(p) for p in found.group(1).split(".")) if found else (0,)

    for bindir in sorted(candidates, key=version, reverse=True):
        if (Path(bindir) / "initdb").exists() and (Path(bindir) / "pg_ctl").exists():
            return Path(bindir)
    raise ServerUnavailable(
        "no PostgreSQL server binaries (looked for /usr/lib/postgresql/*/bin/initdb); "
        "install them with `apt-get install -y postgresql` (.ci/run does) or set MARTCTL_PG_BINDIR"
    )


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged account the server runs as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("nobody", "martctl-pg"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "martctl-pg"],
                   check=True, capture_output=True)
    return pwd.getpwnam("martctl-pg")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PgServer:
    """One cluster: start() it, use dsn()/new_database(), stop() it."""

    bindir: Path = field(default_factory=find_bindir)
    password: str = field(default_factory=lambda: "pw-" + secrets.token_hex(8))
    port: int = 0
    datadir: Path | None = None
    _user: pwd.struct_passwd | None = None
    _home: Path | None = None

    def _cmd(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        kwargs = {}
        if self._user is not None:
            kwargs = {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "HOME": str(self._home)}
        return subprocess.run([str(self.bindir / args[0]), *args[1:]], env=env, cwd=self._home,
                              capture_output=True, text=True, check=check, timeout=60, **kwargs)

    def start(self) -> "PgServer":
        self._user = _run_as()
        self._home = Path(tempfile.mkdtemp(prefix="martctl-pg-"))
        self.datadir = self._home / "data"
        pwfile = self._home / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._user is not None:
            os.chown(self._home, self._user.pw_uid, self._user.pw_gid)
            os.chown(pwfile, self._user.pw_uid, self._user.pw_gid)
        try:
            self._cmd("initdb", "-D", str(self.datadir), "-U", SUPERUSER, f"--pwfile={pwfile}",
                      "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync",
                      "--locale=C.UTF-8")
            options = " ".join([
                "-c listen_addresses=127.0.0.1", f"-c unix_socket_directories={self._home}",
                "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
                "-c max_connections=60", "-c shared_buffers=32MB",
            ])
            for attempt in range(3):
                self.port = free_port()
                started = self._cmd("pg_ctl", "-D", str(self.datadir), "-l", str(self._home / "server.log"),
                                    "-w", "-t", "30", "-o", f"{options} -p {self.port}", "start", check=False)
                if started.returncode == 0:
                    return self
            raise ServerUnavailable(f"pg_ctl start failed: {started.stderr.strip()}\n{self.log_tail()}")
        except subprocess.CalledProcessError as exc:
            self.stop()
            raise ServerUnavailable(f"{Path(exc.cmd[0]).name} failed: {(exc.stderr or exc.stdout).strip()}") from None
        except ServerUnavailable:
            self.stop()
            raise

    def log_tail(self, lines: int = 20) -> str:
        log = (self._home / "server.log") if self._home else None
        if log is None or not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.datadir is not None and (self.datadir / "postmaster.pid").exists():
            self._cmd("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop", check=False)
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None
        self.datadir = None

    def dsn(self, dbname: str = "postgres", password: str | None = None, user: str = SUPERUSER) -> str:
        password = self.password if password is None else password
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{dbname}"

    def new_database(self, prefix: str = "t") -> str:
        """A fresh empty database; returns its DSN."""
        import psycopg
        from psycopg import sql

        name = f"{prefix}_{secrets.token_hex(4)}"
        with psycopg.connect(self.dsn(), autocommit=True) as con:
            con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn(name)


def start_server() -> PgServer:
    """Start a cluster, waiting a little for it to accept connections."""
    server = PgServer().start()
    deadline = time.monotonic() + 10
    import psycopg

    while True:
        try:
            psycopg.connect(server.dsn(), connect_timeout=2).close()
            return server
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                server.stop()
                raise ServerUnavailable(f"the server started but refuses connections: {exc}") from None
            time.sleep(0.1)


if __name__ == "__main__":  # a server for manual work: prints its DSN, stops on Enter
    server = start_server()
    print(server.dsn(), flush=True)
    try:
        input("press Enter to stop\n")
    finally:
        server.stop()
