"""Two annotators save into one workspace at the same time; killing one never hurts the other."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from store import Workspace

ARTICLE = "52f015e52f40b84e"
SAVER = """
import sys
from store import Workspace
ws = Workspace.open(sys.argv[1])
notes = ws.annotations(sys.argv[2])
import re
words = [m.span() for m in re.finditer(r"\\w+", ws.article(sys.argv[3]).body)]
for i in range(int(sys.argv[4])):
    start, end = words[i % len(words)]
    record = notes.add_claim(sys.argv[3], start, end, note=str(i))
    print(record["id"], flush=True)
ws.close()
print("finished", flush=True)
"""


def saver(path: Path, name: str, count: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SAVER, str(path), name, ARTICLE, str(count)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_annotators_save_hundreds_concurrently(workspace_path: Path) -> None:
    procs = {name: saver(workspace_path, name, 300) for name in ("amina", "omar")}
    outputs = {name: p.communicate(timeout=300) for name, p in procs.items()}
    for name, (out, err) in outputs.items():
        assert procs[name].returncode == 0, err
        assert out.splitlines()[-1] == "finished"
    ws = Workspace.open(workspace_path)
    for name, (out, _) in outputs.items():
        returned = set(out.splitlines()[:-1])
        saved = {r["id"] for r in ws.annotations(name).all()}
        assert len(returned) == 300 and returned == saved


def test_killing_one_annotator_mid_save_does_not_stop_the_other(workspace_path: Path) -> None:
    victim = saver(workspace_path, "victim", 100_000)
    other = saver(workspace_path, "survivor", 200)
    assert victim.stdout is not None
    returned = [victim.stdout.readline().strip() for _ in range(20)]
    time.sleep(0.2)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    returned += [line.strip() for line in victim.stdout if line.strip()]
    out, err = other.communicate(timeout=300)
    assert other.returncode == 0, err
    assert out.splitlines()[-1] == "finished"
    ws = Workspace.open(workspace_path)
    assert len(ws.annotations("survivor").all()) == 200
    assert set(returned) <= {r["id"] for r in ws.annotations("victim").all()}
    # The killed process left its lock behind, if any: the next start is not blocked.
    again = saver(workspace_path, "victim", 3)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
