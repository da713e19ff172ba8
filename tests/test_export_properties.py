"""Property tests for the exporters: for any Unicode article text (C0/C1 controls, bidi overrides and
isolates, emoji outside the BMP, harakat, CR/LF/U+2028 and the other line breaks, huge paragraphs,
one-character lines) and any valid set of entity and claim spans on it, every export format writes
output that is correct in its own terms (or refuses with a one-line message), and the importable
formats give the same spans back.

The expected values are computed here, independently of store.exchange (UTF-16 offsets from
`str.encode("utf-16-le")`, line breaks from `str.splitlines`, tokens from `str.isspace`).
Set EXPORT_PROPERTY_EXAMPLES to run more examples (default keeps the module to a few seconds).
"""

from __future__ import annotations

import bisect
import functools
import io
import itertools
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from store import StoreError, Workspace
from store.exchange import Context, export, import_labelled
from store.exchange.conll import CONTROL, control_pictures
from store.exchange.offsets import direction
from store.exchange.ours import schema as tahqiq_schema
from store.exchange.records import Filter

EXAMPLES = int(os.environ.get("EXPORT_PROPERTY_EXAMPLES", "40"))
PROFILE = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                                HealthCheck.data_too_large])
NAME = "prop"
LABELS = ["PER", "ORG", "LOC", "MISC"]
VERDICTS = ["unverified", "true", "false", "misleading", "unverifiable"]
TYPES = ["statistic", "quote", "causal", "prediction", "other"]
WORTHINESS = ["check-worthy", "not check-worthy"]

# --- hostile text ----------------------------------------------------------------------------------

