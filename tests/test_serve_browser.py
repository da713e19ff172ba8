"""End to end: `tahqiq serve` on a loopback port, headless Chromium over the DevTools protocol.

Opens the app in the browser as annotator `webtester`, opens the first article, tags its first word PER,
takes a screenshot (kept at /tmp/tahqiq-serve-shot.png, or $TAHQIQ_SERVE_SHOT), checks the annotation in
the workspace, checks that the Arabic reached xterm.js in our visual order and joined, that the browser
does not reorder it again, that the in-app export (`e` in the library) arrives as a browser download, and
that `ctrl+o` in the reader opens the article's URL in a new browser tab.

Needs Chromium (/usr/bin/chromium, Debian's `chromium` package; `.ci/run` installs it) and the
`websocket-client` package; skipped with the reason where either is absent.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from store import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser.cdp import Chromium, find_chromium  # noqa: E402

pytest.importorskip("textual_serve", reason="textual-serve is not installed (pip install textual-serve)")
pytest.importorskip("websocket", reason="websocket-client is not installed (the test extra has it)")
CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium not found (/usr/bin/chromium): apt-get install chromium; .ci/run does")

SHOT = Path(os.environ.get("TAHQIQ_SERVE_SHOT", "/tmp/tahqiq-serve-shot.png"))
ANNOTATOR = "webtester"
ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[@-Z\\-_])")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


LIBRARY_DRAWN = "Agreement"
"""In the library's footer (its `a` key), on no other screen: the library is drawn and takes keys."""
READER_DRAWN = "Indicators"
"""In the reader's footer (its `i` key), on no other screen: the reader is drawn and takes keys."""

LINK = "http://127.0.0.1:9/tahqiq-link-test"
"""The source URL of an extra article; port 9 on loopback, so the tab it opens goes nowhere."""


def saved_annotations(workspace_path: Path) -> list[dict]:
    """What the browser session's annotator has saved, read through the store as another process would."""
    ws = Workspace.open(workspace_path)
    try:
        return ws.annotations(ANNOTATOR, check=False).all()
    finally:
        ws.close()


@pytest.fixture
def linked_workspace(workspace_path: Path, tmp_path: Path) -> Path:
    """The seeds plus one article with a URL (and an ASCII word to search for)."""
    extra = tmp_path / "linked.jsonl"
    extra.write_text(json.dumps({"id": "linktest0001", "title": "مقال مع رابط zanzibarquux", "url": LINK,
                                 "text": "هذا مقال تجريبي فيه رابط إلى مصدره zanzibarquux."},
                                ensure_ascii=False) + "\n", encoding="utf-8")
    ws = Workspace.open(workspace_path)
    assert ws.import_paths([extra]).imported == ["linktest0001"]
    ws.close()
    return workspace_path


@pytest.fixture
def server(linked_workspace: Path, tmp_path: Path):
    workspace_path = linked_workspace
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", "--workspace", str(workspace_path),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "TEXTUAL_ANIMATIONS": "none"})

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"tahqiq serve exited {proc.returncode}: {(tmp_path / 'serve.log').read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        wait_for(up, 30, "tahqiq serve to listen")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()  # SIGTERM: textual-serve stops its sessions and exits
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(5)
        log.close()


@pytest.fixture
def chromium():
    browser = Chromium(CHROMIUM, width=1280, height=800)
    yield browser
    browser.close()


def terminal_text(page_frames: list[bytes]) -> str:
    return ANSI.sub("", b"".join(page_frames).decode("utf-8", "replace"))


def frames(page) -> list[bytes]:
    """The binary websocket frames the page has received so far: what reached xterm.js, in order."""
    return [base64.b64decode(e["params"]["response"]["payloadData"]) for e in page.events
            if e.get("method") == "Network.webSocketFrameReceived" and e["params"]["response"]["opcode"] == 2]


