"""Entity suggestions: strings the team has tagged, match patterns, and imported predictions.

The annotator's own tags are counted from their records and follow every change; a teammate's are read from
their entity counts (store.annotation.entity_counts: as of their last fold), not from their records.

Matching is on folded words (store.text.normalize: harakat, tatweel and letter variants ignored), and a
clitic prefix (و ف ب ك ل ال) may precede the first word; the suggested span leaves the clitic out.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

import regex as _regex

from store.annotation.entity_counts import fold_counts, read_entity_counts
from store.annotation.record import Kind
from store.annotators import PREDICTIONS_PREFIX, is_predictions
from store.assist.rejections import Rejections
from store.assist.tagged_index import MAX_WORDS, SharedMatcher, shared_index
from store.db.storage import loads
from store.errors import StoreError
from store.text.normalize import CLITIC_PREFIX, WORD, folded_words, quick_fold

PATTERNS_FILE = "patterns.jsonl"
ADD_CHUNK = 20_000
"""Counted strings added to the index at a time while it is built (`Suggester`'s `pause` is called between)."""
_CLITIC = re.compile(rf"^{CLITIC_PREFIX}")
REGEX_SECONDS = 0.2
"""How long one token pattern's REGEX may run over one article (see store.assist.claim_rules.REGEX_SECONDS): a
pattern that runs out is reported once and skipped from then on."""

@dataclass(frozen=True)
class Suggestion:
    """A span the annotator may accept as an entity; `source` says where it came from."""

    start: int
    end: int
    label: str
    source: str  # "tagged", "pattern" or "prediction:<model>"

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.start, self.end, self.label)

def words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, folded word) of every word of `text`."""
    return [(m.start(), m.end(), quick_fold(m.group())) for m in WORD.finditer(text)]

class PhraseMatcher:
    """Folded word sequences -> label (the label most often given to that string)."""

    def __init__(self) -> None:
        self._votes: dict[tuple[str, ...], dict[str, int]] = {}
        self._best: dict[tuple[str, ...], str] = {}
        self.longest = 1

    def add(self, text: str, label: str, weight: int = 1) -> None:
        """Count `weight` votes for `label` on `text` (a negative weight takes votes back)."""
        self.add_counts({(folded_words(text), label): weight})

    def add_counts(self, counts: Mapping[tuple[tuple[str, ...], str], int]) -> None:
        """`add` for many (folded words, label) -> votes at once (store.annotation.entity_counts.fold_counts),
        each best label chosen once: the most voted, the first given among equals."""
        all_votes, best = self._votes, self._best
        touched: dict[tuple[str, ...], None] = {}
        for (key, label), weight in counts.items():
            if not key or len(key) > MAX_WORDS:
                continue
            votes = all_votes.get(key)
            if votes is None:
                all_votes[key] = {label: weight}
            else:
                votes[label] = votes.get(label, 0) + weight
            touched[key] = None
        longest = self.longest
        for key in touched:
            votes = all_votes[key]
            if len(votes) == 1 and next(iter(votes.values())) > 0:
                best[key] = next(iter(votes))
            else:
                for label in [label for label, n in votes.items() if n <= 0]:
                    del votes[label]
                if not votes:
                    del all_votes[key]
                    best.pop(key, None)
                    continue
                best[key] = max(votes.items(), key=itemgetter(1))[0]  # (max keeps the first of equals)
            longest = max(longest, len(key))
        self.longest = longest

    def __len__(self) -> int:
        return len(self._best)

    def best(self, key: tuple[str, ...]) -> str | None:
        """The label most voted for these folded words, or None."""
        return self._best.get(key)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Longest non-overlapping matches in `text` as (start, end, label)."""
        found = []
        ws = words(text)
        i = 0
        while i < len(ws):
            first = ws[i][2]
            variants = _variants(first)
            hit = None
            for n in range(min(self.longest, len(ws) - i), 0, -1):
                rest = tuple(w for _, _, w in ws[i + 1:i + n])
                for head, cut in variants:
                    label = self.best((head, *rest))
                    if label is not None:
                        hit = (ws[i][0] + _skip(text, ws[i][0], cut), ws[i + n - 1][1], label, n)
                        break
                if hit:
                    break
            if hit:
                found.append(hit[:3])
                i += hit[3]
            else:
                i += 1
        return found

