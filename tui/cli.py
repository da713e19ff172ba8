"""The `tahqiq` command line: the TUI by default, and import, list, show and render for scripts."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from importlib.metadata import PackageNotFoundError, version

from store import CorruptFileError, LockedError, StoreError, Workspace
from store.suggest import PREDICTIONS_PREFIX
from store.wording import counted


def human(text: str) -> str:
    """A message for a person's terminal: no control character, bidi control or TAB of its own (file names,
    article ids and texts end up in messages); lines are kept."""
    from tui.bidi.sanitize import inert

    return inert(text, lines=True)


def _version() -> str:
    try:
        return version("tahqiq")
    except PackageNotFoundError:
        return "unknown"


def default_annotator() -> str:
    """The annotator when none is given: the login name."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "annotator"


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--workspace", metavar="DIR", default=default,
                        help="workspace folder (default: $TAHQIQ_WORKSPACE or ~/.local/share/tahqiq)")
    parser.add_argument("--annotator", metavar="NAME", default=default,
                        help="who is annotating (default: $USER)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tahqiq", description="Browse and annotate Arabic news articles in the terminal.")
    parser.add_argument("--version", action="version", version=f"tahqiq {_version()}")
    _common(parser, suppress=False)
    parser.add_argument("--bidi", choices=["app", "terminal"], default="app",
                        help="app: tahqiq reorders and joins Arabic (default); terminal: send logical "
                             "order for terminals that do bidi themselves")
    parser.add_argument("--no-shaping", action="store_true", help="do not join Arabic letters")
    parser.add_argument("--read-only", action="store_true",
                        help="open to look only, nothing is saved (for a workspace with a damaged file)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("import", help="import .txt pages, JSONL or CSV files or folders",
                       description="Import articles. Re-importing an article is a no-op. Files that carry "
                                   "labels (our JSONL, doccano, spaCy/Prodigy JSONL, Label Studio JSON) also "
                                   "import their spans for --annotator.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--predictions", metavar="MODEL",
                   help="import the labels as MODEL's predictions: shown to annotators as suggestions")
    p.add_argument("--offset-unit", choices=["utf-16-code-unit", "codepoint"], metavar="UNIT",
                   help="offsets of doccano lines that do not state their offset_unit: utf-16-code-unit "
                        "(default, as doccano's editor counts) or codepoint. Label Studio files are read as "
                        "code points (UTF-16 only where value.text proves it, with a note)")
    _common(p, suppress=True)

    p = sub.add_parser("list", help="list the articles",
                       description="List the articles: id, title, source, date, and E/C, the entities and claims "
                                   "--annotator tagged in each (default $USER).")
    p.add_argument("--json", action="store_true", help="one JSON array, for scripts")
    p.add_argument("--all-annotators", action="store_true",
                   help="count the entities and claims of every annotator (gold and predictions too), "
                        "not only --annotator's")
    p.add_argument("--search", metavar="TEXT",
                   help="only articles containing TEXT (harakat, tatweel and alef/yaa/taa-marbuta "
                        "variants ignored; Latin case-insensitive), with the first hit in context")
    _common(p, suppress=True)

    p = sub.add_parser("show", help="print an article (metadata and body, logical order)",
                       description="Print an article's metadata and body in logical order.")
    p.add_argument("id")
    _common(p, suppress=True)

    p = sub.add_parser("render", help="print an article exactly as the reader shows it",
                       description="Print the screen rows the reader shows (visual order), one per line.")
    p.add_argument("id")
    p.add_argument("--width", type=int, default=80, help="screen width in cells (default 80)")
    p.add_argument("--no-shaping", action="store_true", default=argparse.SUPPRESS,
                   help="do not join Arabic letters")
    p.add_argument("--bidi", choices=["app", "terminal"], default=argparse.SUPPRESS,
                   help="app: visual order (default); terminal: logical order")
    p.add_argument("--reveal-controls", action="store_true", help="show bidi control characters")
    _common(p, suppress=True)

    p = sub.add_parser("assign", help="split the corpus between annotators",
                       description="Give each article to one annotator, and a share of them to a second "
                                   "one for agreement. Deterministic; running it again replaces the split.")
    p.add_argument("--annotators", required=True, metavar="A,B,C", help="comma-separated annotator names")
    p.add_argument("--overlap", type=float, default=0.0, metavar="SHARE",
                   help="share of articles (0-1) that also go to a second annotator (default 0)")
    p.add_argument("--seed", default="", help="change to get a different (still deterministic) split")
    _common(p, suppress=True)

    from tui.cli_exchange import add_export_parser

    add_export_parser(sub)  # has its own --workspace and a repeatable --annotator: no _common() here

    from tui.cli_agreement import add_agreement_parser

    add_agreement_parser(sub)  # its own --workspace and repeatable --annotator, like export

    from tui.serve import add_serve_parser

    add_serve_parser(sub)

    from tui.cli_doctor import add_doctor_parser

    add_doctor_parser(sub)
    return parser