def receive(page, seconds: float) -> None:
    """Take in what the browser reports for `seconds` (kept in page.events, where `frames` reads it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = page._receive(deadline)
        if message is not None:
            page.events.append(message)


def wait_drawn(page, text: str, since: int, timeout: float = 30) -> None:
    """Wait until the app draws `text` (escape sequences aside) in a frame after the first `since` ones."""
    deadline = time.monotonic() + timeout
    while text not in terminal_text(frames(page)[since:]):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {text!r} on the terminal; it shows "
                                 f"{terminal_text(frames(page)[since:])[-2000:]!r}")
        receive(page, 0.05)


def wait_settled(page, since: int, quiet: float = 0.25, timeout: float = 30) -> None:
    """Wait until the app has answered (a frame after the first `since` ones), then drawn nothing for `quiet`
    seconds: it is done with the key and waits for the next one."""
    deadline = time.monotonic() + timeout
    count, changed = len(frames(page)), time.monotonic()
    while count <= since or time.monotonic() - changed < quiet:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for the app to answer and settle")
        receive(page, 0.05)
        if len(frames(page)) != count:
            count, changed = len(frames(page)), time.monotonic()


def test_browser_session_annotates_and_exports(server: str, chromium: Chromium, workspace_path: Path,
                                               tmp_path: Path) -> None:
    from tui.bidi import visual_line

    page = chromium.page
    page.call("Network.enable")  # websocket frames: what reaches xterm.js
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    chromium.allow_downloads(downloads)
    ws = Workspace.open(workspace_path)
    articles = ws.articles()
    ws.close()
    state_file = workspace_path / "state" / f"{ANNOTATOR}.json"

    # Without a name the page asks for one; the form leads to /?annotator=NAME.
    chromium.navigate(server + "/")
    assert page.evaluate("document.querySelector('input[name=annotator]') !== null")
    page.evaluate(f"document.querySelector('input[name=annotator]').value = {ANNOTATOR!r}")
    page.evaluate("document.querySelector('form').submit()")
    page.wait_event("Page.loadEventFired", timeout=30)
    assert page.evaluate("location.search") == f"?annotator={ANNOTATOR}"

    # The app starts as that annotator: its library writes state/<annotator>.json.
    wait_for(lambda: page.evaluate("document.body.classList.contains('-first-byte')"), 30, "the first bytes")
    wait_for(lambda: read_json(state_file).get("library"), 30, "the library of the browser session")
    wait_drawn(page, LIBRARY_DRAWN, 0)
    wait_for(lambda: page.evaluate("document.querySelectorAll('.xterm-screen canvas').length"), 30, "xterm's canvas")
    renderer = page.evaluate("""JSON.stringify({canvas: document.querySelectorAll('.xterm-screen canvas').length,
        dom: (document.querySelector('.xterm-rows') || {textContent: ''}).textContent.length})""")
    page.evaluate("document.querySelector('.xterm-helper-textarea').focus()")

    # Enter opens the highlighted (first) article; `p` tags the word under the cursor PER.
    since = len(frames(page))
    chromium.key("Enter")
    opened = wait_for(lambda: read_json(state_file).get("last_article"), 30, "the reader to open")
    wait_drawn(page, READER_DRAWN, since)
    chromium.key("p")
    try:
        rows = wait_for(lambda: saved_annotations(workspace_path), 30, "the annotation")
    except AssertionError:
        chromium.screenshot(SHOT)  # what the session showed instead
        raise
    wait_settled(page, 0)  # the tag drawn
    chromium.screenshot(SHOT)
    assert SHOT.stat().st_size > 10_000

    assert len(rows) == 1
    row = rows[0]
    article = next(a for a in articles if a.id == opened)
    assert (row["annotator"], row["article_id"], row["kind"], row["label"]) == (ANNOTATOR, opened, "entity", "PER")
    assert row["text"] == article.body[row["start"]:row["end"]] and row["start"] == 0

    # What reached xterm.js is our visual order, joined: the title's first words reversed and in
    # presentation forms (U+FE70..U+FEFF), as `visual_line` makes them.
    shown = terminal_text(frames(page))
    words = article.title.split()[1:4]
    visual = visual_line(" ".join(words), "rtl", shape=True)
    assert any(0xFE70 <= ord(ch) <= 0xFEFF for ch in visual)
    assert visual in shown, f"{visual!r} not in the terminal stream"
    assert " ".join(words) not in shown  # no logical-order copy that a browser could reorder

    # The browser does not reorder again: xterm.js draws cells on canvases (or, in its DOM renderer,
    # our bidi-override rule keeps each row in the order sent). Check both in this browser.
    assert json.loads(renderer)["canvas"] > 0, renderer
    xs = page.evaluate(f"""(() => {{
        const row = document.createElement('div'); row.className = 'xterm-rows';
        row.style.cssText = 'position:absolute; top:0; left:0; font-family:monospace; white-space:pre';
        const span = document.createElement('span'); span.textContent = {json.dumps(visual)};
        row.appendChild(span); document.body.appendChild(row);
        const xs = []; const range = document.createRange();
        for (let i = 0; i < span.textContent.length; i++) {{
            range.setStart(span.firstChild, i); range.setEnd(span.firstChild, i + 1);
            xs.push(range.getBoundingClientRect().left);
        }}
        row.remove(); return xs; }})()""")
    assert xs == sorted(xs) and xs[0] < xs[-1], f"DOM text reordered by the browser: {xs}"

    # Back to the library; `e` exports everyone's annotations as JSONL, downloaded by the browser.
    since = len(frames(page))
    chromium.key("Escape")
    wait_drawn(page, LIBRARY_DRAWN, since)
    chromium.key("e")
    done = chromium.browser.wait_event("Browser.downloadProgress", timeout=30,
                                       where=lambda p: p.get("state") in ("completed", "canceled"))
    assert done["state"] == "completed", done
    exported = Path(done["filePath"])
    assert exported.parent == downloads and re.fullmatch(r"tahqiq-export-\d{8}-\d{6}\.jsonl", exported.name)
    records = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    mine = [r for r in records if r["annotator"] == ANNOTATOR]
    assert [r["id"] for r in mine] == [opened]
    assert [(e["start"], e["end"], e["label"]) for e in mine[0]["entities"]] == [(row["start"], row["end"], "PER")]

    # Links open in the browser: search the linked article, open it, ctrl+o opens its URL in a new tab.
    since = len(frames(page))
    chromium.key("/")
    wait_settled(page, since)  # the search box has the focus
    since = len(frames(page))
    chromium.type("zanzibarquux")
    wait_drawn(page, "1 article match", since)  # typed, and searched
    since = len(frames(page))
    chromium.key("Enter")  # to the (filtered) list
    wait_settled(page, since)
    since = len(frames(page))
    chromium.key("Enter")  # open the one hit
    wait_for(lambda: read_json(state_file).get("last_article") == "linktest0001", 30, "the linked article")
    wait_drawn(page, READER_DRAWN, since)
    chromium.key("o", ctrl=True)
    wait_for(lambda: any(t["type"] == "page" and t["url"] == LINK for t in chromium._json("/json/list")), 30,
             f"a browser tab on {LINK}")
