"""Mapped files do not stay in a session's resident memory: the checksum of a mapped index is read 1 MB at a
time, each released (store.db.storage.mapped_crc32), and the shared suggestion index lets go of the pages an
article's lookups read (TaggedIndex.release). Measured as the kernel counts it: the mapping's Rss in
/proc/self/smaps."""

from __future__ import annotations

import mmap
import os
import random
import zlib
from pathlib import Path

import pytest
from test_tagged_index import _tag

from store.assist.suggest import Suggester
from store.assist.tagged_index import SharedMatcher
from store.db.storage import mapped_crc32
from store.workspace import Workspace

pytestmark = pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="reads /proc/self/smaps (Linux)")


def resident_kb(path: Path) -> int:
    """The resident kB of this process's mappings of `path`."""
    total, inside = 0, False
    target = str(path.resolve())
    with open("/proc/self/smaps", encoding="utf-8") as smaps:
        for line in smaps:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                parts = line.split()
                inside = len(parts) > 5 and parts[5] == target
            elif inside and first == "Rss:":
                total += int(line.split()[1])
    return total


def test_a_mapped_checksum_is_exact_and_leaves_no_page_resident(tmp_path: Path) -> None:
    path = tmp_path / "index"
    data = random.Random(7).randbytes((7 << 20) // 2 + 123)  # 3.5 MB and a bit: chunks, and a partial page
    path.write_bytes(data)
    with open(path, "rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        for start in (0, 1, 4095, 4097, (1 << 20) + 3, len(data) - 1, len(data)):
            assert mapped_crc32(mapped, start) == zlib.crc32(data[start:]), start
        assert resident_kb(path) <= 8, resident_kb(path)  # (zlib.crc32 of the mapping: ~3,600 kB)
    finally:
        mapped.close()
    assert mapped_crc32(data, 5) == zlib.crc32(data[5:])  # (an empty index is bytes, not a mapping)


def test_the_shared_index_lets_go_of_what_an_article_read(workspace_path: Path) -> None:
    for name, seed in (("bob", 1), ("carol", 2)):
        _tag(workspace_path, name, seed, 60)
    ws = Workspace.open(workspace_path)
    try:
        ws.annotations("alice").acquire()
        suggester = Suggester(ws, "alice")
        assert isinstance(suggester.tagged, SharedMatcher)
        index_path = workspace_path / "suggestions" / "tagged.idx"
        assert resident_kb(index_path) <= 8  # opened, checked: nothing kept
        found = [suggester.for_article(i) for i in ws.catalog().ids]
        assert any(found)  # (the lookups did read the index)
        assert resident_kb(index_path) <= 8, resident_kb(index_path)
        suggester.tagged.index.votes("x")  # and it is read again as it was
        assert os.path.getsize(index_path) > 0
    finally:
        ws.close()
