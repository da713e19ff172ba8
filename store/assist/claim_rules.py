"""Sentences likely to be check-worthy, by editable rules (`claim_rules.toml` in the workspace)."""

from __future__ import annotations

import re
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import regex as _regex

from store.annotation.labels import _line_of
from store.db.atomic import write_atomic
from store.db.storage import TOO_DEEP
from store.errors import StoreError
from store.text.normalize import quick_fold
from store.text.sentences import sentences

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
words = ["قال", "قالت", "يقول", "تقول", "أفاد", "أفادت", "يفيد", "أكد", "أكدت", "يؤكد", "تؤكد",
         "مؤكدا", "أوضح", "أوضحت", "يوضح",
         "موضحا", "أضاف", "أضافت", "يضيف", "مضيفا", "أشار", "أشارت", "يشير", "مشيرا", "كشف", "كشفت",
         "يكشف", "كاشفا", "صرح", "صرحت", "أعلن", "أعلنت", "حسب", "وفق", "وفقا", "بحسب"]

[rules.quotation]
# quotation marks around at least a few words (not a quoted name such as “تويتر”)
regex = '[«“"][^«»“”"]{20,}[»”"]'

[rules.comparison]
words = ["أكثر", "أقل", "أكبر", "أصغر", "أعلى", "أدنى", "أفضل", "أسوأ", "أول", "الأول", "الأولى",
         "الأكبر", "الأكثر", "الأقل", "الأفضل", "الأسوأ", "أهم", "الأهم", "مقارنة", "ضعف", "أضعاف", "فقط"]
"""


REGEX_SECONDS = 0.2
"""How long one rule's regex may run over one article. Rules come from a file anyone can edit, and a regex
such as `(.|\\w)+\\d` can backtrack for hours over one sentence: it is run (by the `regex` module)
with this time limit, and a rule that runs out is reported once and skipped from then on."""


@dataclass(frozen=True)
class ClaimRule:
    name: str
    words: frozenset[str]
    regex: _regex.Pattern[str] | None
    where: str = RULES_FILE
    """`file:line` of the rule, for error messages."""


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
    """The rules of a claim_rules.toml text; any problem is one StoreError naming the file, line and rule."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StoreError(f"{path}: {exc}") from exc
    except RecursionError:
        raise StoreError(f"{path}: {TOO_DEEP}") from None
    table = data.get("rules") or {}
    if not isinstance(table, dict):
        raise StoreError(f"{path}:{_line_of(text, '', 'rules')}: field 'rules': expected tables, e.g. [rules.number]")
    rules = []
    for name, spec in table.items():
        where = f"{path}:{_line_of(text, f'rules.{name}')}"
        if not isinstance(spec, dict):
            raise StoreError(f"{where}: rules.{name}: expected a table with words and/or regex")
        words = spec.get("words", [])
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise StoreError(f"{where}: rules.{name}.words: expected a list of strings")
        pattern = spec.get("regex")
        if pattern is not None and not isinstance(pattern, str):
            raise StoreError(f"{where}: rules.{name}.regex: expected a string, got {type(pattern).__name__}")
        try:
            compiled = _regex.compile(pattern) if pattern else None
        except (_regex.error, ValueError, OverflowError, RecursionError) as exc:
            raise StoreError(f"{where}: rules.{name}.regex: {str(exc) or type(exc).__name__}") from None
        rules.append(ClaimRule(name, frozenset(quick_fold(w) for w in words), compiled, where))
    return rules


_WORD = re.compile(r"\w+")


def candidates(body: str, rules: list[ClaimRule], problems: list[str] | None = None,
               seconds: float = REGEX_SECONDS) -> list[ClaimCandidate]:
    """Every sentence of `body` that meets at least one rule.

    A rule whose regex runs longer than `seconds` over this article is taken out of `rules` (the caller's
    list: it is skipped from then on) and reported once in `problems`, one line naming the file, line and rule."""
    spent = {r.name: 0.0 for r in rules if r.regex is not None}
    slow: list[ClaimRule] = []

    def meets(rule: ClaimRule, text: str, folded: set[str]) -> bool:
        if rule.words and folded & rule.words:
            return True
        if rule.regex is None or rule in slow:
            return False
        began = time.monotonic()
        try:
            found = rule.regex.search(text, timeout=max(seconds - spent[rule.name], 0.001)) is not None
        except TimeoutError:
            slow.append(rule)
            return False
        spent[rule.name] += time.monotonic() - began
        return found

    out = []
    for start, end in sentences(body):
        text = body[start:end]
        folded = {w for w in _WORD.findall(quick_fold(text))}
        folded |= {w[1:] for w in folded if len(w) > 2 and w[0] in "وف"}
        reasons = tuple(r.name for r in rules if meets(r, text, folded))
        if reasons:
            out.append(ClaimCandidate(start, end, reasons))
    for rule in slow:
        if rule in rules:
            rules.remove(rule)
        if problems is not None:
            problems.append(f"{rule.where}: rules.{rule.name}.regex: took over {seconds:g} s on one article "
                            "(a pattern that backtracks without end?); the rule is skipped")
    return out
