"""``Problem``: one thing wrong with a repository, as data (where, what, and a stable code).

Stages, pipelines, builds (what the native reader cannot follow) and ``pipelines check``
findings carry ``Problem`` records; only the CLI turns them into text (``str(problem)``
is the classic ``file:line: message`` line) and JSON (``problem.to_dict()``).  Nothing
parses a message back into its parts.

Codes: ``manifest`` and ``kustomize`` (a ``ManifestError``/``KustomizeError``), ``label``
(a bad ``pipelines.weave.works/*`` label), ``stage-path`` (a stage directory that cannot be
used), ``duplicate-stage`` (two stages of a pipeline with one name), ``unsupported`` (what
the native reader cannot follow), ``error`` (any other error, without a place); a
``pipelines check`` finding's code is its rule.  ``promoter.checkrules`` maps every code to
a check rule (a new code needs a rule there, or an entry in its ``LIBRARY_CODES``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DUPLICATE_STAGE = "duplicate-stage"
"""The code of two stages with one name: placed at the later declaring file, its message
names the pipeline and every declaring file, so its text form is the message alone."""


@dataclass(frozen=True)
class Problem:
    """A problem at a place: repo-relative ``file``, 1-based ``line``, 0-based ``column``
    (each None when unknown), a one-line ``message`` and a stable ``code``."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    code: str = "error"

    @property
    def location(self) -> str:
        """``file:line``, ``file`` or ``""``."""
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def __str__(self) -> str:
        where = self.location
        return f"{where}: {self.message}" if where else self.message

    @property
    def text(self) -> str:
        """The one line people read: ``str(self)``, but the message alone for a problem
        whose message already says where (``DUPLICATE_STAGE``)."""
        return self.message if self.code == DUPLICATE_STAGE else str(self)

    def to_dict(self) -> dict[str, Any]:
        """``{"file", "line", "column", "message", "code"}``."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "code": self.code,
        }
