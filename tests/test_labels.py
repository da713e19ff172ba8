"""The label schema: defaults, clear errors with the line, and no renaming of labels in use."""

from __future__ import annotations

import pytest

from store import StoreError, ValidationError, Workspace
from store.annotation.labels import DEFAULT_LABELS_TOML, parse_schema
from store.text.normalize import find_all

ARTICLE = "52f015e52f40b84e"
LINE = {needle: next(i for i, line in enumerate(DEFAULT_LABELS_TOML.splitlines(), 1) if needle in line)
        for needle in ("[claims]", "#61afef", "type = [")}


def test_defaults() -> None:
    schema = parse_schema(DEFAULT_LABELS_TOML)
    assert list(schema.entities) == ["PER", "ORG", "LOC", "MISC"]
    assert [e.key for e in schema.entities.values()] == ["p", "o", "l", "m"]
    assert schema.claim_attributes["verdict"][0] == "unverified"
    assert "clickbait title" in schema.indicators and schema.nested_entities is False


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace('key = "o"', 'key = "p"'),
         r"labels.toml:\d+: entities.ORG.key: 'p' is already the key of PER"),
        (lambda t: t.replace('color = "#61afef"', 'color = "blue"'),
         rf"labels.toml:{LINE['#61afef']}: entities.ORG.color: 'blue'"),
        (lambda t: t.replace('[claims]', '[claims'), rf"labels.toml: .*line {LINE['[claims]']}"),
        (lambda t: t.replace('type = [', 'type = 3 #['),
         rf"labels.toml:{LINE['type = [']}: claims.type: expected a non-empty list"),
    ],
)
def test_broken_schema_names_line_and_field(edit, message) -> None:
    with pytest.raises(StoreError, match=message):
        parse_schema(edit(DEFAULT_LABELS_TOML), "labels.toml")


def test_broken_schema_file_is_a_clear_error_not_a_crash(workspace: Workspace) -> None:
    workspace.labels_path.write_text("[entities.PER\n", encoding="utf-8")
    with pytest.raises(StoreError, match="labels.toml: .*line 1"):
        workspace.reload_schema()


def test_renaming_a_label_in_use_is_refused_with_count(workspace: Workspace) -> None:
    notes = workspace.annotations("alice")
    body = workspace.article(ARTICLE).body
    for s, e in find_all(body, "سبيك")[:3]:
        notes.add_entity(ARTICLE, s, e, "PER")
    workspace.labels_path.write_text(DEFAULT_LABELS_TOML.replace("[entities.PER]", "[entities.PERS]"),
                                     encoding="utf-8")
    with pytest.raises(StoreError, match="label 'PER' is used by 3 annotation"):
        workspace.reload_schema()
    assert "PER" in workspace.schema.entities  # the old schema stays in force


def test_crossing_entities_refused_nested_per_schema(workspace: Workspace) -> None:
    notes = workspace.annotations("alice")
    body = workspace.article(ARTICLE).body
    start = body.index("بوبكر سبيك")
    notes.add_entity(ARTICLE, start, start + 10, "PER")
    with pytest.raises(ValidationError, match="crosses entity PER 'بوبكر سبيك'"):
        notes.add_entity(ARTICLE, start + 6, start + 14, "ORG")
    with pytest.raises(ValidationError, match="nests in"):
        notes.add_entity(ARTICLE, start, start + 5, "PER")
    with pytest.raises(ValidationError, match="already tagged PER"):
        notes.add_entity(ARTICLE, start, start + 10, "ORG")
    claim = notes.add_claim(ARTICLE, start - 3, start + 19)  # claims may contain entities
    assert claim["text"] == body[start - 3:start + 19]
    workspace.labels_path.write_text(DEFAULT_LABELS_TOML.replace("nested_entities = false", "nested_entities = true"),
                                     encoding="utf-8")
    workspace.reload_schema()
    assert notes.add_entity(ARTICLE, start, start + 5, "PER")["text"] == "بوبكر"


def test_matching_ignores_harakat_hamza_and_allows_clitics() -> None:
    body = "قال أوباما إنَّ أُوبَاما وباوباما؟ لا، بل وأوباما ولأوباما. مدرسةٌ والمدرسه"
    assert [body[s:e] for s, e in find_all(body, "أوباما")] == ["أوباما", "أُوبَاما"]
    assert [body[s:e] for s, e in find_all(body, "اوباما", clitics=True)] == \
        ["أوباما", "أُوبَاما", "اوباما", "أوباما", "أوباما"]
    assert [body[s:e] for s, e in find_all(body, "المدرسة", clitics=True)] == ["المدرسه"]
    assert [body[s:e] for s, e in find_all(body, "مدرسة")] == ["مدرسةٌ"]


