"""A real headless browser (Debian's ``chromium``) for the report page tests: the DOM after
scripts ran, screenshots, and a probe of what the page measured and loaded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)

# Injected into a test copy of the page only: after load, write what the page measured and
# every resource it requested into the DOM, where --dump-dom shows it.
PROBE = """<script>
window.addEventListener("load", function () {
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    resources: performance.getEntriesByType("resource").map(function (e) { return e.name; }),
    scripts: Array.prototype.map.call(document.scripts, function (s) { return s.src; }),
    filterShown: !document.getElementById("filter").hidden
  });
  var host = window.parent !== window ? window.parent.document : document;
  host.body.appendChild(out);
});
</script>"""

FRAME = """<!doctype html><html><head><link rel="icon" href="assets/favicon.svg"></head>
<body style="margin:0">
<iframe src="probe.html" width="{width}" height="{height}" style="border:0;display:block"></iframe>
</body></html>"""


def require_chromium() -> str:
    """Path of ``chromium``; without it the test fails in CI and is skipped elsewhere."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        message = "chromium is not on PATH: the report page tests load the page in it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


class Browser:
    """One chromium binary and a throwaway profile directory."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.binary = binary
        self.profile = profile

    def _run(self, *args: str) -> str:
        done = subprocess.run(
            [self.binary, *FLAGS, f"--user-data-dir={self.profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def dom(self, page: Path | str, width: int = 1280, height: int = 900) -> str:
        """The page's DOM after its scripts ran, at a window of ``width`` x ``height``."""
        return self._run(
            f"--window-size={width},{height}",
            "--virtual-time-budget=3000",
            "--dump-dom",
            page if isinstance(page, str) else page.as_uri(),
        )

    def screenshot(self, page: Path, dest: Path, width: int, height: int) -> Path:
        """A PNG of the page's first screen at a window of ``width`` x ``height``."""
        self._run(
            f"--window-size={width},{height}",
            "--virtual-time-budget=3000",
            f"--screenshot={dest}",
            page.as_uri(),
        )
        assert dest.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        return dest

    def probe(self, page: Path, width: int, height: int = 844) -> dict[str, Any]:
        """What the page measured and requested: a copy of the page (next to it, so the
        same relative assets load) with ``PROBE`` injected and its Content-Security-Policy
        removed, so a stray request would be made and seen rather than blocked.  The page's
        parent directory is served over local HTTP (resource timing does not see file://
        loads); ``served`` lists every path the server was asked for."""
        html = page.read_text(encoding="utf-8")
        start = html.index('<meta http-equiv="Content-Security-Policy"')
        html = html[:start] + html[html.index(">", start) + 1 :]
        copy = page.with_name("probe.html")
        copy.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
        # Headless chromium's window is at least 500 px wide: a phone's width is an iframe.
        frame = page.with_name("frame.html")
        frame.write_text(FRAME.format(width=width, height=height), encoding="utf-8")
        try:
            with serve(page.parent.parent) as (base, served):
                dom = self.dom(f"{base}/{page.parent.name}/{frame.name}", max(width, 1280), height)
        finally:
            copy.unlink()
            frame.unlink()
        found = Page.parse(dom).by_id.get("probe")
        assert found is not None, "the probe did not run"
        data: dict[str, Any] = json.loads(found)
        data["base"] = f"{base}/{page.parent.name}/"
        data["served"] = served
        return data


@contextmanager
def serve(directory: Path) -> Iterator[tuple[str, list[str]]]:
    """``directory`` over HTTP on a free 127.0.0.1 port: its base URL and the request log."""
    served: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            served.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"})


class Page(HTMLParser):
    """A parsed page: its elements (tag, attributes), its text, and text by element id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []
        self.by_id: dict[str, str] = {}
        self._open_ids: list[tuple[str, str]] = []

    @classmethod
    def parse(cls, html: str) -> Page:
        """Parse ``html``."""
        page = cls()
        page.feed(html)
        page.close()
        return page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record the element; remember an open element with an id for its text."""
        values = dict(attrs)
        self.elements.append((tag, values))
        if values.get("id") and tag not in _VOID:
            self._open_ids.append((tag, str(values["id"])))
            self.by_id[str(values["id"])] = ""

    def handle_endtag(self, tag: str) -> None:
        """Close the innermost element with an id of that tag."""
        for index in range(len(self._open_ids) - 1, -1, -1):
            if self._open_ids[index][0] == tag:
                del self._open_ids[index:]
                break

    def handle_data(self, data: str) -> None:
        """Collect text (also for every open element with an id)."""
        self.texts.append(data)
        for _, name in self._open_ids:
            self.by_id[name] += data

    @property
    def text(self) -> str:
        """All text, whitespace collapsed."""
        return " ".join(" ".join(self.texts).split())

    @property
    def titles(self) -> list[str]:
        """Every ``title`` attribute."""
        return [str(a["title"]) for _, a in self.elements if a.get("title")]

    def tags(self, name: str) -> list[dict[str, str | None]]:
        """Attributes of every element ``name``."""
        return [a for tag, a in self.elements if tag == name]