class _Shared(SharedMatcher):
    """The team's shared index matched as PhraseMatcher matches, its pages let go after (TaggedIndex.release)."""

    def find(self, text: str) -> list[tuple[int, int, str]]:
        found = PhraseMatcher.find(self, text)  # type: ignore[arg-type]
        self.index.release()
        return found


def _variants(word: str) -> list[tuple[str, int]]:
    """The word, and the word without each possible clitic prefix (و، وب، وبال...): (head, chars cut)."""
    clitic = _CLITIC.match(word)
    cut = clitic.end() if clitic else 0
    out = [(word, 0)]
    for n in range(1, min(cut, len(word) - 1) + 1):
        out.append((word[n:], n))
        if word[n:].startswith("ل") and word[n - 1] == "ل":
            out.append(("ا" + word[n:], n - 1))  # لل = ل + ال with the alef elided: لِلمديرية -> المديرية
    return out

def _skip(text: str, start: int, folded_chars: int) -> int:
    """How many characters of `text` from `start` make up the first `folded_chars` folded characters."""
    if not folded_chars:
        return 0
    n = 0
    while len(quick_fold(text[start:start + n])) < folded_chars:
        n += 1
    while start + n < len(text) and not quick_fold(text[start + n]):
        n += 1  # marks on the clitic stay with it
    return n

@dataclass(frozen=True)
class TokenPattern:
    """A spaCy/Prodigy-style token pattern: one dict per word with TEXT, LOWER, NORM, REGEX or IS_DIGIT."""

    label: str
    tokens: tuple[dict[str, Any], ...]
    where: str = PATTERNS_FILE
    """`file:line` of the pattern, for error messages."""

    def _match(self, spec: dict[str, Any], raw: str, folded: str, deadline: float) -> bool:
        for key, value in spec.items():
            if key == "TEXT" and raw != value:
                return False
            if key == "LOWER" and raw.casefold() != str(value).casefold():
                return False
            if key == "NORM" and folded != quick_fold(str(value)):
                return False
            if key == "REGEX" and not _compiled(str(value)).search(
                    raw, timeout=max(deadline - time.monotonic(), 0.001)):
                return False
            if key == "IS_DIGIT" and raw.isdigit() != bool(value):
                return False
        return True

    def find(self, text: str, seconds: float = REGEX_SECONDS) -> list[tuple[int, int, str]]:
        """(start, end, label) of every match; TimeoutError when its REGEXes run over `seconds` in all."""
        ws = words(text)
        n = len(self.tokens)
        out = []
        deadline = time.monotonic() + seconds
        for i in range(len(ws) - n + 1):
            if all(self._match(spec, text[ws[i + k][0]:ws[i + k][1]], ws[i + k][2], deadline)
                   for k, spec in enumerate(self.tokens)):
                out.append((ws[i][0], ws[i + n - 1][1], self.label))
        return out

_REGEXES: dict[str, Any] = {}

def _compiled(pattern: str) -> Any:
    """A REGEX of a token pattern, compiled once (by the `regex` module, which can stop on a time limit)."""
    found = _REGEXES.get(pattern)
    if found is None:
        found = _REGEXES[pattern] = _regex.compile(pattern)
    return found

_TOKEN_KEYS = {"TEXT", "LOWER", "NORM", "REGEX", "IS_DIGIT"}

