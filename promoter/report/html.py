"""The release overview as a static page: ``DIR/index.html`` and ``DIR/assets/``.

Rendered with Jinja2 (imported only here) with autoescaping on for every value, since
app, stage and author names and commit subjects come from the repository.  The page loads
nothing but its own stylesheet; its one small script (sorting and filtering, inlined and
allowed by hash in the page's Content-Security-Policy) only adds to a page that reads fully
without it.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import tempfile
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from promoter.errors import PromoterError

if TYPE_CHECKING:
    from markupsafe import Markup

    from promoter.report.data import Report

ASSETS = ("report.css", "favicon.svg")
"""The files of ``DIR/assets/``, shipped in ``promoter/report/assets/``."""

_OURS = frozenset({"index.html", "assets"})
_LONG = 24


def render_html(report: Report) -> str:
    """The page's HTML."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("promoter.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["moment"] = _moment
    script = _package_text("templates", "report.js").strip()
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    template = env.get_template("index.html.j2")
    return template.render(
        report=report,
        version=version_html,
        script=_trusted(script),
        script_hash=f"sha256-{digest}",
    )


def version_html(value: str | None) -> Markup:
    """A version as ``<code>``; a long one (a digest, a commit SHA) is shortened on screen,
    with the whole value in its title and in text for screen readers and search."""
    from markupsafe import Markup, escape

    if value is None:
        return Markup('<span class="muted">(none)</span>')
    if len(value) <= _LONG:
        return Markup('<code class="v">{}</code>').format(value)
    short = value[: _LONG - 8] + "…" + value[-6:]
    return Markup(
        '<code class="v" title="{full}"><span aria-hidden="true">{short}</span>'
        '<span class="sr">{full}</span></code>'
    ).format(full=escape(value), short=short)


def write_html(report: Report, dest: str | Path) -> Path:
    """Write the page into directory ``dest`` (created, or replaced when it holds an
    earlier report) atomically: everything is written into a new directory next to it,
    which then takes its place.  Returns the path of ``index.html``."""
    target = Path(dest)
    _check_target(target)
    page = render_html(report)
    parent = target.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".new", dir=parent))
    try:
        (fresh / "index.html").write_text(page, encoding="utf-8")
        assets = fresh / "assets"
        assets.mkdir()
        for name in ASSETS:
            (assets / name).write_text(_package_text("assets", name), encoding="utf-8")
        fresh.chmod(0o755)  # mkdtemp's 0700 would hide the page from a web server
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=parent))
            target.replace(old / target.name)
            fresh.replace(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            fresh.replace(target)
    except OSError as exc:
        shutil.rmtree(fresh, ignore_errors=True)
        raise PromoterError(f"{target}: cannot write the report: {exc.strerror or exc}") from exc
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return target / "index.html"


def _check_target(target: Path) -> None:
    """Refuse to replace anything but an earlier report (``--html .`` must not wipe a repo)."""
    if not target.exists():
        return
    if not target.is_dir():
        raise PromoterError(f"{target}: exists and is not a directory; the report is a directory")
    others = sorted(p.name for p in target.iterdir() if p.name not in _OURS)
    if others:
        listed = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise PromoterError(
            f"{target}: holds files that are not an earlier report ({listed}); "
            "give a new or empty directory"
        )


def _package_text(folder: str, name: str) -> str:
    resource = resources.files("promoter.report").joinpath(folder).joinpath(name)
    return resource.read_text(encoding="utf-8")


def _trusted(text: str) -> Markup:
    """Text of the package itself (the inline script), not of the repository."""
    from markupsafe import Markup

    return Markup(text)


def _moment(value: str) -> str:
    """``2026-11-22T03:05:04+00:00`` -> ``2026-11-22 03:05 UTC`` (other offsets kept)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    zone = moment.strftime("%z")
    label = "UTC" if zone in ("", "+0000") else f"UTC{zone[:3]}:{zone[3:]}"
    return f"{moment:%Y-%m-%d %H:%M} {label}"
