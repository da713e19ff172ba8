"""Sentences likely to be check-worthy, by editable rules (`claim_rules.toml` in the workspace)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_atomic
from .errors import StoreError
from .normalize import quick_fold
from .sentences import sentences

RULES_FILE = "claim_rules.toml"
DEFAULT_RULES_TOML = """\
# Which sentences tahqiq marks in the margin as likely check-worthy claims. Edit freely: words are
# matched after folding (harakat ignored, alef/yaa/taa-marbuta variants equal), as whole words, with
# و/ف allowed in front. Each [rules.NAME] has `words` (any of them) and/or `regex` (on the raw text).

[rules.number]
# a number that is not just a year (19xx, 20xx)
regex = '(?<![0-9])(?!(?:19|20)[0-9]{2}(?![0-9]))[0-9٠-٩]+'

[rules.percentage]
regex = '[%٪]|بالمائة|في المائة|بالمئة|في المئة'
words = ["نسبة"]

[rules.reported_speech]
words = ["قال", "قالت", "يقول", "تقول", "أفاد", "أفادت", "يفيد", "أكد", "أكدت", "يؤكد", "تؤكد", "مؤكدا", "أوضح", "أوضحت", "يوضح",
         "موضحا", "أضاف", "أضافت", "يضيف", "مضيفا", "أشار", "أشارت", "يشير", "مشيرا", "كشف", "كشفت",
         "يكشف", "كاشفا", "صرح", "صرحت", "أعلن", "أعلنت", "حسب", "وفق", "وفقا", "بحسب"]

[rules.quotation]
# quotation marks around at least a few words (not a quoted name such as “تويتر”)
regex = '[«“"][^«»“”"]{20,}[»”"]'

[rules.comparison]
words = ["أكثر", "أقل", "أكبر", "أصغر", "أعلى", "أدنى", "أفضل", "أسوأ", "أول", "الأول", "الأولى",
         "الأكبر", "الأكثر", "الأقل", "الأفضل", "الأسوأ", "أهم", "الأهم", "مقارنة", "ضعف", "أضعاف", "فقط"]
"""


@dataclass(frozen=True)
class ClaimRule:
    name: str
    words: frozenset[str]
    regex: re.Pattern[str] | None


@dataclass(frozen=True)
class ClaimCandidate:
    """A sentence to mark, and the names of the rules it met."""

    start: int
    end: int
    reasons: tuple[str, ...]


def load_rules(workspace_path: Path) -> list[ClaimRule]:
    """The workspace's rules (the defaults are written there on first use); errors name file and rule."""
    path = workspace_path / RULES_FILE
    if not path.exists():
        try:
            write_atomic(path, DEFAULT_RULES_TOML.encode("utf-8"))
        except OSError:
            return parse_rules(DEFAULT_RULES_TOML, path)
    try:
        return parse_rules(path.read_text(encoding="utf-8"), path)
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: cannot read ({exc})") from exc


def parse_rules(text: str, path: Path | str = RULES_FILE) -> list[ClaimRule]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StoreError(f"{path}: {exc}") from exc
    rules = []
    for name, spec in (data.get("rules") or {}).items():
        if not isinstance(spec, dict):
            raise StoreError(f"{path}: rules.{name}: expected a table with words and/or regex")
        words = spec.get("words", [])
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise StoreError(f"{path}: rules.{name}.words: expected a list of strings")
        pattern = spec.get("regex")
        try:
            compiled = re.compile(pattern) if pattern else None
        except (re.error, TypeError) as exc:
            raise StoreError(f"{path}: rules.{name}.regex: {exc}") from None
        rules.append(ClaimRule(name, frozenset(quick_fold(w) for w in words), compiled))
    return rules


_WORD = re.compile(r"\w+")


def candidates(body: str, rules: list[ClaimRule]) -> list[ClaimCandidate]:
    """Every sentence of `body` that meets at least one rule."""
    out = []
    for start, end in sentences(body):
        text = body[start:end]
        folded = {w for w in _WORD.findall(quick_fold(text))}
        folded |= {w[1:] for w in folded if len(w) > 2 and w[0] in "وف"}
        reasons = tuple(r.name for r in rules
                        if (r.words and folded & r.words) or (r.regex is not None and r.regex.search(text)))
        if reasons:
            out.append(ClaimCandidate(start, end, reasons))
    return out
