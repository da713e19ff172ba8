"""A small Chrome DevTools Protocol client for headless Chromium (websocket-client, no browser download).

`Chromium.start()` launches /usr/bin/chromium headless with a fresh profile and the flags a closed
network needs; `page` is a `Session` on its one tab, `browser` a `Session` on the browser target
(downloads). Used by tests/test_serve_browser.py.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]


def find_chromium() -> str | None:
    explicit = os.environ.get("TAHQIQ_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return next((c for c in CHROMIUM_CANDIDATES if os.access(c, os.X_OK)), None) or shutil.which("chromium")


class CDPError(RuntimeError):
    pass


class Session:
    """One websocket to a DevTools target: `call(method, **params)` and `wait_event(method)`."""

    def __init__(self, url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True, enable_multithread=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        wanted = self.next_id
        self.ws.send(json.dumps({"id": wanted, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self._receive(deadline)
            if message is None:
                continue
            if message.get("id") == wanted:
                if "error" in message:
                    raise CDPError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)
        raise CDPError(f"{method}: no answer in {timeout}s")

    def _receive(self, deadline: float) -> dict[str, Any] | None:
        import websocket

        self.ws.settimeout(max(0.05, min(1.0, deadline - time.monotonic())))
        try:
            return json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            return None

    def wait_event(self, method: str, timeout: float = 30, where=lambda params: True) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method and where(event.get("params", {})):
                    del self.events[i]
                    return event.get("params", {})
            if time.monotonic() >= deadline:
                raise CDPError(f"no {method} event in {timeout}s")
            message = self._receive(deadline)
            if message is not None:
                self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise CDPError(f"{expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        self.ws.close()


KEYS = {  # key name -> (key, code, windowsVirtualKeyCode, text)
    "Enter": ("Enter", "Enter", 13, "\r"),
    "Escape": ("Escape", "Escape", 27, ""),
    "ArrowLeft": ("ArrowLeft", "ArrowLeft", 37, ""),
    "ArrowRight": ("ArrowRight", "ArrowRight", 39, ""),
    "ArrowUp": ("ArrowUp", "ArrowUp", 38, ""),
    "ArrowDown": ("ArrowDown", "ArrowDown", 40, ""),
}


class Chromium:
    """Headless Chromium with one page; `close()` ends the process and removes the profile."""

    def __init__(self, executable: str, width: int = 1280, height: int = 800) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="tahqiq-chromium-"))
        self.log = open(self.profile.parent / f"{self.profile.name}.log", "wb")
        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
             "about:blank"], stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.port = self._devtools_port()
        version = self._json("/json/version")
        self.browser = Session(version["webSocketDebuggerUrl"])
        page = next(t for t in self._json("/json/list") if t["type"] == "page")
        self.page = Session(page["webSocketDebuggerUrl"])
        self.page.call("Page.enable")
        self.page.call("Runtime.enable")

    def _devtools_port(self, timeout: float = 30) -> int:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CDPError(f"chromium exited with {self.process.returncode}: {self.log_text()}")
            try:
                return int(marker.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                time.sleep(0.1)
        raise CDPError(f"chromium did not open its DevTools port in {timeout}s: {self.log_text()}")

    def _json(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:
            return json.load(response)

    def log_text(self) -> str:
        self.log.flush()
        return (self.profile.parent / f"{self.profile.name}.log").read_text(errors="replace")[-3000:]

    def navigate(self, url: str, timeout: float = 30) -> None:
        self.page.call("Page.navigate", url=url)
        self.page.wait_event("Page.loadEventFired", timeout=timeout)

    def key(self, name: str, ctrl: bool = False) -> None:
        """Press and release a named key (Enter, Escape, arrows) or one printable character, with ctrl."""
        if name in KEYS:
            key, code, vk, text = KEYS[name]
        else:
            key, code, vk, text = name, f"Key{name.upper()}" if name.isalpha() else "", ord(name.upper()), name
        if ctrl:
            text = ""
        common = {"key": key, "code": code, "windowsVirtualKeyCode": vk, "nativeVirtualKeyCode": vk,
                  "modifiers": 2 if ctrl else 0}
        down = {"type": "keyDown" if text else "rawKeyDown", **common}
        if text:
            down["text"] = text
            down["unmodifiedText"] = text
        self.page.call("Input.dispatchKeyEvent", **down)
        self.page.call("Input.dispatchKeyEvent", type="keyUp", **common)

    def type(self, text: str) -> None:
        for ch in text:
            self.key(ch)

    def screenshot(self, path: str | os.PathLike[str]) -> bytes:
        data = base64.b64decode(self.page.call("Page.captureScreenshot", format="png")["data"])
        Path(path).write_bytes(data)
        return data

    def allow_downloads(self, folder: Path) -> None:
        self.browser.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(folder),
                          eventsEnabled=True)

    def close(self) -> None:
        for session in (self.page, self.browser):
            try:
                session.close()
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
        (self.profile.parent / f"{self.profile.name}.log").unlink(missing_ok=True)
