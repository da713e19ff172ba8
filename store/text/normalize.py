"""Arabic-forgiving matching: fold away diacritics, tatweel and spelling variants, keeping an offset map."""

from __future__ import annotations

import re
import zlib

import regex

_DROP = set(range(0x0610, 0x061B)) | set(range(0x064B, 0x0660)) | {0x0670, 0x0640} | set(range(0x06D6, 0x06EE))
"""Harakat, Quranic marks, superscript alef and tatweel: ignored when matching."""
_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "ى": "ي", "ئ": "ي",
    "ة": "ه",
    "ؤ": "و",
})
FOLD_TABLE: dict[int, str | None] = {**{cp: None for cp in _DROP}, **_FOLD}
"""str.translate table doing what `fold` does, minus case folding and the offset map."""
CLITIC_PREFIX = "(?:[وف])?(?:[بك]?ال|لل|[بكل])?"
"""Prefixes Arabic attaches to a word, stacked: و/ف (and, so), then ب/ك/ل (with, like, for), then ال (the)."""
_WORD_START = r"\p{L}\p{N}_\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640"  # re's \w, harakat, tatweel
WORD = regex.compile(rf"(?:(?=\p{{Grapheme_Cluster_Break=Prepend}}*[{_WORD_START}])\X)+")
"""A word: letters, digits, harakat and tatweel (punctuation, spaces and emoji separate words), taken whole
grapheme clusters (UAX #29) at a time, so a word never ends inside one: a keycap's VS16 and U+20E3, a Latin
combining accent, a ZWJ or a skin tone after a letter belong to the word, and a flag or emoji is never cut."""


def fold(text: str) -> tuple[str, list[int]]:
    """`text` folded for matching, and for each folded character the offset it came from in `text`."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ord(ch) in _DROP:
            continue
        out.append(ch.translate(_FOLD).casefold())
        origin.extend([i] * len(out[-1]))
    return "".join(out), origin


_DROP_RE = re.compile("[" + "".join(chr(c) for c in sorted(_DROP)) + "]")
_VARIANTS = [(chr(a), b) for a, b in _FOLD.items()]


def quick_fold(text: str) -> str:
    """The same folding without the offset map, at C speed (regex and str.replace, not per character)."""
    text = _DROP_RE.sub("", text)
    for variant, plain in _VARIANTS:
        text = text.replace(variant, plain)
    return text.casefold()


def folded_words(text: str) -> tuple[str, ...]:
    """The words of `text` (WORD), each folded (`quick_fold`): what matches a tagged string."""
    return tuple(quick_fold(m.group()) for m in WORD.finditer(text))


FOLD_STAMP = zlib.crc32("\x1f".join(folded_words(
    "إِنَّ أحمدَ آمنٌ ٱلأمر مستشفى مسؤول رئيس مدرسة ـطويلـ ABC Straße ١٢٣ 123 keycap1️⃣ 🇲🇦")).encode("utf-8"))
"""Changes whenever `folded_words` would fold differently: files that keep folded words (store.annotation.
entity_counts) carry it, and are not trusted under another."""


def fold_key(text: str) -> str:
    """The folded form alone: equal keys mean the strings match under Arabic-forgiving rules."""
    return fold(text)[0]


def find_all(body: str, needle: str, clitics: bool = False) -> list[tuple[int, int]]:
    """Every whole-word occurrence of `needle` in `body` as (start, end) offsets into `body`.

    Matching ignores diacritics and tatweel and treats hamza/alef, yaa/alef maqsura and taa marbuta
    variants as equal. With `clitics`, a CLITIC_PREFIX before the word is allowed (and left out of
    the span).
    """
    key = fold_key(needle).strip()
    if not key:
        return []
    folded, origin = fold(body)
    prefix = CLITIC_PREFIX if clitics else ""
    pattern = re.compile(rf"(?<!\w){prefix}({re.escape(key)})(?!\w)")
    spans = []
    for m in pattern.finditer(folded):
        start = origin[m.start(1)]
        last = origin[m.end(1) - 1]
        end = last + 1
        # Keep marks that follow the last letter (they belong to it).
        while end < len(body) and ord(body[end]) in _DROP and body[end] != "\u0640":
            end += 1
        spans.append((start, end))
    return spans
