"""`tahqiq import`, `list`, `show`, `render` and `assign`: the corpus from the command line. Argument parsing
and printing only; the work is in store."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from store import StoreError, Workspace
from store.annotation.labels import load_schema
from store.annotation.record import Kind
from store.annotators import HELP as ANNOTATOR_HELP
from store.annotators import predictions, valid_name
from store.exchange.formats import import_help
from store.exchange.labelled import labels_without_text
from store.exchange.offsets import UNITS
from store.exchange.records import json_safe
from store.team import assign
from store.text.direction import paragraph_rule
from store.wording import counted
from tui.cli.common import (
    add_annotator_option,
    add_workspace_option,
    default_annotator,
    human,
    labels_warning,
    open_workspace,
    stderr_console,
    warn_damaged,
)
from tui.cli.exchange import offset_unit_help, run_import_labelled, split_labelled


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("import", help="import .txt pages, JSONL or CSV files or folders",
                       description="Import articles. Re-importing an article is a no-op. Files that carry "
                                   f"labels ({import_help()}) also import their spans for --annotator.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--predictions", metavar="MODEL",
                   help="import the labels as MODEL's predictions: shown to annotators as suggestions")
    p.add_argument("--offset-unit", choices=list(UNITS), metavar="UNIT", help=offset_unit_help(reading=True))
    add_workspace_option(p)
    add_annotator_option(p)

    p = subparsers.add_parser("list", help="list the articles",
                       description="List the articles: id, title, source, date, and E/C, the entities and claims "
                                   "--annotator tagged in each (default $USER).")
    p.add_argument("--json", action="store_true", help="one JSON array, for scripts")
    p.add_argument("--all-annotators", action="store_true",
                   help="count the entities and claims of every annotator (gold and predictions too), "
                        "not only --annotator's")
    p.add_argument("--search", metavar="TEXT",
                   help="only articles containing TEXT (harakat, tatweel and alef/yaa/taa-marbuta "
                        "variants ignored; Latin case-insensitive), with the first hit in context")
    add_workspace_option(p)
    add_annotator_option(p)

    p = subparsers.add_parser("show", help="print an article (metadata and body, logical order)",
                       description="Print an article's metadata and body in logical order.")
    p.add_argument("id")
    add_workspace_option(p)
    add_annotator_option(p)

    p = subparsers.add_parser("render", help="print an article exactly as the reader shows it",
                       description="Print the screen rows the reader shows (visual order), one per line.")
    p.add_argument("id")
    p.add_argument("--width", type=int, default=80, help="screen width in cells (default 80)")
    p.add_argument("--no-shaping", action="store_true", default=argparse.SUPPRESS,
                   help="do not join Arabic letters")
    p.add_argument("--bidi", choices=["app", "terminal"], default=argparse.SUPPRESS,
                   help="app: visual order (default); terminal: logical order")
    p.add_argument("--reveal-controls", action="store_true", help="show bidi control characters")
    add_workspace_option(p)
    add_annotator_option(p)

    p = subparsers.add_parser("assign", help="split the corpus between annotators",
                       description="Give each article to one annotator, and a share of them to a second "
                                   "one for agreement. Deterministic; running it again replaces the split.")
    p.add_argument("--annotators", required=True, metavar="A,B,C", help="comma-separated annotator names")
    p.add_argument("--overlap", type=float, default=0.0, metavar="SHARE",
                   help="share of articles (0-1) that also go to a second annotator (default 0)")
    p.add_argument("--seed", default="", help="change to get a different (still deterministic) split")
    add_workspace_option(p)
    add_annotator_option(p)


def cmd_import(args: argparse.Namespace) -> int:
    from rich.progress import Progress  # not at the top: rich costs every other command ~40 ms

    workspace = open_workspace(args)
    labelled, plain, not_followed = split_labelled(args.paths)
    for skip in not_followed:
        print(f"tahqiq: skipped {human(str(skip))}", file=sys.stderr)
    if args.predictions and plain:  # never imported as articles: the flag would be ignored
        textless = {p: labels_without_text(Path(p)) for p in plain}
        articles = [p for p, skip in textless.items() if skip is None]
        if articles:  # refused before anything is imported
            raise StoreError(f"{articles[0]}: holds articles, not labels; --predictions imports labelled files "
                             f"({import_help()}); import articles without it")
        for skip in textless.values():  # labels without a text: the article importer's words for it
            print(f"tahqiq: skipped {human(str(skip))}", file=sys.stderr)
        plain, not_followed = [], [*not_followed, *textless.values()]
    annotator = predictions(args.predictions) if args.predictions else args.annotator
    status = run_import_labelled(workspace, labelled, annotator, args.offset_unit) if labelled else 0
    status = status or (1 if not_followed else 0)
    if not plain:
        return status
    with Progress(transient=True, console=stderr_console()) as bar:
        task = bar.add_task("importing", total=None)
        report = workspace.import_paths(plain, progress=lambda d, t: bar.update(task, completed=d, total=t))
    for conflict in report.conflicts:
        print(f"tahqiq: conflict {human(str(conflict))}", file=sys.stderr)
    for skip in report.skipped:
        print(f"tahqiq: skipped {human(str(skip))}", file=sys.stderr)  # a file name may hold ESC sequences
    print(human(report.summary()))
    return 1 if report.skipped or report.conflicts or status else 0


def _counts(workspace: Workspace, annotator: str | None) -> dict[str, dict[str, int]]:
    """Entities and claims per article: `annotator`'s, or everyone's when None, from each annotator's summaries
    (store.annotation.summary). Every annotator's are read either way, so that a teammate's damaged file (which
    makes its summaries untrusted, and its records read as far as whole) is still warned about."""
    counts: dict[str, dict[str, int]] = {}
    for name in workspace.annotators():
        summaries = workspace.summaries(name)
        if annotator is not None and name != annotator:
            continue
        for article_id, summary in summaries.items():
            per = counts.setdefault(article_id, dict.fromkeys(Kind, 0))
            per[Kind.ENTITY] += summary.entities
            per[Kind.CLAIM] += summary.claims
    warn_damaged(workspace)
    return counts


def cmd_list(args: argparse.Namespace) -> int:
    # Not at the top: search and tui.bidi (with regex and python-bidi) cost --help and the others ~45 ms.
    from store.search.index import SearchIndex
    from store.search.query import context, corpus_counts, first_hit
    from tui.bidi import inert

    if args.annotator is not None and not valid_name(args.annotator):  # (the app refuses it the same way)
        raise StoreError(f"annotator name {args.annotator!r}: use {ANNOTATOR_HELP}")
    workspace = open_workspace(args)
    try:
        load_schema(workspace.labels_path)  # (list uses no label: only told, so that it is fixed)
    except StoreError as exc:
        labels_warning((str(exc).splitlines() or ["cannot be read"])[0])
    counts = _counts(workspace, None if args.all_annotators else args.annotator or default_annotator())
    hits = corpus_counts(SearchIndex(workspace.path), workspace, args.search) if args.search else None
    rows = []
    found = None if hits is None else [workspace.article(i) for i in workspace.catalog().ids if i in hits]
    for a in workspace.articles() if found is None else found:
        row = {"id": a.id, "title": a.title, "title_derived": a.title_derived, "source": a.source,
               "date": a.date, "entities": counts.get(a.id, {}).get(Kind.ENTITY, 0),
               "claims": counts.get(a.id, {}).get(Kind.CLAIM, 0)}
        first = first_hit(a.title, a.body, args.search) if hits is not None else None
        if hits is not None:
            row["hits"] = hits[a.id]
            if first is not None:
                text = a.title if first.field == "title" else a.body
                row["context"] = context(text, first.start, first.end)[0]
                row["first_hit"] = {"field": first.field, "start": first.start, "end": first.end}
        rows.append(row)
    if hits is not None and not rows:
        print(f"tahqiq: no article contains {human(args.search)!r}", file=sys.stderr)
    if args.json:
        print(json_safe(json.dumps(rows, ensure_ascii=False, indent=1)))  # no raw DEL, C1 or bidi control
        return 0
    for r in rows:
        cells = [r["id"], r["title"], r["source"] or "-", r["date"] or "-", f"E{r['entities']}", f"C{r['claims']}"]
        if hits is not None:
            cells += [counted(r["hits"], "hit"), r.get("context", "")]
        print("\t".join(map(inert, cells)))  # a TAB, line break or bidi control in a cell is a visible symbol
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from tui.bidi import inert  # not at the top: tui.bidi (regex, python-bidi) costs --help ~35 ms

    article = open_workspace(args).article(args.id)
    for name in ("id", "title", "source", "date", "byline", "url"):
        value = getattr(article, name)
        if value:
            suffix = " (derived)" if name == "title" and article.title_derived else ""
            print(f"{name}: {inert(str(value))}{suffix}")
    print()
    print(inert(article.body, lines=True))  # logical order; controls, TAB and bidi controls as symbols
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from tui.bidi import DisplayOptions  # not at the top: tui.bidi (regex, python-bidi) costs --help ~35 ms

    if args.width < 1:
        raise StoreError(f"--width must be at least 1, got {args.width}")
    workspace = open_workspace(args)
    article = workspace.article(args.id)
    options = DisplayOptions(reorder=args.bidi == "app", shape=not args.no_shaping,
                             direction=paragraph_rule(workspace.schema.paragraph_direction))
    rows = options.layout(article.body, args.width, reveal_controls=args.reveal_controls)
    print("\n".join(line.text for line in rows))
    return 0


def cmd_assign(args: argparse.Namespace) -> int:
    workspace = open_workspace(args)
    names = [n.strip() for n in args.annotators.split(",") if n.strip()]
    result = assign.split([a.id for a in workspace.articles()], names, args.overlap, args.seed)
    assign.save(workspace.path, result)
    for name, row in assign.summary(result).items():
        print(f"{name}\t{row['articles']} articles\t{row['shared']} shared")
    return 0


COMMANDS = {"import": cmd_import, "list": cmd_list, "show": cmd_show, "render": cmd_render, "assign": cmd_assign}
