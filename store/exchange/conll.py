"""CoNLL-style BIO for entities: one token a line (`token<TAB>start<TAB>end<TAB>TAG`), a blank line
between sentences, `# key = value` lines (no tab) before each document. Claims are not in this format.

Tokens are cut at entity edges as well as at spaces and punctuation, so a span on an Arabic word with a
clitic (و+القاهرة) keeps its exact offsets. Sentences are store.text.sentences' (. ؟ ? ! ؛ and line ends),
never cut inside an entity. start/end are code points into the article body.

A token line never starts with `#`: CoNLL readers skip such a line as a comment (as our `# key = value`
headers are). A token that starts with `#` (a hashtag's `#` is a token of its own) is written with a
backslash before it, `\\#`; start/end stay the token's offsets in the body, so `end - start` is one less than
the written length. No token starts with `\\#` otherwise (`\\` is always a token of its own), so a reader gets
the token back by dropping that backslash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TextIO

from store.errors import StoreError
from store.exchange.format import Format
from store.exchange.offsets import CODEPOINT
from store.exchange.records import Context, Item
from store.text.sentences import sentences

_HEADER_BREAKER = re.compile("[\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
"""C0, DEL and C1 controls: never written raw (a terminal reading `export --format conll` on stdout would
obey them). Tokens are cut at white space, so a token's control is one of ESC, BEL, BS, DEL, C1..."""
_PICTURES = {c: 0x2400 + c for c in range(0x20)} | {0x7F: 0x2421} | {c: 0xFFFD for c in range(0x80, 0xA0)}


def control_pictures(text: str) -> str:
    """`text` with each C0 control as its Unicode Control Picture (ESC is ␛), DEL as ␡, a C1 control as
    U+FFFD: one code point for one, so end - start still gives the token's length."""
    return text.translate(_PICTURES)
_MARKS = "\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u200c\u200d"
TOKEN = re.compile(rf"(?:\w|[{_MARKS}])+|\S")
_NON_SPACE = re.compile(r"\S")


def tokens(text: str, cuts: Iterable[int] = ()) -> Iterator[tuple[int, int]]:
    """(start, end) of each token, further split at every offset in `cuts`."""
    edges = sorted(set(cuts))
    n, i = len(edges), 0
    for m in TOKEN.finditer(text):
        start, end = m.span()
        while i < n and edges[i] <= start:
            i += 1
        while i < n and edges[i] < end:
            yield start, edges[i]
            start = edges[i]
            i += 1
        yield start, end


def escape(token: str) -> str:
    """`token` as written on its line: `\\#` for a token starting with `#`, which a CoNLL reader would take for
    a comment line; any other token as it is."""
    return "\\" + token if token.startswith("#") else token


def shown(token: str) -> str:
    """`token` as a token line shows it: control characters as symbols (control_pictures), then escaped."""
    return escape(control_pictures(token))


def body_has_token(body: str, start: int, end: int) -> bool:
    """Whether body[start:end] holds a token (a non-space character); an all-white-space entity has none."""
    return _NON_SPACE.search(body, start, end) is not None


def bio(item: Item) -> Iterator[list[tuple[int, int, str]]]:
    """Sentences (store.text.sentences, as the reader splits them) of (start, end, tag); a sentence break that
    would fall inside an entity is dropped. Overlapping entities: the first one (in text order) wins."""
    body = item.article.body
    ents = item.entities
    bounds = [s for s, _ in sentences(body)][1:]
    n_bounds, n_ents = len(bounds), len(ents)
    b_i = e_i = last_end = 0
    inside = None
    sentence: list[tuple[int, int, str]] = []
    for start, end in tokens(body, [o for e in ents for o in (e["start"], e["end"])]):
        crossed = False
        while b_i < n_bounds and bounds[b_i] <= start:
            b_i += 1
            crossed = True
        if inside is not None and inside["end"] <= start:
            inside = None
        if crossed and sentence and inside is None:
            yield sentence
            sentence = []
        # Skip entities that ended, or whose first token went by (overlapped). Not "start < token start":
        # an entity that begins with a space has its first token after its start, and lost its B-/I- tags.
        while e_i < n_ents and (ents[e_i]["end"] <= start or ents[e_i]["start"] < last_end):
            e_i += 1
        last_end = end
        tag = "O"
        if inside is not None:
            tag = "I-" + inside["label"]
        elif e_i < n_ents and ents[e_i]["start"] <= start:
            inside = ents[e_i]
            tag = "B-" + inside["label"]
        sentence.append((start, end, tag))
    if sentence:
        yield sentence


def write(items: Iterable[Item], out: TextIO, ctx: Context) -> None:
    write_ = out.write
    for item in items:
        a, c = item.article, item.credibility
        if _HEADER_BREAKER.search(a.id) or CONTROL.search(a.id):
            # A tab or line break would turn the "# id = ..." line into a token line or two lines; any other
            # control would reach the terminal of whoever reads the file. The id must stay exact: refuse.
            raise StoreError(f"--format conll: article id {a.id!r} has a tab, line break or control character, "
                             "which a '# id = ...' line cannot hold; export it with --format jsonl")
        for e in item.entities:
            if not body_has_token(a.body, e["start"], e["end"]):
                ctx.notes.append(f"{a.id!r} ({item.annotator}): {e['label']} entity {e['start']}-{e['end']} "
                                 f"{e['text']!r} is only white space; CoNLL has no token for it, left out")
        write_(f"# id = {a.id}\n# annotator = {item.annotator}\n# state = {item.state}\n"
               f"# direction = {ctx.saw(item)}\n# paragraph_direction = {item.paragraph_direction}\n"
               f"# offset_unit = {CODEPOINT}\n")
        if c is not None and c["attributes"].get("score") is not None:
            write_(f"# credibility = {c['attributes']['score']}\n")
        body = a.body
        controls = CONTROL.search(body) is not None
        escaped = controls or "#" in body
        for sentence in bio(item):
            if escaped:
                write_("".join(f"{shown(body[s:e])}\t{s}\t{e}\t{t}\n" for s, e, t in sentence))
            else:
                write_("".join(f"{body[s:e]}\t{s}\t{e}\t{t}\n" for s, e, t in sentence))
            write_("\n")
        if controls:
            ctx.notes.append(f"{a.id!r} ({item.annotator}): the text holds control characters; CoNLL tokens "
                             "show them as symbols (ESC as \u241b, C1 as U+FFFD); start/end are exact")


FORMAT = Format("conll", write, CODEPOINT, help="token-per-line BIO entities, one file")
