"""brat standoff: `<annotator>/<article>.txt` + `.ann` per article, `annotation.conf`, and a
`tahqiq-export.json` manifest (offset unit, text direction, credibility, which brat cannot hold).

brat counts code points (it is Python), so offsets are ours. A span across a line break becomes a
discontinuous brat span (`start end;start end`), as brat requires.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from store.annotation.record import Kind
from store.db.atomic import remove_stale_temp_files_in, write_atomic_text
from store.exchange.conll import CONTROL, control_pictures
from store.exchange.format import PARTIAL, Format
from store.exchange.incoming import CLAIM
from store.exchange.offsets import CODEPOINT
from store.exchange.records import Context, Item, json_safe

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# What str.splitlines() breaks at (\r\n is two of these): none may appear inside an .ann line.
_LINE_BREAK = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
MANIFEST = "tahqiq-export.json"
_STEM_MAX = 120
"""File names stay well under NAME_MAX (255 bytes) whatever the article id's length."""


def file_stem(article_id: str) -> str:
    return _UNSAFE.sub("_", article_id)[:_STEM_MAX] or "_"


def _unique_stem(article_id: str, used: set[str]) -> str:
    """file_stem, made unique within one folder: distinct ids can share a stem ("a/b" and "a_b", any two
    Arabic ids of the same length), and one .txt/.ann pair used to overwrite the other."""
    stem = base = file_stem(article_id)
    k = 1
    while stem.lower() in used:  # lower(): also distinct on case-insensitive file systems
        k += 1
        stem = f"{base}-{k}"
    used.add(stem.lower())
    return stem


def _value(value: Any) -> str:
    """brat attribute values are single words: spaces become underscores (and controls symbols)."""
    return control_pictures("_".join(str(value).split()))


def _shown(text: str) -> str:
    """Text on an .ann line: no control character is written raw (a tab would split the line, ESC or a C1
    control would reach the terminal of whoever reads it); each is its one-character symbol (see
    conll.control_pictures). The .txt file keeps the exact text: offsets index it."""
    return control_pictures(text) if CONTROL.search(text) else text


def fragments(body: str, start: int, end: int) -> list[tuple[int, int]]:
    """body[start:end] cut at every line break: all of them (CR, U+2028, NEL...), not only LF, since brat
    reads .ann files line by line with str.splitlines() semantics and a span's text must stay on its line."""
    out, s = [], start
    for m in _LINE_BREAK.finditer(body, start, end):
        if m.start() > s:
            out.append((s, m.start()))
        s = m.end()
    if end > s:
        out.append((s, end))
    return out


def ann_lines(item: Item, schema: Any, notes: list[str] | None = None) -> list[str]:
    """The .ann lines of one document. A span of line breaks only has no text brat can hold on a line:
    it is left out and named in `notes` (it used to be written raw, breaking the .ann file)."""
    body, lines = item.article.body, []
    t = a = n = 0
    for r in item.spans:
        frags = fragments(body, r["start"], r["end"])
        if not frags:
            if notes is not None:
                notes.append(f"{item.article.id!r} ({item.annotator}): {r['label']} span {r['start']}-{r['end']} "
                             f"{r['text']!r} is only line breaks; left out of the brat .ann file")
            continue
        t += 1
        where = ";".join(f"{s} {e}" for s, e in frags)
        text = " ".join(body[s:e] for s, e in frags)
        if notes is not None and CONTROL.search(text):
            notes.append(f"{item.article.id!r} ({item.annotator}): {r['label']} span {r['start']}-{r['end']} holds "
                         "control characters; its .ann text shows them as symbols (the .txt is exact)")
        lines.append(f"T{t}\t{_shown(r['label'])} {where}\t{_shown(text)}")
        for name, value in (r["attributes"].items() if r["kind"] == Kind.CLAIM else ()):
            if value in (None, ""):
                continue
            if name in schema.claim_attributes:
                a += 1
                lines.append(f"A{a}\t{_value(name)} T{t} {_value(value)}")
            else:
                n += 1
                lines.append(f"#{n}\tAnnotatorNotes T{t}\t{_shown(name)}: {_shown(' '.join(str(value).split()))}")
    return lines


def conf(schema: Any) -> str:
    attrs = [f"{_value(name)}\tArg:{CLAIM}, Value:{'|'.join(map(_value, values))}"
             for name, values in schema.claim_attributes.items()]
    return "\n".join(["[entities]", *schema.entities, CLAIM, "[relations]", "<OVERLAP>\tArg1:<ENTITY>, "
                      "Arg2:<ENTITY>, <OVL-TYPE>:<ANY>", "[events]", "[attributes]", *attrs, ""])


def _write(path: Path, text: str) -> None:
    """One file of the folder, whole or not at all (temp file, fsync, rename): an export that fails midway
    leaves no half-written file under a final name. The folder's stale temp files are swept by write_dir."""
    write_atomic_text(path, lambda handle: handle.write(text), PARTIAL, clean=False)


def write_dir(items: Iterable[Item], folder: Path, ctx: Context) -> None:
    """The brat folder: each file written whole (`_write`), after removing the temp files that exports killed
    midway left in it (one scan per folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files_in(folder, PARTIAL)
    manifest: list[dict[str, Any]] = []
    used: dict[Path, set[str]] = {}
    for item in items:
        sub = folder / file_stem(item.annotator)
        if sub not in used:
            sub.mkdir(exist_ok=True)
            remove_stale_temp_files_in(sub, PARTIAL)
        stem = _unique_stem(item.article.id, used.setdefault(sub, set()))
        txt, ann = sub / f"{stem}.txt", sub / f"{stem}.ann"
        _write(txt, item.article.body)
        lines = ann_lines(item, ctx.schema, ctx.notes)
        _write(ann, "".join(line + "\n" for line in lines))
        c = item.credibility
        manifest.append({"id": item.article.id, "annotator": item.annotator, "state": item.state,
                         "txt": str(txt.relative_to(folder)), "ann": str(ann.relative_to(folder)),
                         "direction": ctx.saw(item), "paragraph_direction": item.paragraph_direction,
                         "credibility": None if c is None else {k: c["attributes"].get(k)
                                                                for k in ("score", "indicators", "note")}})
    _write(folder / "annotation.conf", conf(ctx.schema))
    _write(folder / MANIFEST, json_safe(json.dumps({"format": "brat", "offset_unit": CODEPOINT,
                                                    "paragraph_direction": ctx.paragraph_direction,
                                                    "documents": manifest}, ensure_ascii=False, indent=1)) + "\n")
    ctx.written.append(folder)


FORMAT = Format("brat", write_dir, CODEPOINT, to_dir=True, help="brat .txt/.ann pairs in -o DIR",
                epilog="needs -o DIR (DIR/<annotator>/<article>.txt/.ann, annotation.conf, tahqiq-export.json).")
