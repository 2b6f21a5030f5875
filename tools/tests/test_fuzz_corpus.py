"""The committed fuzz corpus (tools/fuzz/corpus) replayed through every fuzz target in an ordinary
build: each input once crashed a target or seeds one, so none may crash Plumb again."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUZZ = Path(os.environ.get("PLUMB_BUILD_DIR", ROOT / ".build" / "debug")) / "plumb-fuzz"
CORPUS = ROOT / "tools" / "fuzz" / "corpus"
TARGETS = ["sql", "toml", "json", "response", "request", "upstream", "segment", "wal", "page", "frame", "export", "control", "cloud"]


def test_every_target_has_a_corpus():
    listed = subprocess.run([FUZZ, "list"], capture_output=True, text=True, check=True).stdout
    assert [line.split("\t")[0] for line in listed.splitlines()] == TARGETS
    for t in TARGETS:
        assert any((CORPUS / t).iterdir()), t


@pytest.mark.parametrize("target", TARGETS)
def test_the_corpus_replays_without_a_crash(target):
    r = subprocess.run([FUZZ, "replay", target, CORPUS / target], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    n = len(list((CORPUS / target).iterdir()))
    assert f"{target}: {n} inputs, no crash" in r.stdout
