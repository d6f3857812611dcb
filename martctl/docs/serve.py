"""`martctl docs serve`: the built site over HTTP on localhost (the standard library's server)."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass


def docs_server(site_dir: Path, port: int = 8080, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server for `site_dir` bound to host:port (port 0: any free one); call serve_forever() on it."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    return ThreadingHTTPServer((host, port), handler)