CONTROLS = [chr(c) for c in range(1, 0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
BIDI = [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)] + [
    "\u200e", "\u200f", "\u061c"]
# Every character str.splitlines() breaks a line at (\r\n is two of them).
LINE_BREAKS = frozenset(c for c in map(chr, range(0x3000)) if len(f"a{c}b".splitlines()) == 2)
BREAKS = ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"]
ASTRAL = ["😀", "👍🏽", "👨\u200d👩\u200d👧", "🇪🇬", "𝐀", "\U0010fffd", "𓂀"]
ARABIC = ["مُحَمَّدٌ", "القاهرة", "وَالقاهرة", "قالَ", "ﻻ", "\u0651", "\u064e", "\u0670", "ـ", "٣٫٥", "؟", "،",
          "؛", "إنّ", "«", "»"]
OTHER = ["Paris", "x", "ab", " ", "  ", "\t", ".", "!", "?", "#", "\ufeff", "\u200b", "\u200c", "\u200d",
         "\xa0", "\u3000", "\\", '"', "<", "&", ";", "T1"]
ANY_CHAR = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
piece = st.one_of(
    st.text(ANY_CHAR, max_size=12),
    st.sampled_from(CONTROLS + BIDI + BREAKS + ASTRAL + ARABIC + OTHER),
    st.sampled_from(BREAKS).map(lambda b: f"{b}x{b}"),  # a one-character line
)
paragraph = st.lists(piece, min_size=1, max_size=16).map("".join)
huge = st.builds(lambda p, n: (p if p.strip() else "كلمة ") * n, paragraph, st.integers(300, 1500))
free_text = st.lists(piece, min_size=1, max_size=4).map("".join).filter(lambda s: s.strip())


@dataclass
class Doc:
    """An article body and the spans to put on it (entities that cross or repeat one are refused by the
    store and left out; the store's rules are what "valid" means)."""

    body: str
    entities: list[tuple[int, int, str]] = field(default_factory=list)
    claims: list[tuple[int, int, dict[str, str]]] = field(default_factory=list)
    credibility: tuple[int, str | None] | None = None


@st.composite
def docs(draw: Any) -> Doc:
    parts = draw(st.lists(st.one_of(paragraph, paragraph, paragraph, huge), min_size=1, max_size=4))
    body = "".join(parts)
    if not body.strip():
        body = "ا" + body  # the importer refuses blank texts (tested in test_hostile)
    n = len(body)
    # Offsets next to the characters most likely to trip a writer, plus both ends.
    marks = sorted({0, n - 1, *(i for i, c in enumerate(body[:5000]) if not (c.isalnum() or c == " "))})

    def span() -> tuple[int, int]:
        start = draw(st.one_of(st.integers(0, n - 1), st.sampled_from(marks)))
        end = draw(st.one_of(st.integers(start + 1, min(n, start + 30)), st.integers(start + 1, n),
                             st.sampled_from([m + 1 for m in marks[bisect.bisect_left(marks, start):]] or [n])))
        while start < end and body[start].isspace():  # the store refuses edge white space (tested apart)
            start += 1
        while end > start and body[end - 1].isspace():
            end -= 1
        return start, end

    entities = [(*span(), draw(st.sampled_from(LABELS))) for _ in range(draw(st.integers(0, 8)))]
    claims = []
    for _ in range(draw(st.integers(0, 3))):
        attrs = {"verdict": draw(st.sampled_from(VERDICTS))}
        for key, values in (("type", st.sampled_from(TYPES)), ("check_worthiness", st.sampled_from(WORTHINESS)),
                            ("claimant", free_text), ("note", free_text)):
            if draw(st.booleans()):
                attrs[key] = draw(values)
        claims.append((*span(), attrs))
    cred = draw(st.none() | st.tuples(st.integers(1, 5), st.none() | free_text))
    return Doc(body, entities, claims, cred)


def _at(body: str, needle: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = body.index(needle, start + 1)
    return start, start + len(needle)


# Fixed cases that always run: spans across CR LF and U+2028, an entity that starts with a space, an
# entity that is only a line break / only spaces, controls and bidi overrides inside spans, emoji
# before spans, a note with line breaks, a sentence that starts with a hashtag (no CoNLL token line may start
# with #).
_B1 = "قالَ \u202eمُحَمَّدٌ\u202c 😀 إنّ\r\nالأسعار\u2028ارتفعت في القاهرة\x85x\ny\x1b[31m؟ #Paris\tok\u2066ابc\u2069."
CROSSING = Doc(_B1, [(_at(_B1, " \u202eمُحَمَّدٌ")[0], _at(_B1, "\u202c")[1], "PER"),
                     (_at(_B1, "\r\n")[0], _at(_B1, "\r\n")[1], "MISC"),
                     (_at(_B1, "\n", 1)[0], _at(_B1, "\n", 1)[1], "MISC"),
                     (_at(_B1, "القاهرة")[0], _at(_B1, "x")[1], "LOC"),
                     (_at(_B1, "y\x1b")[0], _at(_B1, "[31m")[1], "ORG"),
                     (_at(_B1, "Paris")[0], _at(_B1, "ok")[1], "MISC"),
                     (_at(_B1, "😀 ")[1] - 1, _at(_B1, "😀 ")[1], "MISC")],
               [(_at(_B1, "إنّ")[0], _at(_B1, "ارتفعت")[1],
                 {"verdict": "true", "claimant": "مُحَمَّدٌ\r\nx\u2028y", "note": "a\tb\x85c"}),
                (0, len(_B1), {"verdict": "false"})],
               (3, "no\nsources\u2029"))
_B2 = "\u2029\u2029x\r\r" + "كلمة " * 4000 + "\n😀"
HUGE = Doc(_B2, [(1, 3, "PER"), (3, 5, "LOC"), (5, 6000, "ORG"), (len(_B2) - 2, len(_B2), "MISC")],
           [(0, len(_B2), {"verdict": "unverified"})])


# --- a workspace with one article per example --------------------------------------------------------

@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    w = Workspace.open(tmp_path_factory.mktemp("export-props") / "ws")
    yield w
    w.close()


@pytest.fixture(scope="module", autouse=True)
def one_blank_spacy() -> None:
    """The spaCy export's tokenizer (`spacy.blank("ar")`, ~60 ms to build) built once for the module rather than
    once per example: the same tokenizer, so the same .spacy file, every example still writing one."""
    try:
        import spacy
    except ImportError:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spacy, "blank", functools.lru_cache(spacy.blank))
        yield


_ids = itertools.count(1)


@dataclass
class Built:
    """An article as stored, and the spans the store accepted on it."""

    id: str
    body: str
    spans: list[dict[str, Any]]
    credibility: dict[str, Any] | None
    folder: Path


def build(ws: Workspace, doc: Doc, tmp: pytest.TempPathFactory) -> Built:
    folder = tmp.mktemp("ex")
    aid = f"p{next(_ids)}"
    src = folder / "article.jsonl"
    # No title: the one derived from the (hostile) first line is exported too.
    src.write_text(json.dumps({"id": aid, "text": doc.body, "date": "2024-05-01"}) + "\n", encoding="utf-8")
    report = ws.import_paths([src])
    assert report.imported == [aid], report.summary()
    assert ws.article(aid).body == doc.body
    notes = ws.annotations(NAME)
    for s, e, label in doc.entities:
        try:
            notes.add_entity(aid, s, e, label)
        except StoreError as exc:  # crosses or repeats an entity already there
            assert "\n" not in str(exc) and "\r" not in str(exc)
    seen = set()
    for s, e, attrs in doc.claims:
        if (s, e) not in seen:  # two claims on the very same offsets import as one (by design)
            seen.add((s, e))
            try:
                notes.add_claim(aid, s, e, **attrs)
            except StoreError as exc:  # an empty span, or one holding no letter or digit
                assert "\n" not in str(exc) and "\r" not in str(exc)
    if doc.credibility is not None:
        notes.set_credibility(aid, doc.credibility[0], note=doc.credibility[1])
    rows = notes.for_article(aid)
    spans = [r for r in rows if r["kind"] != "credibility"]
    for r in spans:
        assert r["text"] == doc.body[r["start"]:r["end"]]
    cred = next((r for r in rows if r["kind"] == "credibility"), None)
    return Built(aid, doc.body, spans, cred, folder)


SUFFIX = {"jsonl": "out.jsonl", "json": "out.json", "label-studio": "tasks.json", "doccano": "out.jsonl",
          "spacy": "out.jsonl", "conll": "out.conll", "brat": "brat"}


def one_line(message: str) -> None:
    assert message and len(message.splitlines()) == 1, repr(message)


def run_export(ws: Workspace, fmt: str, b: Built) -> tuple[Path, Context]:
    """Export one article to a file (or folder); every note for the user must be one line. A refusal
    must be a one-line StoreError, and no format may refuse these (valid) annotations."""
    path = b.folder / SUFFIX[fmt]
    try:
        ctx = export(ws, fmt, path=path, annotators=[NAME], articles=Filter(ids=[b.id]))
    except StoreError as exc:
        one_line(str(exc))
        pytest.fail(f"{fmt} refused a valid article: {exc}")
    for note in ctx.notes:
        one_line(note)
    assert not list(b.folder.glob(".*.partial"))
    return path, ctx


def read(path: Path) -> str:
    """The file exactly as written: strict UTF-8, no newline translation."""
    return path.read_bytes().decode("utf-8")


def jsonl(text: str) -> list[dict[str, Any]]:
    """Records of a JSON Lines file: one JSON object per \\n-terminated line, no raw CR anywhere."""
    assert text.endswith("\n") and "\r" not in text
    return [json.loads(line) for line in text[:-1].split("\n")]


def utf16_slice(body: str, start: int, end: int) -> str:
    """What JavaScript's body.slice(start, end) gives."""
    return body.encode("utf-16-le")[2 * start:2 * end].decode("utf-16-le")


def expected(b: Built, kinds: tuple[str, ...] = ("entity", "claim")) -> Counter:
    return Counter((r["start"], r["end"], r["label"], r["text"]) for r in b.spans if r["kind"] in kinds)


def round_trip(path: Path, b: Built, with_attributes: bool) -> None:
    """Import the export into an empty workspace: same article text, same spans (and, for formats that
    carry them, the same claim attributes and credibility)."""
    fresh = Workspace.open(b.folder / "fresh")
    try:
        report = import_labelled(fresh, path, "rt")
        assert report.skipped == [], [str(s) for s in report.skipped]
        assert report.articles_added == [b.id]
        assert fresh.article(b.id).body == b.body
        rows = fresh.annotations("rt").for_article(b.id)
        got = Counter((r["start"], r["end"], r["label"], r["text"]) for r in rows if r["kind"] != "credibility")
        assert got == expected(b)
        if with_attributes:
            def attrs(rs):
                return sorted((r["start"], r["end"], json.dumps(r["attributes"], sort_keys=True))
                              for r in rs if r["kind"] == "claim")
            assert attrs(rows) == attrs(b.spans)
            cred = next((r["attributes"] for r in rows if r["kind"] == "credibility"), None)
            assert cred == (b.credibility and b.credibility["attributes"])
    finally:
        fresh.close()


# --- json / jsonl ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["jsonl", "json"])
@PROFILE
@given(doc=docs())
@example(doc=CROSSING)
@example(doc=HUGE)
def test_tahqiq_records_are_valid_exact_and_round_trip(ws, tmp_path_factory, fmt: str, doc: Doc) -> None:
    b = build(ws, doc, tmp_path_factory)
    path, _ = run_export(ws, fmt, b)
    text = read(path)
    records = jsonl(text) if fmt == "jsonl" else json.loads(text)
    jsonschema.Draft202012Validator(tahqiq_schema()).validate(records)
    assert isinstance(records, list) and len(records) == 1
    r = records[0]
    assert (r["id"], r["text"], r["annotator"], r["offset_unit"]) == (b.id, b.body, NAME, "codepoint")
    assert r["direction"] == direction(b.body, ws.schema.paragraph_direction)
    got = Counter()
    for s in r["entities"] + r["claims"]:
        assert s["text"] == b.body[s["start"]:s["end"]]
        got[(s["start"], s["end"], s.get("label", "CLAIM"), s["text"])] += 1
    assert got == expected(b)
    round_trip(path, b, with_attributes=True)


# --- Label Studio ----------------------------------------------------------------------------------------

@PROFILE
@given(doc=docs())
@example(doc=CROSSING)
@example(doc=HUGE)
def test_label_studio_offsets_are_code_points(ws, tmp_path_factory, doc: Doc) -> None:
    """Label Studio 1.4+ stores code points (its SDK's converter slices Python strings with them)."""
    b = build(ws, doc, tmp_path_factory)
    path, _ = run_export(ws, "label-studio", b)
    tasks = json.loads(read(path))
    assert len(tasks) == 1
    data = tasks[0]["data"]
    assert (data["text"], data["article_id"], data["offset_unit"]) == (b.body, b.id, "codepoint")
    assert isinstance(tasks[0]["id"], int)
    assert data["annotators"] == [NAME] and len(tasks[0]["annotations"]) == 1
    got = Counter()
    got_texts = {r["text"] for r in b.spans}
    for result in tasks[0]["annotations"][0]["result"]:
        v = result["value"]
        if "start" in v:  # a region, or a per-region choice/textarea (whose "text" is the list of answers)
            span_text = b.body[v["start"]:v["end"]]
            assert span_text == v["text"] if isinstance(v["text"], str) else span_text in got_texts
        if result["type"] == "labels":
            got[(v["start"], v["end"], v["labels"][0], v["text"])] += 1
    assert got == expected(b)
    assert path.with_name("tasks.label_config.xml").is_file()
    round_trip(path, b, with_attributes=True)


# --- doccano and spaCy JSONL ------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["doccano", "spacy"])
@PROFILE
@given(doc=docs())
@example(doc=CROSSING)
def test_doccano_and_spacy_spans_slice_the_text(ws, tmp_path_factory, fmt: str, doc: Doc) -> None:
    b = build(ws, doc, tmp_path_factory)
    path, _ = run_export(ws, fmt, b)
    records = jsonl(read(path))
    assert len(records) == 1
    r = records[0]
    assert r["text"] == b.body
    if fmt == "doccano":  # UTF-16 code units, as doccano's span editor counts
        assert (r["article_id"], r["offset_unit"]) == (b.id, "utf-16-code-unit")
        cp, unit = {}, 0  # UTF-16 offset -> code point offset, at every character boundary
        for i, ch in enumerate(b.body + "\0"):
            cp[unit] = i
            unit += 2 if ord(ch) > 0xFFFF else 1
        got = Counter((cp[s], cp[e], label, utf16_slice(b.body, s, e)) for s, e, label in r["label"])
    else:
        assert (r["meta"]["article_id"], r["meta"]["offset_unit"]) == (b.id, "codepoint")
        for s in r["spans"]:
            assert r["text"][s["start"]:s["end"]] == s["text"]
        got = Counter((s["start"], s["end"], s["label"], s["text"]) for s in r["spans"])
    assert got == expected(b)
    round_trip(path, b, with_attributes=False)


# --- CoNLL ---------------------------------------------------------------------------------------------------

def conll_documents(text: str) -> list[tuple[dict[str, str], list[list[tuple[str, int, int, str]]]]]:
    """(header, sentences of (token, start, end, tag)) per document. A header line is `# key = value`
    without a tab; every other non-blank line is exactly four tab-separated fields, and never starts with `#`
    (a CoNLL reader would skip it as a comment): a token starting with `#` is written `\\#`, given back here
    as the token."""
    assert text.endswith("\n")
    lines = text[:-1].split("\n")
    assert text.splitlines() == lines, "a line break other than \\n inside a line"
    docs_: list = []
    for line in lines:
        if line.startswith("# "):
            assert "\t" not in line
            key, _, value = line[2:].partition(" = ")
            if key == "id":
                docs_.append(({}, [[]]))
            docs_[-1][0][key] = value
        elif line == "":
            assert docs_[-1][1][-1], "an empty sentence"
            docs_[-1][1].append([])
        else:
            assert not line.startswith("#"), line
            token, start, end, tag = line.split("\t")
            token = token[1:] if token.startswith("\\#") else token
            docs_[-1][1][-1].append((token, int(start), int(end), tag))
    for _, sentences in docs_:
        assert sentences[-1] == [], "each sentence ends with a blank line"
        sentences.pop()
    return docs_


@PROFILE
@given(doc=docs())
@example(doc=CROSSING)
@example(doc=HUGE)
def test_conll_tokens_and_bio_tags(ws, tmp_path_factory, doc: Doc) -> None:
    b = build(ws, doc, tmp_path_factory)
    path, ctx = run_export(ws, "conll", b)
    [(header, sentences)] = conll_documents(read(path))
    assert header["id"] == b.id and header["offset_unit"] == "codepoint"
    assert header["direction"] == direction(b.body, ws.schema.paragraph_direction)
    tokens = [t for sentence in sentences for t in sentence]
    # Tokens are the body's non-space characters, in order, each line one token at its own offsets (a control
    # character shown as its symbol, one for one: never raw on a terminal).
    shown = control_pictures(b.body)
    assert "".join(t for t, *_ in tokens) == "".join(s for c, s in zip(b.body, shown) if not c.isspace())
    last = 0
    for token, s, e, _ in tokens:
        assert last <= s < e and shown[s:e] == token and not any(c.isspace() for c in b.body[s:e])
        assert not CONTROL.search(token)
        last = e
    # Each entity: its tokens are B-, I-, I-... (never split at an entity edge, never across a sentence
    # break); tokens outside every entity are O. An entity with no token (only spaces) must be named in
    # a note, not dropped silently.
    entities = [r for r in b.spans if r["kind"] == "entity"]
    where = {}
    for k, sentence in enumerate(sentences):
        for _i, (_, s, e, tag) in enumerate(sentence):
            where[(s, e)] = (k, tag)
    covered = set()
    for ent in entities:
        inside = [(s, e) for _, s, e, _ in tokens if ent["start"] <= s and e <= ent["end"]]
        for _, s, e, _ in tokens:
            assert not (s < ent["start"] < e or s < ent["end"] < e), f"token {s}-{e} cut by entity {ent}"
        if not inside:
            assert any(f"{ent['start']}-{ent['end']}" in note for note in ctx.notes), (ent, ctx.notes)
            continue
        tags = [where[t][1] for t in inside]
        assert tags == ["B-" + ent["label"]] + ["I-" + ent["label"]] * (len(inside) - 1), (ent, tags)
        assert len({where[t][0] for t in inside}) == 1, f"sentence break inside {ent}"
        covered.update(inside)
    for _, s, e, tag in tokens:
        if (s, e) not in covered:
            assert tag == "O", (s, e, tag)


# --- brat --------------------------------------------------------------------------------------------------

def brat_fragments(body: str, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) cut at every line break (brat's .ann is line-based: a span's text must hold none)."""
    out, s = [], start
    for i in range(start, end + 1):
        if i == end or body[i] in LINE_BREAKS:
            if i > s:
                out.append((s, i))
            s = i + 1
    return out


@PROFILE
@given(doc=docs())
@example(doc=CROSSING)
@example(doc=HUGE)
def test_brat_txt_is_the_body_and_ann_lines_index_it(ws, tmp_path_factory, doc: Doc) -> None:
    b = build(ws, doc, tmp_path_factory)
    folder, ctx = run_export(ws, "brat", b)
    manifest = json.loads(read(folder / "tahqiq-export.json"))
    assert manifest["offset_unit"] == "codepoint"
    [entry] = manifest["documents"]
    assert entry["id"] == b.id and entry["direction"] == direction(b.body, ws.schema.paragraph_direction)
    assert read(folder / entry["txt"]) == b.body
    ann = read(folder / entry["ann"])
    lines = ann[:-1].split("\n") if ann else []
    assert ann == "".join(line + "\n" for line in lines)
    assert ann.splitlines() == lines, "a line break other than \\n inside an annotation line"
    got, t_ids, claims_t = Counter(), set(), set()
    for line in lines:
        ident, rest = line.split("\t", 1)
        if ident.startswith("T"):
            mid, text = rest.split("\t", 1)
            label, offsets = mid.split(" ", 1)
            frags = [tuple(map(int, f.split(" "))) for f in offsets.split(";")]
            last = 0
            for s, e in frags:
                assert last <= s < e <= len(b.body)
                last = e
            assert text == control_pictures(" ".join(b.body[s:e] for s, e in frags))  # no raw control
            got[(label, tuple(frags), text)] += 1
            t_ids.add(ident)
            if label == "CLAIM":
                claims_t.add(ident)
        elif ident.startswith("A"):
            name, target, value = rest.split(" ")
            assert target in claims_t and value and name in ("verdict", "type", "check_worthiness")
        else:
            assert ident.startswith("#") and rest.startswith("AnnotatorNotes T")
            target = rest.split("\t")[0].split(" ")[1]
            assert target in claims_t
    want, unrepresentable = Counter(), []
    for r in b.spans:
        frags = brat_fragments(b.body, r["start"], r["end"])
        if frags:
            want[(r["label"], tuple(frags), control_pictures(" ".join(b.body[s:e] for s, e in frags)))] += 1
        else:
            unrepresentable.append(r)
    assert got == want
    for r in unrepresentable:  # a span of line breaks only: left out, and the user is told
        assert any(f"{r['start']}-{r['end']}" in note for note in ctx.notes), (r, ctx.notes)


# --- article ids ------------------------------------------------------------------------------------------

hostile_id = st.lists(st.one_of(st.text(ANY_CHAR, min_size=1, max_size=6),
                                st.sampled_from(["/", "..", ".", "a/b", "a_b", "خبر", "نبأ", "\t", "\n",
                                                 "\u2028", "\r", "\x1b", "😀", "CON", "x" * 300])),
                      min_size=1, max_size=4).map("".join).map(str.strip).filter(bool)


@settings(max_examples=max(10, EXAMPLES // 2), deadline=None)
@given(ids=st.lists(hostile_id, min_size=1, max_size=4, unique=True))
@example(ids=["خبر1", "نبأ1", "a/b", "a_b"])
@example(ids=["x\ny", "x\ty", "x\u2028y"])
@example(ids=["x" * 300, "x" * 301])  # file names over NAME_MAX, and the same once cut short
def test_any_article_ids_keep_conll_and_brat_well_formed(tmp_path_factory, ids: list[str]) -> None:
    """Every article keeps its own brat files, and every CoNLL header line stays one line, with no tab."""
    folder = tmp_path_factory.mktemp("ids")
    src = folder / "a.jsonl"
    bodies = {i: f"خبر رقم {n}: قال محمد." for n, i in enumerate(ids)}
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in bodies.items()), encoding="utf-8")
    ws = Workspace.open(folder / "ws")
    try:
        report = ws.import_paths([src])
        assert sorted(report.imported) == sorted(ids), report.summary()
        notes = ws.annotations(NAME)
        for i, body in bodies.items():
            notes.add_entity(i, *_at(body, "محمد"), "PER")
        brat = folder / "brat"
        ctx = export(ws, "brat", path=brat, annotators=[NAME])
        for note in ctx.notes:
            one_line(note)
        docs_ = json.loads(read(brat / "tahqiq-export.json"))["documents"]
        assert sorted(d["id"] for d in docs_) == sorted(ids)
        assert len({d["txt"] for d in docs_}) == len(ids), "two articles share one brat file"
        for d in docs_:
            assert read(brat / d["txt"]) == bodies[d["id"]]
            assert (brat / d["txt"]).parent == brat / NAME
        try:
            out = io.StringIO()
            export(ws, "conll", out=out, annotators=[NAME])
        except StoreError as exc:  # allowed: an explicit refusal, one line, naming the problem
            one_line(str(exc))
            assert any(c in LINE_BREAKS or c == "\t" or CONTROL.match(c) for i in ids for c in i), exc
            return
        found = [h["id"] for h, _ in conll_documents(out.getvalue())]
        assert found == [a.id for a in ws.articles() if a.id in bodies]
    finally:
        ws.close()
