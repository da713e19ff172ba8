"""Every export format: its spans equal the article text at their offsets (UTF-16 for doccano),
it says its offset unit and text direction, and it holds exactly the spans in the store."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from test_export_fixtures import EMOJI_ID, EMOJI_TEXT, expected_spans

from store import StoreError, Workspace
from store.exchange import FORMATS, export, parse_filter
from store.exchange.offsets import Utf16, direction
from store.exchange.ours import schema


def run(ws: Workspace, fmt: str, **kw) -> str:
    out = io.StringIO()
    export(ws, fmt, out=out, **kw)
    return out.getvalue()


def utf16_slice(text: str, start: int, end: int) -> str:
    """What JavaScript's text.slice(start, end) returns (independent of store.exchange.offsets)."""
    return text.encode("utf-16-le")[2 * start:2 * end].decode("utf-16-le")


# --- our own json / jsonl ------------------------------------------------------------------------

def test_jsonl_records_validate_against_the_shipped_schema(ws: Workspace) -> None:
    records = [json.loads(line) for line in run(ws, "jsonl").splitlines()]
    validator = jsonschema.Draft202012Validator(schema())
    jsonschema.Draft202012Validator.check_schema(schema())
    for record in records:
        validator.validate(record)
    validator.validate(json.loads(run(ws, "json")))  # the json format: an array of the same records
    assert json.loads(run(ws, "json")) == records
    assert {(r["id"], r["annotator"]) for r in records} == {
        (EMOJI_ID, "alice"), ("52f015e52f40b84e", "alice"), ("f6acadc5c55dd27f", "alice"),
        ("52f015e52f40b84e", "bob"), ("f6acadc5c55dd27f", "bob"), ("d9577bfa1a0662c0", "bob")}


def test_schema_rejects_a_broken_record(ws: Workspace) -> None:
    record = json.loads(run(ws, "jsonl").splitlines()[0])
    validator = jsonschema.Draft202012Validator(schema())
    for breaks in (lambda r: r.pop("offset_unit"), lambda r: r.update(direction="up"),
                   lambda r: r["entities"][0].pop("text"), lambda r: r.update(credibility={"score": 9,
                                                                                           "indicators": []})):
        broken = json.loads(json.dumps(record))
        breaks(broken)
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(broken)


def test_jsonl_record_content(ws: Workspace) -> None:
    records = {(r["id"], r["annotator"]): r for r in map(json.loads, run(ws, "jsonl").splitlines())}
    r = records[(EMOJI_ID, "alice")]
    assert (r["offset_unit"], r["direction"], r["state"], r["title"]) == ("codepoint", "rtl", "done", "اختبار")
    assert r["credibility"]["score"] == 2 and r["credibility"]["indicators"] == ["emotional language"]
    assert r["claims"][0]["attributes"] == {"verdict": "true", "type": "statistic",
                                            "check_worthiness": "check-worthy", "claimant": "مُحَمَّدٌ",
                                            "note": "needs a source"}
    assert r["created"] <= r["updated"]
    assert records[("d9577bfa1a0662c0", "bob")]["credibility"] is None


# --- spans equal the text, per format -------------------------------------------------------------

