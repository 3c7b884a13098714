"""Headless Chromium driven over the Chrome DevTools Protocol: just what the UI tests and screenshots need.

Debian's ``chromium`` in its own process group with a fresh profile, talking CDP over the
``websockets`` package Airflow already depends on (no Playwright download, no driver binary).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from scripts._demo_support import stop_group

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def chromium_path() -> str | None:
    """The Chromium binary (``$CHROMIUM`` or Debian's), or None when it is not installed."""
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


class BrowserError(RuntimeError):
    """The browser did not do what was asked (exception in the page, timeout)."""


class Browser:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, *, width: int = 1400, height: int = 1000, dark: bool = False) -> None:
        binary = chromium_path()
        if binary is None:
            raise BrowserError("chromium is not installed (apt-get install -y chromium)")
        self._profile = Path(tempfile.mkdtemp(prefix="shadowtest-chromium-"))
        self._process = subprocess.Popen(
            [
                binary,
                *FLAGS,
                f"--user-data-dir={self._profile}",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._ids = itertools.count(1)
        self._socket: ClientConnection | None = None
        self._stack = contextlib.ExitStack()
        try:
            port = self._wait_for_port()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
                targets = json.loads(response.read())
            page = next(t for t in targets if t.get("type") == "page")
            self._socket = self._stack.enter_context(
                connect(page["webSocketDebuggerUrl"], max_size=64 * 2**20, open_timeout=10)
            )
            for domain in ("Page", "Runtime", "Network"):
                self.send(f"{domain}.enable")
            if dark:
                self.send("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": "dark"}])
        except BaseException:
            self.close()
            raise

    def _wait_for_port(self, timeout_seconds: float = 30) -> int:
        marker = self._profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if marker.exists() and (text := marker.read_text().split()):
                return int(text[0])
            if self._process.poll() is not None:
                raise BrowserError(f"chromium exited with {self._process.returncode}")
            time.sleep(0.1)
        raise BrowserError("chromium did not open its DevTools port")

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stack.close()
        self._socket = None
        stop_group(self._process, grace_seconds=5)
        shutil.rmtree(self._profile, ignore_errors=True)

    def send(self, method: str, timeout_seconds: float = 30, **params: Any) -> dict[str, Any]:
        """Send one CDP command and return its result (events arriving meanwhile are dropped)."""
        assert self._socket is not None
        call_id = next(self._ids)
        self._socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout_seconds
        while True:
            message = json.loads(self._socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == call_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return dict(message.get("result") or {})

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page and return its JSON value."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout_seconds: float = 30) -> Any:
        """Poll ``expression`` until its JSON value is truthy; return it (a DOM node is ``{}``: use ``!!``)."""
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(BrowserError):
                value = self.evaluate(expression)
                if value:
                    return value
            time.sleep(0.2)
        raise BrowserError(f"timed out waiting for {expression!r}; page at {self.evaluate('location.href')}")

    def open(self, url: str, timeout_seconds: float = 30) -> None:
        """Navigate and wait until the document has loaded."""
        self.send("Page.navigate", url=url)
        time.sleep(0.2)
        self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'", timeout_seconds)

    def type_into(self, selector: str, text: str) -> None:
        """Focus the element and type ``text`` as a person would (frameworks see real input events)."""
        self.wait_for(f"!!document.querySelector({json.dumps(selector)})")
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", text=text)

    def screenshot(self, path: Path, *, full_page: bool = True) -> None:
        """Save a PNG of the page (the whole scroll height when ``full_page``)."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        data = self.send("Page.captureScreenshot", **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