def open_workspace(args: argparse.Namespace, seed: bool = False) -> Workspace:
    """The chosen workspace; the bundled seeds are imported into an empty one when the app opens it, or
    when any command first opens the default workspace."""
    read_only = getattr(args, "read_only", False) and args.command is None
    default = args.workspace is None and "TAHQIQ_WORKSPACE" not in os.environ
    workspace = Workspace.open(args.workspace, read_only=read_only, create=may_create(args, seed))
    if (seed or default) and workspace.is_empty and args.command != "import" and not read_only:
        workspace.import_seeds()
    return workspace


def may_create(args: argparse.Namespace, seed: bool = False) -> bool:
    """Only the app (and the server), `import` and the default workspace create a workspace; any other
    command on a folder that holds none says so (a mistyped --workspace must not look like an empty one)."""
    default = getattr(args, "workspace", None) is None and "TAHQIQ_WORKSPACE" not in os.environ
    return seed or default or args.command in (None, "import")


def cmd_import(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from tui.cli_exchange import run_import_labelled, split_labelled

    workspace = open_workspace(args)
    labelled, plain, not_followed = split_labelled(args.paths)
    for skip in not_followed:
        print(f"tahqiq: skipped {human(str(skip))}", file=sys.stderr)
    if args.predictions and plain:  # refused before anything is imported: the flag would be ignored
        raise StoreError(f"{plain[0]}: holds articles, not labels; --predictions imports labelled files "
                         "(tahqiq json/jsonl, Label Studio, doccano, spaCy); import articles without it")
    annotator = f"{PREDICTIONS_PREFIX}{args.predictions}" if args.predictions else args.annotator
    status = run_import_labelled(workspace, labelled, annotator, args.offset_unit) if labelled else 0
    status = status or (1 if not_followed else 0)
    if not plain:
        return status
    with Progress(transient=True, console=_stderr()) as bar:
        task = bar.add_task("importing", total=None)
        report = workspace.import_paths(plain, progress=lambda d, t: bar.update(task, completed=d, total=t))
    for conflict in report.conflicts:
        print(f"tahqiq: conflict {human(str(conflict))}", file=sys.stderr)
    for skip in report.skipped:
        print(f"tahqiq: skipped {human(str(skip))}", file=sys.stderr)  # a file name may hold ESC sequences
    print(human(report.summary()))
    return 1 if report.skipped or report.conflicts or status else 0


def _counts(workspace: Workspace, annotator: str | None) -> dict[str, dict[str, int]]:
    """Annotations per article and kind: `annotator`'s, or everyone's when None. Every annotator's file is
    opened (looking only) either way, so a teammate's damaged one is still warned about."""
    counts: dict[str, dict[str, int]] = {}
    for name in workspace.annotators():
        notes = workspace.annotations(name, check=False)
        if annotator is not None and name != annotator:
            continue
        for row in notes.all():  # a damaged file: counted as far as whole
            per = counts.setdefault(row["article_id"], {"entity": 0, "claim": 0, "credibility": 0})
            per[row["kind"]] = per.get(row["kind"], 0) + 1
    for name, damage in sorted(workspace.damaged.items()):
        print(f"tahqiq: warning: {name}'s annotations are counted as far as they are intact: {damage[0]}",
              file=sys.stderr)
    return counts


def _labels_warning(why: str) -> None:
    """A labels.toml that cannot be read, told in one line by the commands that go on without it."""
    print(f"tahqiq: warning: {human(why)}; going on with the default labels", file=sys.stderr)


def cmd_list(args: argparse.Namespace) -> int:
    from store.exchange.records import json_safe
    from store.labels import load_schema
    from store.search import context, corpus_counts, first_hit
    from store.search_index import SearchIndex
    from store.workspace import _ANNOTATOR
    from tui.bidi import inert

    if args.annotator is not None and not _ANNOTATOR.match(args.annotator):  # (the app refuses it the same way)
        raise StoreError(f"annotator name {args.annotator!r}: use letters, digits, '.', '_' or '-'")
    workspace = open_workspace(args)
    try:
        load_schema(workspace.labels_path)  # (list uses no label: only told, so that it is fixed)
    except StoreError as exc:
        _labels_warning((str(exc).splitlines() or ["cannot be read"])[0])
    counts = _counts(workspace, None if args.all_annotators else args.annotator or default_annotator())
    hits = corpus_counts(SearchIndex(workspace.path), workspace, args.search) if args.search else None
    rows = []
    for a in workspace.articles():
        if hits is not None and a.id not in hits:
            continue
        row = {"id": a.id, "title": a.title, "title_derived": a.title_derived, "source": a.source,
               "date": a.date, "entities": counts.get(a.id, {}).get("entity", 0),
               "claims": counts.get(a.id, {}).get("claim", 0)}
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
    from tui.bidi import inert

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
    from store.direction import paragraph_rule
    from tui.bidi import DisplayOptions

    if args.width < 1:
        raise StoreError(f"--width must be at least 1, got {args.width}")
    workspace = open_workspace(args)
    article = workspace.article(args.id)
    options = DisplayOptions(reorder=args.bidi == "app", shape=not args.no_shaping,
                             direction=paragraph_rule(workspace.schema.paragraph_direction))
    rows = options.layout(article.body, args.width, reveal_controls=args.reveal_controls)
    print("\n".join(line.text for line in rows))
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    from tui.app import make_app
    from tui.terminal import explicit_bidi

    workspace = open_workspace(args, seed=True)
    workspace.schema  # noqa: B018 - a broken labels.toml is a one-line error before the screen opens
    annotator = args.annotator or default_annotator()
    notice = None
    if not workspace.read_only:
        try:
            workspace.annotations(annotator).acquire()  # a second login is refused here, not at its first save
        except CorruptFileError as exc:
            if not _offer_read_only(exc):
                return 1
            workspace.close()
            args.read_only = True
            workspace = open_workspace(args)
        except LockedError:
            raise
        except StoreError as exc:  # a read-only folder, a full disk: work is kept in memory meanwhile
            notice = f"{exc}: changes are kept in memory and saved as soon as the disk allows"
    app = make_app(workspace, annotator, bidi=args.bidi, shaping=not args.no_shaping, notice=notice)
    try:
        with explicit_bidi(args.bidi == "app"):
            app.run()
    finally:
        workspace.close()  # folds the journal into annotations/<name>.json and releases the writer lock
    return app.return_code or 0


def _offer_read_only(exc: CorruptFileError) -> bool:
    """Say which file is damaged and how; ask whether to open read-only (never on a non-interactive run)."""
    print(f"tahqiq: error: {human(str(exc))}", file=sys.stderr)
    hint = "the damaged file is kept as it is; `tahqiq doctor` checks and repairs the workspace"
    if not sys.stdin.isatty():
        print(f"tahqiq: {hint}; --read-only opens it to look only", file=sys.stderr)
        return False
    answer = input(f"tahqiq: {hint}. Open read-only now (nothing will be saved)? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _stderr():
    from rich.console import Console

    return Console(stderr=True)


def cmd_assign(args: argparse.Namespace) -> int:
    from store import assign

    workspace = open_workspace(args)
    names = [n.strip() for n in args.annotators.split(",") if n.strip()]
    result = assign.split([a.id for a in workspace.articles()], names, args.overlap, args.seed)
    assign.save(workspace.path, result)
    for name, row in assign.summary(result).items():
        print(f"{name}\t{row['articles']} articles\t{row['shared']} shared")
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    from tui.cli_agreement import run_agreement

    return run_agreement(args)


def cmd_doctor(args: argparse.Namespace) -> int:
    from tui.cli_doctor import run_doctor

    return run_doctor(args)


def cmd_export(args: argparse.Namespace) -> int:
    from store.workspace import default_labels_if_broken
    from tui.cli_exchange import run_export

    with default_labels_if_broken(_labels_warning):  # what is stored is exported, whatever labels.toml says
        return run_export(args)


def cmd_serve(args: argparse.Namespace) -> int:
    from tui.serve import run_serve

    return run_serve(args)


COMMANDS = {"agreement": cmd_agreement, "assign": cmd_assign, "doctor": cmd_doctor, "export": cmd_export,
            "import": cmd_import, "list": cmd_list, "render": cmd_render, "serve": cmd_serve, "show": cmd_show}


def main(argv: list[str] | None = None) -> int:
    from tui.serve import die_with_server

    die_with_server()  # a `tahqiq serve` session: end with the server, even if it is killed
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS.get(args.command, cmd_app)(args)
    except StoreError as exc:
        print(f"tahqiq: error: {human(str(exc))}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `tahqiq export ... | head`: the reader has had enough; end quietly, like cat
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at interpreter exit
        return 141  # 128 + SIGPIPE, what a Unix tool killed by the closed pipe returns
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"tahqiq: error: {human(f'{where}{exc.strerror or exc}')}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