def spans_from(fmt: str, output: str, tmp: Path | None = None) -> set[tuple]:
    """(article, annotator, start, end, label, text) in code points, read from an export with checks that
    the text each format carries equals the body at its offsets, in that format's unit."""
    out = set()
    if fmt in ("jsonl", "json"):
        records = json.loads(output) if fmt == "json" else [json.loads(x) for x in output.splitlines()]
        for r in records:
            for s in r["entities"] + r["claims"]:
                assert r["text"][s["start"]:s["end"]] == s["text"]
                out.add((r["id"], r["annotator"], s["start"], s["end"], s.get("label", "CLAIM"), s["text"]))
    elif fmt == "label-studio":
        for task in json.loads(output):
            text, data = task["data"]["text"], task["data"]
            assert data["offset_unit"] == "codepoint" and data["direction"] in ("rtl", "ltr")
            for name, ann in zip(data["annotators"], task["annotations"], strict=True):
                for r in ann["result"]:
                    v = r["value"]
                    if r["type"] == "labels":
                        assert text[v["start"]:v["end"]] == v["text"]
                        out.add((data["article_id"], name, v["start"], v["end"], v["labels"][0], v["text"]))
    elif fmt == "doccano":
        for r in map(json.loads, output.splitlines()):
            assert r["offset_unit"] == "utf-16-code-unit" and r["direction"] in ("rtl", "ltr")
            for s, e, label in r["label"]:
                shown = utf16_slice(r["text"], s, e)
                start = len(utf16_slice(r["text"], 0, s))
                out.add((r["article_id"], r["annotator"], start, start + len(shown), label, shown))
    elif fmt == "spacy":
        for r in map(json.loads, output.splitlines()):
            assert r["meta"]["offset_unit"] == "codepoint"
            for s in r["spans"]:
                assert r["text"][s["start"]:s["end"]] == s["text"]
                out.add((r["meta"]["article_id"], r["meta"]["annotator"], s["start"], s["end"], s["label"],
                         s["text"]))
    elif fmt == "brat":
        manifest = json.loads((tmp / "tahqiq-export.json").read_text("utf-8"))
        assert manifest["offset_unit"] == "codepoint"
        for doc in manifest["documents"]:
            text = (tmp / doc["txt"]).read_text("utf-8")
            for line in (tmp / doc["ann"]).read_text("utf-8").splitlines():
                if not line.startswith("T"):
                    continue
                _, middle, shown = line.split("\t")
                label, where = middle.split(" ", 1)
                frags = [tuple(map(int, f.split())) for f in where.split(";")]
                assert " ".join(text[s:e] for s, e in frags) == shown
                s, e = frags[0][0], frags[-1][1]
                out.add((doc["id"], doc["annotator"], s, e, label, text[s:e]))
    return out


def store_spans(ws: Workspace, kinds=("entity", "claim")) -> set[tuple]:
    return {(a, name, s, e, label, text) for name in ws.annotators()
            for a, s, e, label, text in expected_spans(ws, name, kinds)}


@pytest.mark.parametrize("fmt", ["jsonl", "json", "label-studio", "doccano", "spacy"])
def test_every_span_equals_the_body_at_its_offsets(ws: Workspace, fmt: str) -> None:
    got = spans_from(fmt, run(ws, fmt))
    bodies = {a.id: a.body for a in ws.articles()}
    for article, _, s, e, _, text in got:
        assert bodies[article][s:e] == text
    assert got == store_spans(ws)


