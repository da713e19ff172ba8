"""`tahqiq export` and the labelled-file branch of `tahqiq import`: argument parsing and reporting only;
the work is in store.exchange."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from store import StoreError, Workspace
from store.corpus.importer import SUPPORTED, Skip, files_in
from store.exchange import FILTER_HELP, FORMATS, export, import_labelled, looks_labelled
from store.exchange.formats import importable
from store.exchange.offsets import CODEPOINT, UNITS
from store.workspace import default_labels_if_broken
from tui.cli.common import add_workspace_option, human, labels_warning, may_create

_EPILOG_WIDTH = 104


def epilog() -> str:
    """`tahqiq export --help`'s closing text, from the registry: the offset rule, each format's `epilog`."""
    others = [f.name for f in FORMATS.values() if f.offset_unit != CODEPOINT]
    lines = [textwrap.fill("offsets: code points into the article text (as Python and Label Studio 1.4+ count)"
                           + (f", except {', '.join(others)} (below)" if others else "") + ". Every format states "
                           "its offset unit and each article's direction (rtl/ltr).", _EPILOG_WIDTH)]
    lines += [textwrap.fill(f"{f.name}: {f.epilog}", _EPILOG_WIDTH) for f in FORMATS.values() if f.epilog]
    lines.append("Articles an annotator has not started are left out unless named by id or with state=not-started.")
    return "\n".join(lines) + "\n"


def offset_unit_help(reading: bool) -> str:
    """--offset-unit help, from the formats with a choice of unit (`units`): for export (`reading` False) the
    unit written, for `tahqiq import` the unit of the records that state none."""
    formats = [f for f in (importable() if reading else FORMATS).values() if f.units]
    if reading:
        return "; ".join(f"offsets of {f.name} records that do not state their offset_unit: {f.offset_unit} "
                         f"(default) or {' or '.join(f.units)}" for f in formats) + (
            ". Label Studio files are read as code points (UTF-16 only where value.text proves it, with a note)")
    return "; ".join(f"{f.name}: {f.offset_unit} (default) or {' or '.join(f.units)}" for f in formats) + (
        "; other formats write one unit. Each record states the unit it uses")


def add_export_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "export", help=f"export annotations ({', '.join(FORMATS)})",
        description="Export annotations, one record per article and annotator.", epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--format", "-f", required=True, choices=list(FORMATS), metavar="FORMAT",
                   help="; ".join(f"{f.name}: {f.help}" for f in FORMATS.values()))
    p.add_argument("--annotator", action="append", dest="annotators", metavar="NAME",
                   help="export this annotator's work (repeatable; default: everyone)")
    p.add_argument("--articles", metavar="FILTER", help=f"which articles: {FILTER_HELP}")
    p.add_argument("--merge", action="store_true",
                   help="one merged record per article: majority vote of the annotators for credibility and "
                        "labels (ties are reported); use --annotator gold for the reviewed gold set")
    folders = ", ".join(f.name for f in FORMATS.values() if f.to_dir)
    p.add_argument("-o", "--output", metavar="PATH",
                   help=f"file{f' (folder for {folders})' if folders else ''} to write; default stdout")
    p.add_argument("--offset-unit", choices=list(UNITS), metavar="UNIT", help=offset_unit_help(reading=False))
    p.add_argument("--skip-damaged", action="store_true",
                   help="an annotator's damaged file: export what is intact and name on stderr what is left out "
                        "(default: refuse, naming the file and line)")
    add_workspace_option(p)
    return p


def run_export(args: argparse.Namespace) -> int:
    from rich.console import Console  # not at the top: rich costs every other command ~40 ms
    from rich.progress import Progress

    annotators = args.annotators or ([args.annotator] if getattr(args, "annotator", None) else None)
    workspace = Workspace.open(getattr(args, "workspace", None), create=may_create(args))
    err = Console(stderr=True)
    try:
        if args.output is None:
            if FORMATS[args.format].to_dir:
                raise StoreError(f"--format {args.format} writes a folder of files: give one with -o DIR")
            ctx = export(workspace, args.format, out=sys.stdout, annotators=annotators, articles=args.articles,
                         merge=args.merge, skip_damaged=args.skip_damaged, offset_unit=args.offset_unit)
            sys.stdout.flush()
        else:
            with Progress(transient=True, console=err) as bar:
                task = bar.add_task(f"exporting {args.format}", total=None)
                ctx = export(workspace, args.format, path=args.output, annotators=annotators,
                             articles=args.articles, merge=args.merge, skip_damaged=args.skip_damaged,
                             offset_unit=args.offset_unit,
                             progress=lambda d, t: bar.update(task, completed=d, total=t))
    finally:
        workspace.close()
    for note in ctx.notes:
        print(f"tahqiq: {human(note)}", file=sys.stderr)
    if args.output is not None:
        count = sum(ctx.directions.values())
        unit = args.offset_unit or FORMATS[args.format].offset_unit
        print(human(f"tahqiq: exported {count} {FORMATS[args.format].noun}"
                    f"{'s' if count != 1 else ''} to {', '.join(map(str, ctx.written))} (offsets: {unit})"),
              file=sys.stderr)
    return 0


def split_labelled(paths: list[str]) -> tuple[list[Path], list[str], list[Skip]]:
    """Labelled files (for import_labelled), everything else (for Workspace.import_paths), and what a folder
    holds that is not followed (a link out of it). Folders are walked by the article importer's walker."""
    labelled: list[Path] = []
    plain: list[str] = []
    skipped: list[Skip] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in files_in(p):
                if isinstance(f, Skip):
                    skipped.append(f)
                elif looks_labelled(f):
                    labelled.append(f)
                elif f.suffix.lower() in SUPPORTED:
                    plain.append(str(f))
        elif looks_labelled(p):
            labelled.append(p)
        else:
            plain.append(str(p))
    return labelled, plain, skipped


def run_import_labelled(workspace: Workspace, paths: list[Path], annotator: str | None,
                        offset_unit: str | None = None) -> int:
    """Import labelled files for `annotator`; prints one line per skip and per notice and a summary per file.
    Returns 1 if anything was skipped, else 0 (a notice is not a failure)."""
    if not annotator:
        raise StoreError(f"{paths[0]}: holds labels; name the annotator they belong to with --annotator NAME "
                         "(e.g. --annotator model)")
    status = 0
    for path in paths:
        report = import_labelled(workspace, path, annotator, offset_unit)
        for notice in report.notices:
            print(f"tahqiq: note: {human(str(notice))}", file=sys.stderr)
        for skip in report.skipped:
            print(f"tahqiq: skipped {human(str(skip))}", file=sys.stderr)  # file names: no raw ESC
        print(human(report.summary()))
        status |= 1 if report.skipped else 0
    return status


def cmd_export(args: argparse.Namespace) -> int:
    with default_labels_if_broken(labels_warning):  # what is stored is exported, whatever labels.toml says
        return run_export(args)


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    add_export_parser(subparsers)  # a repeatable --annotator of its own


COMMANDS = {"export": cmd_export}
