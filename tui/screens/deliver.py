"""What the app hands to the user: an export file and an article's link.

Both go through Textual, so they do the right thing wherever the app runs: in a terminal the export is
saved to the user's downloads folder (`App.deliver_text`) and the link is copied (and opened where a
desktop browser can be); under `tahqiq serve` the export is downloaded by the user's browser and the link
opens in a new tab (`App.open_url`).
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

from platformdirs import user_downloads_path
from textual import events
from textual.app import App
from textual.screen import Screen

from store import StoreError, Workspace
from store.db.atomic import write_atomic
from store.wording import counted

EXPORT_FORMAT = "jsonl"


def export_text(workspace_path: Path, fmt: str = EXPORT_FORMAT) -> tuple[str, int]:
    """Everyone's annotations in `fmt` as one string, and the number of records. Opens its own Workspace,
    so it can run in a worker thread without sharing the app's database handles."""
    from store.exchange import export  # not at the top: the reader imports this module, and opens ~30 ms sooner

    workspace = Workspace.open(workspace_path)
    try:
        out = io.StringIO()
        ctx = export(workspace, fmt, out=out)
    finally:
        workspace.close()
    return out.getvalue(), sum(ctx.directions.values())


def export_filename(fmt: str = EXPORT_FORMAT) -> str:
    """`tahqiq-export-YYYYMMDD-HHMMSS.jsonl`: a terminal session saves into ~/Downloads, where a fixed name
    would overwrite the previous export."""
    return f"tahqiq-export-{time.strftime('%Y%m%d-%H%M%S')}.{fmt}"


def export_jsonl(screen: Screen, save_directory: str | Path | None = None) -> None:
    """Export in a worker thread, then deliver the file: a browser download, or a file in a terminal session
    (`save_directory`, else ~/Downloads, created if missing). Success is said only once the file is written
    (or, in a browser, handed over); a failure is shown as a failure."""
    app = screen.app
    path = app.workspace.path

    def download(text: str, count: int, name: str) -> None:
        app.deliver_text(io.StringIO(text), save_filename=name, encoding="utf-8", name=f"export:{count}")

    def run() -> None:
        try:
            text, count = export_text(path)
        except (StoreError, OSError) as exc:
            app.call_from_thread(app.notify, f"Export failed: {exc}", severity="error", timeout=15)
            return
        if count == 0:
            app.call_from_thread(app.notify, "Nothing to export yet: no annotated articles", severity="warning")
            return
        name = export_filename()
        if app.is_web:
            app.call_from_thread(download, text, count, name)
            return
        folder = Path(save_directory) if save_directory is not None else downloads_folder()
        target = folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_atomic(target, text.encode("utf-8"))
        except OSError as exc:
            app.call_from_thread(app.notify, f"Export failed: cannot write {target}: {exc.strerror or exc}",
                                 severity="error", timeout=15)
            return
        app.call_from_thread(app.notify, f"Exported {counted(count, 'record')} to {target}", timeout=8)

    app.notify("Exporting all annotations (jsonl)…", timeout=2)
    screen.run_worker(run, thread=True, exclusive=True, group="export", name="export")


def downloads_folder() -> Path:
    """Where a terminal session saves an export: the user's downloads folder (~/Downloads unless the desktop
    says otherwise)."""
    return Path(user_downloads_path())


def delivered(app: App, event: events.DeliveryComplete | events.DeliveryFailed) -> None:
    """Say how a browser download of an export ended (the app forwards Textual's delivery events here)."""
    if not (event.name or "").startswith("export:"):
        return
    count = event.name.split(":", 1)[1]
    if isinstance(event, events.DeliveryFailed):
        app.notify(f"Export failed: the download did not start ({event.exception or 'unknown error'})",
                   severity="error", timeout=15)
    else:
        app.notify(f"Exported {counted(int(count), 'record')}: your browser downloads the file", timeout=6)


def open_article_url(screen: Screen, url: str | None) -> None:
    """Open the article's source page: a new browser tab under `tahqiq serve`. In a terminal the URL is
    copied (OSC 52) and opened only where a desktop browser can be (never over SSH, where Python's
    `webbrowser` could start a console browser on top of the app)."""
    app = screen.app
    if not url:
        app.notify("This article has no URL", severity="warning", timeout=3)
        return
    if not url.lower().startswith(("http://", "https://")) or not url.isprintable() or " " in url:
        app.notify(f"Not a web address: {url}", severity="warning", timeout=3)
        return
    if app.is_web:
        app.open_url(url)
        app.notify(f"Opened {url} in a new tab", timeout=3)
        return
    app.copy_to_clipboard(url)
    if _desktop_browser_possible():
        app.open_url(url)
        app.notify(f"Opening {url} (also copied)", timeout=3)
    else:
        app.notify(f"Copied {url} (OSC 52): no desktop browser here", timeout=4)


def _desktop_browser_possible() -> bool:
    if os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"):
        return False
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