def load_patterns(path: Path, labels: Iterable[str]) -> tuple[PhraseMatcher, list[TokenPattern]]:
    """Read patterns.jsonl: {"label": "ORG", "pattern": "phrase"} or {"label": ..., "pattern": [{...}, ...]}.

    A bad line is a StoreError naming the file, line and field.
    """
    phrases, tokens = PhraseMatcher(), []
    if not path.exists():
        return phrases, tokens
    known = set(labels)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StoreError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    for number, raw_line in enumerate(data.splitlines(), 1):
        where = f"{path}:{number}"
        try:
            line = raw_line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise StoreError(f"{where}: not valid UTF-8 (byte {exc.start + 1} of the line)") from None
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            record = loads(line)
        except json.JSONDecodeError as exc:
            raise StoreError(f"{where}: not JSON ({exc.msg})") from None
        except ValueError as exc:  # nested too deeply (storage.loads), a number of thousands of digits
            raise StoreError(f"{where}: not JSON ({exc})") from None
        if not isinstance(record, dict):
            raise StoreError(f"{where}: expected an object with label and pattern")
        label, pattern = record.get("label"), record.get("pattern")
        if not isinstance(label, str) or label not in known:
            raise StoreError(f"{where}: field 'label': {label!r} is not in labels.toml ({', '.join(sorted(known))})")
        if isinstance(pattern, str) and pattern.strip():
            phrases.add(pattern, label, weight=1000)
        elif isinstance(pattern, list) and pattern and all(isinstance(t, dict) and t and set(t) <= _TOKEN_KEYS
                                                            for t in pattern):
            for spec in pattern:
                if "REGEX" in spec:
                    try:
                        _compiled(str(spec["REGEX"]))
                    except (_regex.error, ValueError, OverflowError, RecursionError) as exc:
                        raise StoreError(f"{where}: field 'pattern': bad REGEX ({exc})") from None
            tokens.append(TokenPattern(label, tuple(pattern), where))
        else:
            raise StoreError(f"{where}: field 'pattern': a phrase or a list of token dicts using "
                             f"{', '.join(sorted(_TOKEN_KEYS))}")
    return phrases, tokens

