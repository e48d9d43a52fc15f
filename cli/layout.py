"""Tables that stay readable at any width.

* Versions are abbreviated deliberately, never cut: a digest keeps its algorithm and 12 hex
  digits (``sha256:0a1b2c3d4e5f…``), a 40-hex commit SHA keeps 12 (as ``git`` shortens it),
  longer when 12 would make two different values of one table look alike.
* A status grid (apps as rows, stages as columns) is printed side by side when it fits the
  width; otherwise stages become rows (``app | stage | version``, one block per app), whose
  cells wrap rather than being cut.
* ``wide`` prints everything in full, side by side, whatever the width.
* A legend lists only the symbols the table uses.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.table import Column, Table
from rich.text import Text

if TYPE_CHECKING:
    from promoter.history import HistoryEntry
    from promoter.promotion import AppMove, Change, PromotionPlan

SHORT_HEX = 12
"""Hex digits kept of a digest or a commit SHA."""

WIDE_WIDTH = 10_000
"""Width of ``-o wide`` output: nothing is ever squeezed, wrapped or abbreviated."""

MIN_SQUEEZED = {"author": 16, "change": 32}
"""No history column is squeezed below this: the entries become blocks of lines instead."""

_DIGEST = re.compile(r"\b(sha256|sha384|sha512):([0-9a-f]{16,})")
_HEX = re.compile(r"(?<![0-9a-f])[0-9a-f]{40,}(?![0-9a-f])")


def shorten(value: str, digits: int = SHORT_HEX) -> str:
    """``value`` with every digest cut to ``algo:`` + ``digits`` hex + ``…`` and every run of
    40 or more hex digits (a commit SHA) cut to ``digits`` (``…`` marks a longer run)."""

    def digest(match: re.Match[str]) -> str:
        algo, hexes = match.group(1), match.group(2)
        return match.group(0) if len(hexes) <= digits else f"{algo}:{hexes[:digits]}…"

    def sha(match: re.Match[str]) -> str:
        hexes = match.group(0)
        if len(hexes) <= digits:
            return hexes
        return hexes[:digits] if len(hexes) == 40 else f"{hexes[:digits]}…"

    return _HEX.sub(sha, _DIGEST.sub(digest, value))


def digits_for(values: Iterable[str]) -> int:
    """The fewest hex digits (at least 12) that keep every distinct value distinguishable."""
    distinct = set(values)
    digits = SHORT_HEX
    while digits < 64 and len({shorten(v, digits) for v in distinct}) < len(distinct):
        digits += 4
    return digits


def shorten_text(text: Text, digits: int = SHORT_HEX) -> Text:
    """``shorten`` applied to styled text, each styled piece on its own (styles kept)."""
    if shorten(text.plain, digits) == text.plain:
        return text
    offsets = sorted({span.start for span in text.spans} | {span.end for span in text.spans})
    result = Text(style=text.style, end=text.end)
    for piece in text.divide(offsets):
        short = Text(shorten(piece.plain, digits), style=piece.style)
        for span in piece.spans:
            if span.start < span.end:
                short.stylize(span.style, 0, len(short))
        result.append_text(short)
    return result


def width_of(text: Text | str) -> int:
    """Terminal cells the longest line of ``text`` takes."""
    plain = text.plain if isinstance(text, Text) else text
    return max((cell_len(line) for line in plain.split("\n")), default=0)


def table_width(columns: Sequence[int]) -> int:
    """Width of a boxed Rich table whose columns are this wide (1 blank each side)."""
    return sum(columns) + 3 * len(columns) + 1


def console(wide: bool) -> Console:
    """The console of a table command: ``wide`` never squeezes (colour still follows the
    terminal); otherwise the usual one (the terminal's width, or ``COLUMNS``)."""
    from cli.views import console as plain_console

    return Console(highlight=False, width=WIDE_WIDTH) if wide else plain_console()


def columns_env() -> int | None:
    """``COLUMNS`` when it is set to a positive number."""
    value = os.environ.get("COLUMNS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


# -- status grids -------------------------------------------------------------------------


Row = tuple[Text, Sequence[Text]]
"""A label (the app) and one cell per stage."""


@dataclass
class Grid:
    """Apps as rows, stages as columns; ``extra`` rows come after a rule (``cluster``)."""

    corner: str
    stages: Sequence[str]
    rows: list[Row] = field(default_factory=list)
    extra: list[Row] = field(default_factory=list)

    def cells(self) -> list[Text]:
        """Every cell, row by row."""
        return [cell for _, cells in [*self.rows, *self.extra] for cell in cells]


def render_grid(grid: Grid, width: int, *, wide: bool = False) -> Table:
    """The grid side by side when it fits ``width`` (or ``wide``), stages as rows otherwise;
    versions abbreviated unless ``wide``."""
    if not wide:
        digits = digits_for(cell.plain for cell in grid.cells())
        grid = Grid(
            grid.corner,
            grid.stages,
            [(label, [shorten_text(c, digits) for c in cells]) for label, cells in grid.rows],
            [(label, [shorten_text(c, digits) for c in cells]) for label, cells in grid.extra],
        )
    if wide or table_width(_side_by_side_widths(grid)) <= width:
        return _side_by_side(grid)
    return _stacked(grid, width)


def _side_by_side_widths(grid: Grid) -> list[int]:
    rows = [*grid.rows, *grid.extra]
    widths = [max([width_of(grid.corner), *(width_of(label) for label, _ in rows)])]
    for index, stage in enumerate(grid.stages):
        widths.append(max([width_of(stage), *(width_of(cells[index]) for _, cells in rows)]))
    return widths


def _side_by_side(grid: Grid) -> Table:
    table = Table()
    table.add_column(grid.corner, no_wrap=True)
    for stage in grid.stages:
        table.add_column(stage, no_wrap=True)
    for label, cells in grid.rows:
        table.add_row(label, *cells)
    if grid.extra:
        table.add_section()
        for label, cells in grid.extra:
            table.add_row(label, *cells)
    return table


def _stacked(grid: Grid, width: int) -> Table:
    """``app | stage | version``: one block of rows per app, the app named once; cells wider
    than their column wrap after a separator (``-``, ``.``, ``/``, ...), never cut."""
    groups = [*grid.rows, *grid.extra]
    app = max([width_of(grid.corner), *(width_of(label) for label, _ in groups)])
    stage = max([width_of("stage"), *(width_of(s) for s in grid.stages)])
    value = max([width_of("version"), *(width_of(c) for c in grid.cells())])
    widths = fit([app, stage, value], width)
    table = Table(
        *(
            Column(header, width=size, no_wrap=True, overflow="fold")
            for header, size in zip((grid.corner, "stage", "version"), widths, strict=True)
        )
    )
    for number, (label, cells) in enumerate(groups):
        for index, cell in enumerate(cells):
            end = index == len(cells) - 1 and number < len(groups) - 1
            table.add_row(
                wrap(label, widths[0]) if index == 0 else "",
                wrap(Text(grid.stages[index]), widths[1]),
                wrap(cell, widths[2]),
                end_section=end,
            )
    return table


def fit(natural: Sequence[int], width: int, *, fixed: Iterable[int] = ()) -> list[int]:
    """Column widths whose boxed table fits ``width``: the widest columns give up space first
    (every column shrunk lands on one common width), columns in ``fixed`` never."""
    keep = set(fixed)
    room = width - table_width([0] * len(natural)) - sum(natural[i] for i in keep)
    free = [i for i in range(len(natural)) if i not in keep]
    if sum(natural[i] for i in free) <= room:
        return list(natural)
    level = max(1, room // max(1, len(free)))
    while sum(min(natural[i], level + 1) for i in free) <= room:
        level += 1
    widths = list(natural)
    for i in free:
        widths[i] = min(natural[i], level)
    spare = room - sum(widths[i] for i in free)
    for i in free:  # what is left goes to the columns still cut, first come first served
        if spare > 0 and widths[i] < natural[i]:
            extra = min(spare, natural[i] - widths[i])
            widths[i] += extra
            spare -= extra
    return widths


_BREAK_AFTER = frozenset("-./:@_+ ,")


def wrap(text: Text, width: int) -> Text:
    """``text`` broken into lines of at most ``width`` cells, each after a separator when one
    is near (a version breaks after ``-``, ``.``, ``/``, ...), a symbol kept with what
    follows; a run without separators is broken at the width.  Nothing is dropped."""
    plain = text.plain
    if width <= 0 or cell_len(plain) <= width or "\n" in plain:
        return text
    lines: list[Text] = []
    start = 0
    while cell_len(plain[start:]) > width:
        end = start
        while end < len(plain) and cell_len(plain[start : end + 1]) <= width:
            end += 1
        # After a blank in the second half of the line, else after the last separator.
        blanks = [i + 1 for i in range(start + (end - start) // 2, end) if plain[i] == " "]
        marks = [i + 1 for i in range(start + 2, end) if plain[i] in _BREAK_AFTER]
        cut = max(blanks or marks or [end])
        line = text[start:cut]
        line.rstrip()
        lines.append(line)
        start = cut
        while start < len(plain) and plain[start] == " ":
            start += 1
    lines.append(text[start:])
    result = Text("\n").join(lines)
    result.style = text.style
    return result


def legend(
    entries: Mapping[str, str], cells: Iterable[Text], width: int = WIDE_WIDTH
) -> Text | None:
    """The legend pieces (``symbol text``) of the symbols some cell shows, in ``entries``
    order, as many on a line as fit ``width``; None when no cell shows any."""
    shown = [cell.plain for cell in cells]
    used = [text for symbol, text in entries.items() if any(symbol in s for s in shown)]
    return legend_text(used, width) if used else None


def legend_text(pieces: Sequence[str], width: int = WIDE_WIDTH) -> Text:
    """Legend pieces three blanks apart, as many on a line as fit ``width`` (a piece is
    split only when it alone is wider)."""
    lines: list[str] = []
    for piece in pieces:
        joined = f"{lines[-1]}   {piece}" if lines else piece
        if lines and cell_len(joined) <= width:
            lines[-1] = joined
        else:
            lines.append(piece)
    return Text("\n".join(lines), style="dim")


# -- plans ----------------------------------------------------------------------------------


def grouped_changes(
    plan: PromotionPlan,
) -> list[tuple[str, AppMove | None, list[Change]]]:
    """Each app that moves (in the plan's order) with the values written for it; values of
    an app that does not move (none today) follow under their own app."""
    groups: dict[str, tuple[AppMove | None, list[Change]]] = {
        move.key: (move, []) for move in plan.moves
    }
    for change in plan.changes:
        groups.setdefault(change.app, (None, []))[1].append(change)
    return [(key, move, changes) for key, (move, changes) in groups.items()]


# -- history --------------------------------------------------------------------------------

HISTORY_TITLE = "version history (newest first)"
HISTORY_COLUMNS = ("date", "pipeline/stage", "app", "change", "commit", "author", "PR")
_CHANGE = HISTORY_COLUMNS.index("change")


def history_rows(entries: Sequence[HistoryEntry], *, wide: bool = False) -> list[list[str]]:
    """One row of ``HISTORY_COLUMNS`` per entry; versions and commits abbreviated unless
    ``wide``."""
    rows = [
        [
            e.date[:16].replace("T", " "),
            f"{e.pipeline}/{e.stage}",
            e.key,
            f"{e.old_version or '-'} -> {e.new_version or '-'}",
            e.commit,
            e.author,
            f"#{e.pull_request}" if e.pull_request else "",
        ]
        for e in entries
    ]
    if not wide:
        digits = digits_for(v for row in rows for v in (row[_CHANGE], row[4]))
        for row in rows:
            row[_CHANGE] = shorten(row[_CHANGE], digits)
            row[4] = shorten(row[4], digits)
    return rows


def history_view(
    entries: Sequence[HistoryEntry], width: int, *, wide: bool = False
) -> list[RenderableType]:
    """The history as one table when it fits ``width`` (the change column may wrap), as one
    block of lines per entry otherwise (nothing cut); ``wide``: one table, everything in full."""
    rows = history_rows(entries, wide=wide)
    natural = [
        max([width_of(h), *(width_of(r[i]) for r in rows)]) for i, h in enumerate(HISTORY_COLUMNS)
    ]
    widths = natural if wide else _history_widths(natural, width)
    if widths is not None:
        table = Table(title=HISTORY_TITLE, title_justify="left")
        for column, size in zip(HISTORY_COLUMNS, widths, strict=True):
            table.add_column(column, no_wrap=True, overflow="fold", width=size)
        for row in rows:
            table.add_row(*(wrap(Text(v), size) for v, size in zip(row, widths, strict=True)))
        return [table]
    views: list[RenderableType] = [Text(HISTORY_TITLE)]
    for date, where, app, moved, commit, author, pr in rows:
        views.append(indented(Text(f"{date}  {where}  {app}", style="bold"), width, 0))
        views.append(indented(Text(moved), width, 2))
        by = f"commit {commit}  {author}" + (f"  {pr}" if pr else "")
        views.append(indented(Text(by, style="dim"), width, 2))
    return views


def _history_widths(natural: list[int], width: int) -> list[int] | None:
    """The history table's column widths within ``width``: the author wraps first, then the
    change; None when that leaves too little of them (the entries become blocks of lines)."""
    if table_width(natural) <= width:
        return natural
    for squeezable in (("author",), ("author", "change")):
        shrink = {HISTORY_COLUMNS.index(c) for c in squeezable}
        widths = fit(natural, width, fixed=[i for i in range(len(natural)) if i not in shrink])
        narrowest = {i: min(natural[i], MIN_SQUEEZED[HISTORY_COLUMNS[i]]) for i in shrink}
        if table_width(widths) <= width and all(widths[i] >= narrowest[i] for i in shrink):
            return widths
    return None


def indented(text: Text, width: int, indent: int) -> Text:
    """``text`` wrapped (``wrap``) to ``width`` with every line indented by ``indent``, and
    the lines after the first by two more."""
    first = wrap(text, width - indent)
    lines: list[Text] = list(first.split("\n"))
    if len(lines) > 1:
        rest = wrap(Text("\n").join(lines[1:]), width - indent - 2).split("\n")
        lines = [lines[0], *(Text("  ") + line for line in rest)]
    result = Text("\n").join(Text(" " * indent) + line for line in lines)
    result.overflow = "fold"
    return result
