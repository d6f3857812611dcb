"""Headless Chromium driven over the Chrome DevTools protocol (CDP), standard library only.

The browser is Debian's `chromium`, started with --remote-debugging-pipe: commands go in on its fd 3
and answers come out on its fd 4, one JSON message each, ended by a NUL byte. Nothing is downloaded.

    with Browser.start() as browser:
        page = browser.open("file:///.../index.html")
        page.evaluate("document.title")
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    return next((path for path in map(shutil.which, CANDIDATES) if path), None)


class BrowserError(RuntimeError):
    pass


class Browser:
    def __init__(self, process: subprocess.Popen, to_browser, from_browser, profile: str):
        self.process, self._out, self._in, self._profile = process, to_browser, from_browser, profile
        self._next_id = 0
        self._buffer = b""
        self.events: list[dict] = []

    @classmethod
    def start(cls, width: int = 1280, height: int = 900) -> "Browser":
        binary = find_chromium()
        if binary is None:
            raise BrowserError("no chromium on PATH (Debian: apt-get install chromium)")
        profile = tempfile.mkdtemp(prefix="martctl-chromium-")
        commands_r, commands_w = os.pipe()  # we write, the browser reads on fd 3
        answers_r, answers_w = os.pipe()  # the browser writes on fd 4, we read

        def wire() -> None:  # in the child: fd 3 and 4, whatever numbers the pipes got
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (commands_r, answers_w)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        args = [binary, "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--hide-scrollbars", f"--window-size={width},{height}", f"--user-data-dir={profile}", "about:blank"]
        process = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=wire,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_r)
        os.close(answers_w)
        browser = cls(process, os.fdopen(commands_w, "wb", buffering=0), os.fdopen(answers_r, "rb", buffering=0), profile)
        browser.call("Browser.getVersion")  # proves the pipe works
        return browser

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._out.close()
        self._in.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    # -- the protocol
    def _read_message(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = self._in.read(1 << 16)
            if not chunk:
                raise BrowserError(f"chromium closed the pipe (exit code {self.process.poll()})")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method: str, session: str | None = None, **params) -> dict:
        """Send one command and return its result (events met on the way are kept in self.events)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read_message()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_event(self, method: str, session: str | None = None) -> dict:
        """Block until the browser sends event `method` (for `session`), kept or new."""
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method and (session is None or event.get("sessionId") == session):
                    return self.events.pop(i)
            self.events.append(self._read_message())

    def open(self, url: str) -> "Page":
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session)
        self.call("Page.enable", session)
        self.call("Runtime.enable", session)
        page.goto(url)
        return page


class Page:
    def __init__(self, browser: Browser, session: str):
        self.browser, self.session = browser, session

    def goto(self, url: str) -> None:
        """Navigate and wait for the load event (every script has run)."""
        self.browser.events = [e for e in self.browser.events if e.get("method") != "Page.loadEventFired"]
        self.browser.call("Page.navigate", self.session, url=url)
        self.browser.wait_event("Page.loadEventFired", self.session)

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (JSON-serialisable values)."""
        result = self.browser.call("Runtime.evaluate", self.session, expression=expression, returnByValue=True,
                                   awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r}: {result['exceptionDetails'].get('exception', {}).get('description')}")
        return result["result"].get("value")

    def key(self, key: str, code: str | None = None, text: str | None = None) -> None:
        """Press and release one key in the focused element."""
        params = {"key": key, "code": code or key}
        if text:
            params["text"] = text
        self.browser.call("Input.dispatchKeyEvent", self.session, type="keyDown", **params)
        self.browser.call("Input.dispatchKeyEvent", self.session, type="keyUp", **params)

    def type(self, text: str) -> None:
        self.browser.call("Input.insertText", self.session, text=text)

    def click(self, selector: str) -> None:
        """A real mouse click at the middle of the first element matching `selector` (scrolled into view)."""
        box = self.evaluate(
            f"(() => {{ const el = document.querySelector({json.dumps(selector)}); el.scrollIntoView({{block: 'center'}});"
            " const r = el.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.browser.call("Input.dispatchMouseEvent", self.session, type=kind, x=box[0], y=box[1], button="left",
                              clickCount=1)

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        params = {"format": "png"}
        if full_page:
            width, height = self.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": width, "height": min(height, 4000), "scale": 1})
        data = self.browser.call("Page.captureScreenshot", self.session, **params)["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)
