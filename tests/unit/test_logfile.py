"""Reading CRI log files: every option, across a rotation, without loading the file."""

from __future__ import annotations

import os
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from podyard.domain.streams import LogQuery, utf8_safe_split
from podyard.runtime.logfile import LogKeeper, read

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def write(path: Path, lines: list[tuple[int, str, str]]) -> None:
    with path.open("a") as f:
        for second, tag, text in lines:
            f.write(f"{(T0 + timedelta(seconds=second)).isoformat()} stdout {tag} {text}\n")


def test_partial_lines_and_options(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write(log, [(0, "F", "a"), (1, "P", "long-"), (1, "P", "line-"), (1, "F", "end"), (2, "F", "b"), (3, "F", "c")])
    assert read(log, LogQuery()) == b"a\nlong-line-end\nb\nc\n"
    assert read(log, LogQuery(tail_lines=3)) == b"long-line-end\nb\nc\n"
    assert read(log, LogQuery(tail_lines=1)) == b"c\n"
    assert read(log, LogQuery(since=T0 + timedelta(seconds=2))) == b"b\nc\n"
    assert read(log, LogQuery(until=T0 + timedelta(seconds=1))) == b"a\nlong-line-end\n"
    assert read(log, LogQuery(since=T0 + timedelta(seconds=1), until=T0 + timedelta(seconds=2), tail_lines=1)) == b"b\n"
    assert read(log, LogQuery(limit_bytes=3)) == b"a\nl"
    assert read(log, LogQuery(tail_lines=0)) == b""
    assert read(tmp_path / "missing.log", LogQuery()) == b""


def test_rotated_file_comes_first(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write(tmp_path / "app.log.1", [(0, "F", "old")])
    write(log, [(5, "F", "new")])
    assert read(log, LogQuery()) == b"old\nnew\n"
    assert read(log, LogQuery(tail_lines=2)) == b"old\nnew\n"


def test_a_tail_of_a_big_log_reads_little(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    line = (T0.isoformat() + " stdout F " + "x" * 90 + "\n").encode()
    with log.open("wb") as f:
        f.write(line * 110_000)  # ~12 MB
        f.write((T0 + timedelta(seconds=9)).isoformat().encode() + b" stdout F last\n")
    tracemalloc.start()
    assert read(log, LogQuery(tail_lines=2)) == b"x" * 90 + b"\nlast\n"
    assert read(log, LogQuery(since=T0 + timedelta(seconds=5))) == b"last\n"
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert os.path.getsize(log) > 10_000_000 and peak < 1_000_000


def test_keeper_keeps_what_conmon_replaces(tmp_path: Path) -> None:
    keeper = LogKeeper(tmp_path)
    log = tmp_path / "pod-1" / "app.log"
    keeper.prepare(log)
    write(log, [(0, "F", "before rotation")])
    # conmon's rotation: a new file renamed over the full one.
    tmp = log.with_name("app.log.tmp")
    write(tmp, [(1, "F", "after")])
    os.replace(tmp, log)
    keeper.keep()
    assert read(log, LogQuery()) == b"before rotation\nafter\n"


def test_utf8_split_points() -> None:
    euro = "€".encode()  # 3 bytes
    assert utf8_safe_split(b"abc") == 3
    assert utf8_safe_split(b"ab" + euro[:1]) == 2
    assert utf8_safe_split(b"ab" + euro[:2]) == 2
    assert utf8_safe_split(b"ab" + euro) == 5
    assert utf8_safe_split(b"\xff\xfe") == 2  # not UTF-8: nothing held back
