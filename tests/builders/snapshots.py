"""Snapshot files: the exact text a table prints, kept under ``tests/snapshots/``.

A test compares what it printed with ``tests/snapshots/<name>.txt``.  After an intended change
of the output, regenerate the files and review their diff:

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest -q -p no:randomly tests/test_tables.py
"""

from __future__ import annotations

import os
from pathlib import Path

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"
UPDATE = "UPDATE_SNAPSHOTS"


def snapshot(name: str, text: str) -> str:
    """The stored snapshot ``name`` to compare ``text`` with (``assert out == snapshot(...)``
    in the test, for pytest's diff); with ``UPDATE_SNAPSHOTS=1`` ``text`` is stored first."""
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get(UPDATE) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no snapshot {path.name}: run the test with {UPDATE}=1 and review it"
    return path.read_text(encoding="utf-8")
