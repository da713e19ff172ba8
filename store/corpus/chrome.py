"""Page chrome of scraped news pages: what is not article text, recognised by shape and by pattern.

To teach the importer a new site, add a regular expression to one of the lists below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Whole lines that are site furniture, never article text (image-report notices, footers, share prompts).
NOTICE_PATTERNS: list[str] = [
    r"شكرا على الإبلاغ!?",
    r"سيتم حجب هذه الصورة تلقائيا.*",
    r"انقر هنا لقراءة الخبر من مصدره\.?",
    r"تعليقات الزوار\s*\(\s*\d+\s*\)",
    r"(?:اقرأ|إقرأ) أيضا\s*:?",
    r"شارك(?:وا)? (?:هذا|الخبر|المقال).*",
    r"تابعونا على .*",
    r"جميع الحقوق محفوظة.*",
    r"Click here to read the story from its source\.?",
]

# "Published in <outlet> on DD - MM - YYYY": gives the outlet and the date.
PUBLISHED_PATTERNS: list[str] = [
    r"نشر في\s+(?P<source>.+?)\s+يوم\s+(?P<day>\d{1,2})\s*[-/]\s*(?P<month>\d{1,2})\s*[-/]\s*(?P<year>\d{4})",
]

# A navigation bar scraped as one line: many headlines separated by runs of (non-breaking) spaces.
NAV_SEPARATOR = re.compile(r"[ \u00a0\t]{3,}")
NAV_MIN_ITEMS = 5

_notice = [re.compile(rf"^\s*(?:{p})\s*$") for p in NOTICE_PATTERNS]
_published = [re.compile(rf"^\s*(?:{p})\s*$") for p in PUBLISHED_PATTERNS]


@dataclass(frozen=True)
class Published:
    """Outlet and ISO date read off a "published in" line."""

    source: str
    date: str | None


def is_notice(line: str) -> bool:
    """True for a line matching a known notice or footer."""
    return any(p.match(line) for p in _notice)


def is_navigation(line: str) -> bool:
    """True for a line shaped like a scraped menu: at least NAV_MIN_ITEMS items split by space runs."""
    items = [s for s in NAV_SEPARATOR.split(line.strip()) if s]
    return len(items) >= NAV_MIN_ITEMS


def parse_published(line: str) -> Published | None:
    """The outlet and date of a "published in" line, or None if the line is not one."""
    for pattern in _published:
        m = pattern.match(line)
        if m:
            day, month, year = int(m["day"]), int(m["month"]), int(m["year"])
            date = f"{year:04d}-{month:02d}-{day:02d}" if 1 <= month <= 12 and 1 <= day <= 31 else None
            return Published(m["source"].strip(), date)
    return None