class Suggester:
    """Suggestions for one annotator over a workspace; built once, updated as the annotator tags."""

    def __init__(self, workspace: Any, annotator: str, pause: Callable[[], None] | None = None) -> None:
        """`pause`, if given, is called before each file is read and between steps of adding up the counts: a
        caller building this in a thread waits there while its user is busy (reading one file can hold the
        interpreter for a second at 100,000 articles)."""
        pause = pause or (lambda: None)
        self.workspace = workspace
        self.annotator = annotator
        self.tagged = PhraseMatcher()
        self.predictions: list[str] = []
        self._mine: dict[str, tuple[str, str]] = {}
        """This annotator's entities as counted (id -> text, label): `follow` keeps them exact by id."""
        self._unlisted: set[str] | None = None
        """When this annotator's entities were counted from their counts file (not by id): the ids `follow` has
        seen since; a change to any other entity takes off what the file counted for it."""
        humans = []
        for name in workspace.annotators():
            (self.predictions if is_predictions(name) else humans).append(name)
        notes = workspace.annotations(annotator, check=False) if annotator in humans else None
        since = notes.entity_changes_since_fold() if notes is not None else None
        if notes is None or since is not None:  # the team's shared index, and this annotator's changes since
            shared = shared_index(workspace.path, {n: workspace.path / "annotations" / f"{n}.json" for n in humans},
                                  pause)
            own = since[0] if since is not None else None
            if shared is not None and (own is None or shared.sources.get(annotator) == own
                                       or (own.get("size") == 0 and annotator not in shared.sources)):
                self.tagged = _Shared(shared)
                self._count_changes(since[1] if since is not None else [])
            elif shared is not None:
                shared.close()
        if isinstance(self.tagged, PhraseMatcher):
            self._count_in_memory(workspace, humans, notes, since, pause)
        self.phrases, self.tokens = load_patterns(workspace.path / PATTERNS_FILE, workspace.schema.entities)
        self.rejections = Rejections(workspace.path, annotator)
        self.problems: list[str] = []
        """Patterns taken out while suggesting (too slow), one line each, for the app to say once; see
        `take_problems`."""

    def _count_changes(self, changes: list[tuple[Any, Any]]) -> None:
        """This annotator's entities as the index counted them (their counts file) made what they are now: each
        changed entity's counted version taken off, its version now added and listed by id (see `follow`)."""
        self._unlisted = set()
        for old, new in changes:
            self._unlisted.add((old or new)["id"])
            if old is not None and old["kind"] == Kind.ENTITY:
                self.tagged.add(old["text"], old["label"], -1)
            if new is not None and new["kind"] == Kind.ENTITY:
                self._mine[new["id"]] = (new["text"], new["label"])
                self.tagged.add(new["text"], new["label"])

    def _count_in_memory(self, workspace: Any, humans: list[str], notes: Any, since: Any,
                         pause: Callable[[], None]) -> None:
        """Every annotator's counts added up in this session's memory (when the shared index cannot be used)."""
        entity = Kind.ENTITY  # (looked up once: every record is read)
        everyone: Counter[tuple[tuple[str, ...], str]] = Counter()
        for name in humans:
            pause()
            if name == self.annotator:  # kept exact as they tag (see `follow`)
                header = since[0] if since is not None else None
                counted = read_entity_counts(notes.path, of_database=(header["stamp"], header["journal"][0]),
                                             pause=pause) if header is not None else None
                if counted is not None:  # the counts file of the last fold, and the journal's changes since
                    everyone.update(counted)
                    self._unlisted = set()
                    for old, new in since[1]:
                        self._unlisted.add((old or new)["id"])
                        if old is not None and old["kind"] == entity:
                            everyone.subtract(fold_counts(Counter([(old["text"], old["label"])])))
                        if new is not None and new["kind"] == entity:
                            self._mine[new["id"]] = (new["text"], new["label"])
                    everyone.update(fold_counts(Counter(self._mine.values())))
                    continue
                rows = [row for row in notes.records() if row["kind"] == entity]
                self._mine = {row["id"]: (row["text"], row["label"]) for row in rows}
                everyone.update(fold_counts(Counter((row["text"], row["label"]) for row in rows)))
            else:  # a teammate's tags as of their last fold, folded when written, without their records
                everyone.update(workspace.entity_counts(name))
        counted_items = [(key, n) for key, n in everyone.items() if n > 0]
        for at in range(0, len(counted_items), ADD_CHUNK):  # (in steps, so that `pause` is reached often)
            pause()
            self.tagged.add_counts(dict(counted_items[at:at + ADD_CHUNK]))


    def take_problems(self) -> list[str]:
        """What went wrong since the last call (each problem is given once)."""
        out, self.problems = self.problems, []
        return out

    def follow(self, changes: list[Any]) -> None:
        """Follow this annotator's saved changes (store.annotation.history.Change: the record before and after) as they
        happen, so a tag, an adjustment, a removal, an undo or a redo changes the suggestions at once.
        Kept by annotation id, so a change the index already counted when it was built is not counted twice."""
        for change in changes:
            if change.before is not None and change.before["kind"] == Kind.ENTITY:
                old = self._mine.pop(change.before["id"], None)
                if old is None and self._unlisted is not None and change.before["id"] not in self._unlisted:
                    old = (change.before["text"], change.before["label"])  # as the counts file counted it
                if old is not None:
                    self.tagged.add(*old, -1)
            if self._unlisted is not None:
                self._unlisted.update(c["id"] for c in (change.before, change.after) if c is not None)
            if change.after is not None and change.after["kind"] == Kind.ENTITY:
                new = (change.after["text"], change.after["label"])
                old = self._mine.get(change.after["id"])
                if old != new:
                    if old is not None:
                        self.tagged.add(*old, -1)
                    self._mine[change.after["id"]] = new
                    self.tagged.add(*new)

    def for_article(self, article_id: str, taken: Iterable[tuple[int, int]] = ()) -> list[Suggestion]:
        """Suggestions in text order, leaving out rejected ones and any overlapping `taken` spans."""
        body = self.workspace.article(article_id).body
        candidates: list[Suggestion] = []
        for start, end, label in self.phrases.find(body):
            candidates.append(Suggestion(start, end, label, "pattern"))
        for pattern in list(self.tokens):
            try:
                found = pattern.find(body)
            except TimeoutError:
                self.tokens.remove(pattern)  # skipped from now on, and said once
                self.problems.append(f"{pattern.where}: field 'pattern': a REGEX took over {REGEX_SECONDS:g} s "
                                     "on one article (a pattern that backtracks without end?); the pattern is skipped")
                continue
            candidates += [Suggestion(s, e, label, "pattern") for s, e, label in found]
        for name in self.predictions:
            for row in self.workspace.annotations(name, check=False).for_article(article_id):
                if row["kind"] == Kind.ENTITY:
                    candidates.append(Suggestion(row["start"], row["end"], row["label"],
                                                 f"prediction:{name[len(PREDICTIONS_PREFIX):]}"))
        candidates += [Suggestion(s, e, label, "tagged") for s, e, label in self.tagged.find(body)]
        occupied = sorted(taken)
        chosen: list[Suggestion] = []
        for s in candidates:  # earlier sources win: patterns, predictions, then tagged strings
            if (article_id, *s.key) in self.rejections:
                continue
            if any(a < s.end and s.start < b for a, b in occupied):
                continue
            chosen.append(s)
            occupied.append((s.start, s.end))
        return sorted(chosen, key=lambda s: s.start)
