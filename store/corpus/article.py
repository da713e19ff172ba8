"""The Article record and how a scraped news page (.txt) becomes one."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from store.corpus import chrome

TITLE_MAX_CHARS = 200
"""A first line longer than this is body text, not a title (titles are headlines)."""
BYLINE_MAX_WORDS = 8
DERIVED_TITLE_MAX_CHARS = 120
_SENTENCE_END = re.compile(r"(?:\.\.+|[.؟?!:؛])(?=\s|$)")
_BYLINE_PUNCT = re.compile(r"[.،,:;؛؟?!«»\"“”()\[\]0-9٠-٩]")
_BYLINE_PREFIX = re.compile(r"^(?:بقلم|كتب|كتبت|By)\s*:?\s*", re.IGNORECASE)
_DASH = re.compile(r"^[-–—]")


@dataclass
class Article:
    """One article of the corpus. Annotation offsets count code points into `body`, which never changes."""

    id: str
    body: str
    title: str = ""
    title_derived: bool = False
    source: str | None = None
    date: str | None = None
    byline: str | None = None
    url: str | None = None
    raw: str = ""
    origin: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Article:
        known = {k: record[k] for k in cls.__dataclass_fields__ if k in record}
        return cls(**known)


def content_id(text: str) -> str:
    """A stable id for text that comes without one: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def derive_title(body: str) -> str:
    """The first sentence of the body, cut at a word boundary if long: a title for pages without one."""
    first = body.split("\n", 1)[0].strip()
    m = _SENTENCE_END.search(first)
    sentence = first[: m.start()].strip() if m else first
    if len(sentence) <= DERIVED_TITLE_MAX_CHARS:
        return sentence
    cut = sentence[:DERIVED_TITLE_MAX_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(" ،,") + "…"


def _looks_like_title(line: str, rest: list[str]) -> bool:
    return bool(rest) and len(line) <= TITLE_MAX_CHARS and not _DASH.match(line)


def _looks_like_byline(line: str, rest: list[str]) -> bool:
    words = line.split()
    return (
        bool(rest)
        and 0 < len(words) <= BYLINE_MAX_WORDS
        and not _BYLINE_PUNCT.search(line)
        and not _DASH.match(line)
    )


def parse_page(raw: str, article_id: str, origin: str = "") -> Article:
    """Turn a scraped page into an Article: chrome (menus, notices, footers) stays in `raw` only."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    content: list[str] = []
    title: str | None = None
    published: chrome.Published | None = None
    for line in text.split("\n"):
        line = line.strip()
        if not line or chrome.is_notice(line) or chrome.is_navigation(line):
            continue
        pub = chrome.parse_published(line)
        if pub is not None:
            # The headline is the line just above "published in <outlet> on <date>".
            if published is None and content:
                title = content.pop()
                published = pub
            continue
        content.append(line)
    if title is None and content and _looks_like_title(content[0], content[1:]):
        title = content.pop(0)
    byline = None
    if title is not None and content and _looks_like_byline(content[0], content[1:]):
        byline = _BYLINE_PREFIX.sub("", content.pop(0))
    body = "\n".join(content)
    derived = title is None
    return Article(
        id=article_id,
        body=body,
        title=derive_title(body) if derived else title,
        title_derived=derived,
        source=published.source if published else None,
        date=published.date if published else None,
        byline=byline,
        raw=raw,
        origin=origin,
    )