@pytest.mark.parametrize("value", ["arabic", "first-strong", "rtl", "ltr"])
def test_paragraph_direction_values(value) -> None:
    text = DEFAULT_LABELS_TOML.replace('paragraph_direction = "arabic"', f'paragraph_direction = "{value}"')
    assert parse_schema(text).paragraph_direction == value


def test_paragraph_direction_defaults_to_arabic() -> None:
    assert parse_schema(DEFAULT_LABELS_TOML).paragraph_direction == "arabic"
    old = "\n".join(line for line in DEFAULT_LABELS_TOML.splitlines() if not line.startswith("paragraph_direction"))
    assert "paragraph_direction =" not in old
    assert parse_schema(old).paragraph_direction == "arabic"  # a labels.toml written before the setting


@pytest.mark.parametrize("value", ['"auto"', '"RTL"', "1", '["rtl"]'])
def test_bad_paragraph_direction_names_file_line_and_field(value) -> None:
    text = DEFAULT_LABELS_TOML.replace('paragraph_direction = "arabic"', f"paragraph_direction = {value}")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("paragraph_direction"))
    with pytest.raises(StoreError) as info:
        parse_schema(text, "ws/labels.toml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"ws/labels.toml:{line}: paragraph_direction: ")
    assert '"arabic", "first-strong", "rtl", "ltr"' in message


def test_workspace_schema_reads_paragraph_direction(workspace: Workspace) -> None:
    assert workspace.schema.paragraph_direction == "arabic"
    workspace.labels_path.write_text(DEFAULT_LABELS_TOML.replace('paragraph_direction = "arabic"',
                                                                 'paragraph_direction = "first-strong"'),
                                     encoding="utf-8")
    assert workspace.reload_schema().paragraph_direction == "first-strong"


BROKEN_LABELS = {
    "not-toml": ("[entities.PER\n", "line 1"),
    "wrong-type": ("credibility = 5\n[entities.PER]\nkey = 'p'\n", "labels.toml:1: field 'credibility'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_LABELS))
def test_a_broken_labels_toml_does_not_stop_list_or_export(workspace_path, tmp_path, capsys, case: str) -> None:
    """Issue: a broken labels.toml stopped `tahqiq export` of what is stored (and `list` said nothing of it).
    Both warn in one line naming the file and line and go on with the default labels; every stored
    annotation is exported, also one whose label (EVENT) the default labels lack."""
    import json

    from spans import word_span

    from tui.cli import main

    labels = workspace_path / "labels.toml"
    labels.write_text(DEFAULT_LABELS_TOML + '\n[entities.EVENT]\nname = "Event"\ncolor = "#aaaaaa"\nkey = "e"\n',
                      encoding="utf-8")
    ws = Workspace.open(workspace_path)
    body = ws.article(ARTICLE).body
    notes = ws.annotations("alice")
    notes.add_entity(ARTICLE, *word_span(body, 3), "PER")
    notes.add_entity(ARTICLE, *word_span(body, 7), "EVENT")
    notes.add_claim(ARTICLE, *word_span(body, 11), verdict="true")
    ws.close()
    broken, where = BROKEN_LABELS[case]
    labels.write_text(broken, encoding="utf-8")

    def warned(err: str) -> None:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("tahqiq: warning: "), err
        assert str(labels) in lines[0] and where in lines[0] and "default labels" in lines[0], lines[0]

    assert main(["list", "--workspace", str(workspace_path), "--annotator", "alice"]) == 0
    out, err = capsys.readouterr()
    warned(err)
    assert [line.split("\t")[-2:] for line in out.splitlines() if line.startswith(ARTICLE)] == [["E2", "C1"]]

    assert main(["export", "--workspace", str(workspace_path), "--format", "jsonl"]) == 0
    out, err = capsys.readouterr()
    warned(err)
    (record,) = [json.loads(line) for line in out.splitlines() if json.loads(line)["annotator"] == "alice"]
    assert [e["label"] for e in record["entities"]] == ["PER", "EVENT"]
    assert [c["attributes"]["verdict"] for c in record["claims"]] == ["true"]

    folder = tmp_path / "brat"
    assert main(["export", "--workspace", str(workspace_path), "--format", "brat", "-o", str(folder)]) == 0
    warned("\n".join(line for line in capsys.readouterr().err.splitlines() if "exported" not in line))
    ann = next((folder / "alice").glob("*.ann")).read_text(encoding="utf-8")
    assert "\tPER " in ann and "\tEVENT " in ann
    conf = (folder / "annotation.conf").read_text(encoding="utf-8").split("\n")
    assert {"PER", "ORG", "LOC", "MISC", "EVENT"} <= set(conf)  # the default labels, and the ones in use

    assert labels.read_text(encoding="utf-8") == broken  # nothing written over the user's file
    ws = Workspace.open(workspace_path)  # editing (the app, imports of labels) still refuses it
    try:
        with pytest.raises(StoreError, match=where):
            ws.schema  # noqa: B018
    finally:
        ws.close()
