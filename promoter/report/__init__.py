"""``pipelines report``: a static release overview page (and its JSON) of a repository.

``collect_report`` reads everything once (``data``); ``write_html`` renders the page with
Jinja2 into a directory (``html``, which alone imports Jinja2); ``report_dict`` in
``promoter.serialize`` is the same data as JSON.
"""

from __future__ import annotations

from pathlib import Path

from promoter.report.data import Block, Cell, Matrix, Pending, Release, Report, Row, collect_report
from promoter.report.forge import ForgeLinks, forge_links

__all__ = [
    "Block",
    "Cell",
    "ForgeLinks",
    "Matrix",
    "Pending",
    "Release",
    "Report",
    "Row",
    "collect_report",
    "forge_links",
    "render_html",
    "write_html",
]


def render_html(report: Report) -> str:
    """The page's HTML (see ``promoter.report.html``)."""
    from promoter.report import html

    return html.render_html(report)


def write_html(report: Report, dest: str | Path) -> Path:
    """Write the page into directory ``dest`` atomically; the path of its ``index.html``."""
    from promoter.report import html

    return html.write_html(report, dest)
