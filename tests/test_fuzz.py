"""The ingest under fire: generated malformed and hostile files (tests/fuzz_files.py) through the real ingest.

Each file must end one of two ways: refused whole (ReadError: one sentence naming the file; the CLI exits 2) with the
store unchanged, or taken in with every problem row named and given its reasons. Never a traceback, and time and
memory bounded per file. CI runs a seeded sample (FUZZ_FILES, default 100); `make fuzz` runs 1,000.
"""

from __future__ import annotations

import collections
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
import traceback

import pytest
from conftest import ROOT
from fuzz_files import generate

from data import store
from data.ingest import pipeline
from data.ingest.reading import ReadError

FILES = int(os.environ.get("FUZZ_FILES", "100"))
SEED = int(os.environ.get("FUZZ_SEED", "20261204"))
SECONDS_PER_FILE = 20  # the largest generated file (2,000 extra rows, 600 columns) takes ~2 s here
MAX_RSS_GB = 3.0


@pytest.fixture(scope="module")
def fuzz_store(shipped_sqlite, tmp_path_factory):
    """A SQLite store with the shipped data, as on a first start (its own file: the writes are watched)."""
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite"
    shutil.copyfile(shipped_sqlite, path)
    return store.engine(f"sqlite:///{path}"), path


def dump(path) -> str:
    con = sqlite3.connect(path)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


def test_generated_files_are_refused_whole_or_row_by_row(fuzz_store, capsys):
    eng, path = fuzz_store
    watcher = sqlite3.connect(path)  # PRAGMA data_version changes when any other connection commits
    counts, failures = collections.Counter(), []
    started = time.perf_counter()
    for n, (name, data, kind, what) in enumerate(generate(SEED, FILES)):
        version = watcher.execute("PRAGMA data_version").fetchone()[0]
        before = dump(path) if n % 25 == 0 else None  # a full dump of every table, for a sample of the files
        t0 = time.perf_counter()
        try:
            report = pipeline.ingest(data, name, kind, eng=eng, user="fuzz")
        except ReadError as refused:
            counts["refused whole"] += 1
            message = str(refused)
            if not message.startswith(name) or "\n" in message or "Traceback" in message:
                failures.append((name, what, f"not one sentence naming the file: {message!r}"))
            if watcher.execute("PRAGMA data_version").fetchone()[0] != version or (before and dump(path) != before):
                failures.append((name, what, "the store changed although the file was refused"))
        except Exception:  # noqa: BLE001  (what this test exists to find)
            counts["tracebacks"] += 1
            failures.append((name, what, traceback.format_exc()[-1500:]))
        else:
            counts["stored" if report.batch_id else "already stored"] += 1
            counts["with row-level reasons"] += bool(report.issues)
            counts["problem rows"] += len(report.issues)
            for issue in report.issues:
                if issue.row < 1 or not issue.reasons or not all(r.strip() for r in issue.reasons):
                    failures.append((name, what, f"a problem row without its line or reason: {issue}"))
        elapsed = time.perf_counter() - t0
        counts["slowest ms"] = max(counts["slowest ms"], int(elapsed * 1000))
        if elapsed > SECONDS_PER_FILE:
            failures.append((name, what, f"took {elapsed:.1f} s"))
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    with capsys.disabled():
        print(
            f"\nfuzz: {FILES} files (seed {SEED}) in {time.perf_counter() - started:.0f} s, peak {peak_gb:.2f} GB: "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        )
    assert failures == [], [(n, w, why.strip().splitlines()[-1]) for n, w, why in failures]
    assert counts["tracebacks"] == 0 and counts["refused whole"] > 0 and counts["with row-level reasons"] > 0
    assert peak_gb < MAX_RSS_GB


def test_the_command_line_exits_0_or_2_with_one_sentence(fuzz_store, tmp_path):
    """A sample through `flask ingest` as an officer runs it: no traceback, and exit 2 leaves the store as it was."""
    _, path = fuzz_store
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "LOG_LEVEL": "WARNING"}
    codes = collections.Counter()
    watcher = sqlite3.connect(path)  # PRAGMA data_version changes when another process commits
    for name, data, kind, what in generate(SEED + 1, 8):
        file = tmp_path / name
        file.write_bytes(data)
        version = watcher.execute("PRAGMA data_version").fetchone()[0]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "app:server",
                "ingest",
                str(file),
                *(["--kind", kind] if kind else []),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        codes[done.returncode] += 1
        assert done.returncode in (0, 2), (name, what, done.stderr[-1000:])
        assert "Traceback" not in done.stdout + done.stderr, (name, what)
        if done.returncode == 2:
            assert done.stderr.strip().startswith(name) and len(done.stderr.strip().splitlines()) == 1, done.stderr
            assert watcher.execute("PRAGMA data_version").fetchone()[0] == version, (name, what)
    assert codes[2] > 0