def test_brat_pairs(ws: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "brat"
    export(ws, "brat", path=out)
    assert spans_from("brat", "", out) == store_spans(ws)
    assert (out / "alice" / f"{EMOJI_ID}.txt").read_text("utf-8") == EMOJI_TEXT
    ann = (out / "alice" / f"{EMOJI_ID}.ann").read_text("utf-8")
    assert "verdict T" in ann and "check_worthiness T" in ann and "check-worthy" in ann
    assert "[entities]" in (out / "annotation.conf").read_text("utf-8")
    with pytest.raises(StoreError, match="-o DIR"):
        export(ws, "brat", out=io.StringIO())


def test_brat_span_across_a_line_break_is_discontinuous(ws: Workspace, tmp_path: Path) -> None:
    body = EMOJI_TEXT
    start, end = body.index("القاهرة؟"), body.index("Paris") + 5
    ws.annotations("carol").add_claim(EMOJI_ID, start, end)
    export(ws, "brat", path=tmp_path / "b", annotators=["carol"])
    line = (tmp_path / "b" / "carol" / f"{EMOJI_ID}.ann").read_text("utf-8").splitlines()[0]
    nl = body.index("\n")
    assert line.split("\t")[1] == f"CLAIM {start} {nl};{nl + 1} {end}"


def test_label_studio_counts_code_points_and_doccano_utf16_units(ws: Workspace) -> None:
    task = next(t for t in json.loads(run(ws, "label-studio")) if t["data"]["article_id"] == EMOJI_ID)
    result: dict[str, dict] = {}
    for r in sorted(task["annotations"][0]["result"], key=lambda r: -r["value"].get("start", 0)):
        if r["type"] == "labels":
            result[r["value"]["text"]] = r["value"]  # the first occurrence wins
    cp = EMOJI_TEXT.index("القاهرة")
    assert result["مُحَمَّدٌ"]["start"] == EMOJI_TEXT.index("مُحَمَّدٌ")  # Label Studio 1.4+: code points
    assert result["القاهرة"]["start"] == cp
    line = next(json.loads(x) for x in run(ws, "doccano", annotators=["alice"]).splitlines()
                if json.loads(x)["article_id"] == EMOJI_ID)
    assert [cp + 3, cp + 3 + 7, "LOC"] in line["label"]  # doccano: three emoji before it, one unit more each
    assert utf16_slice(EMOJI_TEXT, cp + 3, cp + 10) == "القاهرة" != utf16_slice(EMOJI_TEXT, cp, cp + 7)
    line = json.loads(run(ws, "doccano", annotators=["alice"], articles=EMOJI_ID,
                          offset_unit="codepoint").splitlines()[0])
    assert line["offset_unit"] == "codepoint" and [cp, cp + 7, "LOC"] in line["label"]
    with pytest.raises(StoreError, match="--offset-unit utf-16-code-unit: --format spacy writes codepoint"):
        run(ws, "spacy", offset_unit="utf-16-code-unit")


def test_label_studio_result_shapes_and_config(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "tasks.json"
    ctx = export(ws, "label-studio", path=path)
    tasks = json.loads(path.read_text("utf-8"))
    assert len(tasks) == 4  # one task per article, one annotation per annotator
    seed = next(t for t in tasks if t["data"]["article_id"] == "52f015e52f40b84e")
    assert seed["data"]["annotators"] == ["alice", "bob"] and len(seed["annotations"]) == 2
    results = seed["annotations"][0]["result"]
    labels = [r for r in results if r["type"] == "labels"]
    assert all(set(r) >= {"id", "from_name", "to_name", "type", "value"} and r["from_name"] == "label"
               and r["to_name"] == "text" and set(r["value"]) == {"start", "end", "text", "labels"}
               for r in labels)
    cred = next(r for r in results if r["from_name"] == "credibility")
    assert cred["type"] == "choices" and cred["value"] == {"choices": ["4"]}
    claim = next(r for r in labels if r["value"]["labels"] == ["CLAIM"])
    verdict = next(r for r in results if r["from_name"] == "claim_verdict")
    assert verdict["id"] == claim["id"] and verdict["value"]["choices"] == ["unverifiable"]

    config = tmp_path / "tasks.label_config.xml"
    assert config in ctx.written
    root = ET.fromstring(config.read_text("utf-8"))
    names = {el.get("name"): el for el in root.iter() if el.get("name")}
    assert names["text"].tag == "Text" and names["text"].get("value") == "$text"
    assert {lab.get("value") for lab in names["label"]} == {"PER", "ORG", "LOC", "MISC", "CLAIM"}
    assert names["label"].get("toName") == "text"
    assert [c.get("value") for c in names["credibility"]] == ["1", "2", "3", "4", "5"]
    for r in (r for t in tasks for a in t["annotations"] for r in a["result"]):
        assert r["from_name"] in names, r["from_name"]  # every result matches a control of the config
        if r["type"] == "choices":
            assert set(r["value"]["choices"]) <= {c.get("value") for c in names[r["from_name"]]}
    note = export(ws, "label-studio", out=io.StringIO()).notes
    assert any("config not written" in n for n in note)


def test_conll_bio_reads_back_to_the_entities(ws: Workspace) -> None:
    output = run(ws, "conll")
    bodies = {a.id: a.body for a in ws.articles()}
    got, doc, annotator, sentences = set(), None, None, 0
    current = None
    for line in output.split("\n"):
        if line.startswith("# id = ") and "\t" not in line:
            doc = line[7:]
        elif line.startswith("# annotator = ") and "\t" not in line:
            annotator = line[14:]
        elif line.startswith("#") and "\t" not in line:
            assert re.match(r"# (state|direction|paragraph_direction|offset_unit|credibility) = ", line)
        elif not line:
            sentences += 1
        else:
            assert not line.startswith("#"), line  # a reader would skip it as a comment
            token, s, e, tag = line.split("\t")
            s, e = int(s), int(e)
            token = token[1:] if token.startswith("\\#") else token  # the escape of a token starting with #
            assert bodies[doc][s:e] == token and token.strip() == token and token
            if tag.startswith("B-"):
                current = [doc, annotator, s, e, tag[2:]]
                got.add(tuple(current))
            elif tag.startswith("I-"):
                assert current is not None and current[4] == tag[2:]
                got.discard(tuple(current))
                current[3] = e
                got.add(tuple(current))
            else:
                current = None
    expected = {(a, n, s, e, label) for a, n, s, e, label, _ in store_spans(ws, ("entity",))}
    assert got == expected
    assert sentences > 10
    # The clitic: "والقاهرة" is cut into "و" + "القاهرة" so the LOC keeps its offsets.
    assert "و\t" in output and "القاهرة\t" in output
    emoji_doc = output.split(f"# id = {EMOJI_ID}")[1].split("# id =")[0]
    blocks = [b for b in emoji_doc.split("\n\n") if b.strip() and not b.startswith("#")]
    assert blocks[0].splitlines()[-1].startswith("؟\t")  # sentence break after the Arabic question mark


def test_conll_hash_tokens_are_escaped_and_never_read_as_comments(workspace: Workspace, tmp_path: Path) -> None:
    body = "# المغرب يفوز. #المغرب بطل #"
    src = tmp_path / "hash.jsonl"
    src.write_text(json.dumps({"id": "hash", "text": body}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert workspace.import_paths([src]).imported == ["hash"]
    first, second = body.index("المغرب"), body.index("المغرب", body.index("#", 1))
    workspace.annotations("alice").add_entity("hash", first, first + 6, "LOC")
    workspace.annotations("alice").add_entity("hash", second - 1, second + 6, "MISC")  # the hashtag, # included
    output = run(workspace, "conll")
    # A reader that skips lines starting with "#" (comments: our `# key = value` headers) loses no token.
    headers = [line for line in output.splitlines() if line.startswith("#")]
    assert all("\t" not in line and re.fullmatch(r"# \w+ = .*", line) for line in headers), headers
    rows = [line.split("\t") for line in output.splitlines() if line and not line.startswith("#")]
    assert [r[0] for r in rows] == ["\\#", "المغرب", "يفوز", ".", "\\#", "المغرب", "بطل", "\\#"]
    # start/end stay the true offsets into the body; dropping the escape's backslash gives the token back.
    for token, s, e, _ in rows:
        assert body[int(s):int(e)] == (token[1:] if token.startswith("\\#") else token)
    assert [(int(s), int(e), tag) for _, s, e, tag in rows if tag != "O"] == [
        (first, first + 6, "B-LOC"), (second - 1, second, "B-MISC"), (second, second + 6, "I-MISC")]


def test_text_direction_is_from_the_first_strong_character() -> None:
    assert direction("😀 123 قال") == "rtl"
    assert direction("2024: Paris والقاهرة") == "ltr"
    assert direction("\u2066Paris\u2069 القاهرة") == "rtl"  # an isolate is skipped
    assert direction("123") == "ltr"


def test_utf16_conversion_both_ways() -> None:
    text = "a😀b😀😀c"
    conv = Utf16(text)
    for cp in range(len(text) + 1):
        u16 = conv.to_utf16(cp)
        assert len(utf16_slice(text, 0, u16)) == cp and conv.to_codepoint(u16) == cp
    with pytest.raises(ValueError, match="surrogate"):
        conv.to_codepoint(2)


def test_articles_filter_and_annotator_selection(ws: Workspace) -> None:
    def pairs(**kw):
        return {(r["id"], r["annotator"]) for r in map(json.loads, run(ws, "jsonl", **kw).splitlines())}

    assert pairs(articles="state=done") == {(EMOJI_ID, "alice"), ("52f015e52f40b84e", "alice"),
                                            ("d9577bfa1a0662c0", "bob")}
    assert pairs(annotators=["bob"], articles="state=in-progress") == {
        ("52f015e52f40b84e", "bob"), ("f6acadc5c55dd27f", "bob")}
    assert pairs(articles=f"{EMOJI_ID},d9577bfa1a0662c0", annotators=["bob"]) == {
        (EMOJI_ID, "bob"), ("d9577bfa1a0662c0", "bob")}  # named by id: included even if not started
    assert pairs(articles="source=TEST,date>=2024-01-01") == {(EMOJI_ID, "alice")}
    assert pairs(articles="date=2014") == {("f6acadc5c55dd27f", "alice"), ("f6acadc5c55dd27f", "bob")}
    for bad, message in (("nope", "no article with id 'nope'"), ("colour=red", "cannot use 'colour=red'"),
                         ("state=finished", "state='finished'")):
        with pytest.raises(StoreError, match=message):
            run(ws, "jsonl", articles=bad)
    with pytest.raises(StoreError, match="no annotations by 'zed'"):
        run(ws, "jsonl", annotators=["zed"])
    assert parse_filter("a, b ,state=done|not-started").states == {"done", "not started"}


def test_every_format_is_registered_with_its_offset_unit() -> None:
    assert set(FORMATS) == {"json", "jsonl", "label-studio", "doccano", "spacy", "conll", "brat"}
    assert {n for n, f in FORMATS.items() if f.offset_unit != "codepoint"} == {"doccano"}
    assert FORMATS["doccano"].units == ("codepoint",)


def test_spacy_without_spacy_writes_jsonl_and_says_so(ws: Workspace, tmp_path: Path) -> None:
    from store.exchange.spacy_fmt import has_spacy

    ctx = export(ws, "spacy", path=tmp_path / "out.jsonl")
    assert (tmp_path / "out.jsonl").stat().st_size > 0
    if not has_spacy():
        assert any("spaCy is not installed" in n for n in ctx.notes)
    with pytest.raises(StoreError, match="give the JSONL path"):
        export(ws, "spacy", path=tmp_path / "out.spacy")


# --- paragraph direction rule (labels.toml paragraph_direction) ---------------------------------------

APPLE_ID = "apple-first"
APPLE_TEXT = "Apple تعلن عن هاتف جديد في القاهرة"


def stated_directions(fmt: str, output: str, tmp: Path | None) -> list[tuple[str, str]]:
    """(direction, paragraph_direction) as each document of an export states them."""
    if fmt in ("jsonl", "json"):
        records = json.loads(output) if fmt == "json" else [json.loads(x) for x in output.splitlines()]
        return [(r["direction"], r["paragraph_direction"]) for r in records]
    if fmt == "label-studio":
        return [(t["data"]["direction"], t["data"]["paragraph_direction"]) for t in json.loads(output)]
    if fmt == "doccano":
        return [(r["direction"], r["paragraph_direction"]) for r in map(json.loads, output.splitlines())]
    if fmt == "spacy":
        return [(r["meta"]["direction"], r["meta"]["paragraph_direction"])
                for r in map(json.loads, output.splitlines())]
    if fmt == "conll":
        return list(zip(re.findall(r"^# direction = (.*)$", output, re.M),
                        re.findall(r"^# paragraph_direction = (.*)$", output, re.M), strict=True))
    manifest = json.loads((tmp / "tahqiq-export.json").read_text("utf-8"))
    return [(d["direction"], d["paragraph_direction"]) for d in manifest["documents"]] + [
        ("-", manifest["paragraph_direction"])]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "label-studio", "doccano", "spacy", "conll", "brat"])
def test_exports_state_the_direction_of_the_workspace_rule(workspace: Workspace, tmp_path: Path, fmt: str) -> None:
    src = tmp_path / "apple.jsonl"
    src.write_text(json.dumps({"id": APPLE_ID, "text": APPLE_TEXT}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert workspace.import_paths([src]).imported == [APPLE_ID]
    notes = workspace.annotations("alice")
    notes.add_entity(APPLE_ID, 0, 5, "ORG")
    notes.add_entity(APPLE_ID, APPLE_TEXT.index("القاهرة"), len(APPLE_TEXT), "LOC")
    seen = {}
    for rule, expected in (("arabic", "rtl"), ("first-strong", "ltr"), ("ltr", "ltr"), ("rtl", "rtl")):
        workspace.labels_path.write_text(
            workspace.labels_path.read_text("utf-8").replace(
                re.search(r'paragraph_direction = "[a-z-]+"', workspace.labels_path.read_text("utf-8")).group(),
                f'paragraph_direction = "{rule}"'), encoding="utf-8")
        assert workspace.reload_schema().paragraph_direction == rule
        out_dir = tmp_path / f"{fmt}-{rule}"
        if fmt == "brat":
            export(workspace, fmt, path=out_dir, articles=APPLE_ID)
            output = ""
        else:
            output = run(workspace, fmt, articles=APPLE_ID)
        stated = stated_directions(fmt, output, out_dir)
        assert stated and all(d in (expected, "-") and r == rule for d, r in stated), (rule, stated)
        if fmt != "conll":
            seen[rule] = spans_from(fmt, output, out_dir)
    assert direction(APPLE_TEXT) == "ltr" and direction(APPLE_TEXT, "arabic") == "rtl"
    if seen:  # the direction is display only: offsets do not change with the rule
        assert seen["arabic"] == seen["first-strong"] == seen["ltr"] == seen["rtl"]
        assert (APPLE_ID, "alice", 0, 5, "ORG", "Apple") in seen["arabic"]
