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

from .incoming import CLAIM
from .offsets import CODEPOINT
from .records import Context, Item

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
MANIFEST = "tahqiq-export.json"


def file_stem(article_id: str) -> str:
    return _UNSAFE.sub("_", article_id) or "_"


def _value(value: Any) -> str:
    """brat attribute values are single words: spaces become underscores."""
    return "_".join(str(value).split())


def fragments(body: str, start: int, end: int) -> list[tuple[int, int]]:
    out, s = [], start
    for i in range(start, end):
        if body[i] == "\n":
            if i > s:
                out.append((s, i))
            s = i + 1
    if end > s:
        out.append((s, end))
    return out


def ann_lines(item: Item, schema: Any) -> list[str]:
    body, lines = item.article.body, []
    t = a = n = 0
    for r in item.spans:
        frags = fragments(body, r["start"], r["end"]) or [(r["start"], r["end"])]
        t += 1
        where = ";".join(f"{s} {e}" for s, e in frags)
        lines.append(f"T{t}\t{r['label']} {where}\t{' '.join(body[s:e] for s, e in frags)}")
        for name, value in (r["attributes"].items() if r["kind"] == "claim" else ()):
            if value in (None, ""):
                continue
            if name in schema.claim_attributes:
                a += 1
                lines.append(f"A{a}\t{name} T{t} {_value(value)}")
            else:
                n += 1
                lines.append(f"#{n}\tAnnotatorNotes T{t}\t{name}: {' '.join(str(value).split())}")
    return lines


def conf(schema: Any) -> str:
    attrs = [f"{name}\tArg:{CLAIM}, Value:{'|'.join(map(_value, values))}"
             for name, values in schema.claim_attributes.items()]
    return "\n".join(["[entities]", *schema.entities, CLAIM, "[relations]", "<OVERLAP>\tArg1:<ENTITY>, "
                      "Arg2:<ENTITY>, <OVL-TYPE>:<ANY>", "[events]", "[attributes]", *attrs, ""])


def write_dir(items: Iterable[Item], folder: Path, ctx: Context) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    manifest: list[dict[str, Any]] = []
    for item in items:
        sub = folder / file_stem(item.annotator)
        sub.mkdir(exist_ok=True)
        stem = file_stem(item.article.id)
        txt, ann = sub / f"{stem}.txt", sub / f"{stem}.ann"
        txt.write_text(item.article.body, encoding="utf-8", newline="")
        lines = ann_lines(item, ctx.schema)
        ann.write_text("".join(line + "\n" for line in lines), encoding="utf-8", newline="")
        c = item.credibility
        manifest.append({"id": item.article.id, "annotator": item.annotator, "state": item.state,
                         "txt": str(txt.relative_to(folder)), "ann": str(ann.relative_to(folder)),
                         "direction": ctx.saw(item),
                         "credibility": None if c is None else {k: c["attributes"].get(k)
                                                                for k in ("score", "indicators", "note")}})
    (folder / "annotation.conf").write_text(conf(ctx.schema), encoding="utf-8")
    (folder / MANIFEST).write_text(json.dumps({"format": "brat", "offset_unit": CODEPOINT, "documents": manifest},
                                              ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    ctx.written.append(folder)
