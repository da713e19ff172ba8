"""The HTML of `tahqiq serve` (tui.cli.serve): the page asking who is annotating, the pages saying why a request
was refused, and the changes made to textual-serve's app page (no Google fonts, no browser bidi). Text in,
text out: the server wraps them in responses."""

from __future__ import annotations

import html
import re

from store.annotators import HELP, HTML_PATTERN

NO_BROWSER_BIDI = """<style>
  /* tahqiq sends each row already in visual order with joined (presentation-form) letters. xterm.js's
     canvas and WebGL renderers draw cell by cell, so the browser never reorders; should xterm.js fall back
     to its DOM renderer, these rules stop the browser from reordering the rows a second time. */
  .xterm-rows, .xterm-rows * { unicode-bidi: bidi-override !important; direction: ltr !important; }
</style>
"""
GOOGLE_FONTS = re.compile(r'<link[^>]*fonts\.googleapis\.com[^>]*>\s*')
"""textual-serve's page loads Roboto Mono from Google, which has no Arabic and fails offline; we drop it, so
every browser uses its local monospace font (DejaVu Sans Mono on Debian, with Arabic presentation forms)."""


def app_page(page: str) -> str:
    """textual-serve's app page as we serve it: without the Google fonts link (no third-party request; the
    system monospace font) and with NO_BROWSER_BIDI at the end of its head."""
    page = GOOGLE_FONTS.sub("", page)
    return page.replace("</head>", f"{NO_BROWSER_BIDI}</head>", 1)


def refusal_page(title: str, message: str) -> str:
    """A small HTML page saying why a request was refused."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tahqiq · {html.escape(title)}</title></head>
<body style="background: #0c181f; color: #eee; font-family: sans-serif; padding: 3em;">
<h1>tahqiq · {html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>
"""


def prompt_page(problem: str | None, value: str) -> str:
    """The page asking who is annotating (a GET form back to / with ?annotator=NAME), saying `problem` if any,
    with `value` filled in; the browser checks the name against store.annotators.HTML_PATTERN."""
    error = f'<p class="error">{html.escape(problem)}</p>' if problem else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tahqiq · تحقيق</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ background: #0c181f; color: #eee; font-family: sans-serif; display: flex; align-items: center;
       justify-content: center; height: 100vh; margin: 0; }}
form {{ background: #12232d; padding: 2em 3em; border-radius: 6px; }}
input {{ font-size: 1.2em; padding: .3em; margin: .5em 0; }}
button {{ font-size: 1.1em; padding: .4em 1.2em; background: #5e0ba7; color: #fff; border: none; }}
.error {{ color: #ff8080; }} .hint {{ color: #aaa; font-size: .9em; }}
</style></head>
<body><form method="get" action="">
<h1>tahqiq · تحقيق</h1>
<label for="annotator">Your annotator name</label><br>
<input id="annotator" name="annotator" value="{html.escape(value)}" required autofocus
       pattern="{HTML_PATTERN}" autocomplete="username">
<button type="submit">Start</button>
{error}
<p class="hint">{html.escape(HELP)}.<br>Bookmark the next page: its address carries your name.</p>
</form></body></html>
"""
