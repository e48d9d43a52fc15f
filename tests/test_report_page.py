"""The report page in a real headless browser: everything of ``status`` on it, nothing
injected, nothing loaded from outside its directory, no overflow on a phone."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.builders.browser import Browser, Page, require_chromium
from tests.builders.history import copy_story, shared_story
from tests.builders.report_repos import (
    APP,
    AUTHOR,
    DEV,
    DIGEST,
    LONG_TAG,
    PIPELINE,
    PROD,
    SECRET,
    make_hostile_repo,
)

ASSETS_PATHS = ("assets/report.css", "assets/favicon.svg")
DOCS = Path(__file__).resolve().parent.parent / "docs"
GITHUB = "https://github.com/acme/gitops"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Browser:
    """Headless chromium with a throwaway profile (fails in CI, skips elsewhere, if missing)."""
    return Browser(require_chromium(), tmp_path_factory.mktemp("chromium-profile"))


def _report(repo: Path, dest: Path) -> tuple[Path, dict]:
    """Write the page of ``repo`` into ``dest``; its index.html and ``status -o json``."""
    runner = CliRunner()
    done = runner.invoke(app, ["report", "--html", str(dest), "--repo", str(repo)])
    assert done.exit_code == 0, done.output
    status = runner.invoke(app, ["status", "-o", "json", "--repo", str(repo)])
    return dest / "index.html", json.loads(status.stdout)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The page of the example repository with its story (promotions, automation, a
    rollback), on a GitHub remote."""
    root = tmp_path_factory.mktemp("example")
    story = copy_story(shared_story(tmp_path_factory), root / "story")
    story.ops.git("remote", "set-url", "origin", f"{GITHUB}.git")
    return _report(story.ops.work, root / "site")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The page of the generated repository: hostile names, long versions, long history."""
    root = tmp_path_factory.mktemp("hostile")
    return _report(make_hostile_repo(root / "repo"), root / "site")


def _everything_of_status(status: dict) -> set[str]:
    """Every pipeline, stage, app (``Kind/name``) and version (and image) status names."""
    found = set()
    for pipeline in status["pipelines"]:
        found.add(pipeline["name"])
        for stage in pipeline["stages"]:
            found.add(stage["name"])
            for a in stage["apps"]:
                found.update({f"{a['kind']}/{a['name']}", a["version"]})
                found.update(i["image"] for i in a["images"])
    return found


def _missing(page: Page, wanted: set[str]) -> set[str]:
    text = page.text
    titles = set(page.titles)
    return {w for w in wanted if w not in text and w not in titles}


@pytest.mark.parametrize("which", ["example", "hostile"])
def test_every_app_stage_and_version_is_on_the_page(
    which: str, browser: Browser, request: pytest.FixtureRequest
) -> None:
    """Every pipeline, stage, app, version and image of ``status -o json`` is in the page as
    the browser shows it, and in the HTML itself (readable with scripts off)."""
    index, status = request.getfixturevalue(which)
    wanted = _everything_of_status(status)
    assert len(wanted) > 5
    assert _missing(Page.parse(browser.dom(index)), wanted) == set()
    assert _missing(Page.parse(index.read_text(encoding="utf-8")), wanted) == set()


def test_hostile_names_come_out_as_text(hostile: tuple[Path, dict], browser: Browser) -> None:
    """Markup in pipeline, stage and app names, gate reasons, commit subjects and authors
    is text: the DOM has our one inline script and no injected element or handler."""
    index, _ = hostile
    page = Page.parse(browser.dom(index))
    scripts = page.tags("script")
    assert len(scripts) == 1
    assert scripts[0].get("src") is None
    assert page.tags("img") == page.tags("svg") == []
    handlers = [
        (tag, name) for tag, attrs in page.elements for name in attrs if name.startswith("on")
    ]
    assert handlers == []
    for text in (PIPELINE, DEV, PROD, APP, "(<b>forever</b>)", "<script>alert(6)</script>"):
        assert text in page.text
    assert AUTHOR in page.text
    assert SECRET not in index.read_text(encoding="utf-8")


def test_long_versions_are_shortened_with_the_full_value_kept(
    hostile: tuple[Path, dict], browser: Browser
) -> None:
    """Digests and long tags show shortened, with the whole value in the title and the text."""
    index, _ = hostile
    page = Page.parse(browser.dom(index))
    codes = [a for a in page.tags("code") if a.get("title") in (DIGEST, LONG_TAG)]
    assert {a["title"] for a in codes} == {DIGEST, LONG_TAG}
    assert DIGEST in page.text


def test_links_point_at_the_file_and_line_at_the_commit(
    example: tuple[Path, dict], browser: Browser
) -> None:
    """Each version links to its file and line at the commit on GitHub; history links
    commits and pull requests."""
    index, status = example
    page = Page.parse(browser.dom(index))
    hrefs = {str(a["href"]) for a in page.tags("a") if a.get("href")}
    sha = [h for h in hrefs if h.startswith(f"{GITHUB}/commit/")]
    assert sha
    source = status["pipelines"][1]["stages"][0]["apps"][0]["source"]
    head = next(
        t["title"].split()[-1]
        for t in page.tags("a")
        if str(t.get("title", "")).startswith(f"{source['file']}:{source['line']} at commit")
    )
    assert any(
        h.startswith(f"{GITHUB}/blob/{head}") and h.endswith(f"/{source['file']}#L{source['line']}")
        for h in hrefs
    )
    assert any(h.startswith(f"{GITHUB}/pull/") for h in hrefs)


@pytest.mark.parametrize("which", ["example", "hostile"])
@pytest.mark.parametrize("width", [390, 1280])
def test_nothing_leaves_the_directory_and_nothing_overflows(
    which: str, width: int, browser: Browser, request: pytest.FixtureRequest
) -> None:
    """Every request the page makes is a file in its own directory, its only script is
    inline, and the page is no wider than the window (390 px: a phone)."""
    index, _ = request.getfixturevalue(which)
    probe = browser.probe(index, width)
    base = probe["base"]
    assert probe["resources"] == [base + "assets/report.css"]
    page = "/" + base.split("/", 3)[3]
    assert f"{page}assets/report.css" in probe["served"]
    assert set(probe["served"]) <= {
        f"{page}{p}" for p in ("frame.html", "probe.html", *ASSETS_PATHS)
    }
    assert [s for s in probe["scripts"] if s] == []
    assert probe["filterShown"] is True
    assert probe["innerWidth"] == width
    assert probe["scrollWidth"] <= probe["innerWidth"]
    static = Page.parse(index.read_text(encoding="utf-8"))
    loaded = [a.get("href") for a in static.tags("link")] + [
        a.get("src") for a in static.tags("script")
    ]
    assert loaded == ["assets/favicon.svg", "assets/report.css", None]
    assert static.by_id.get("filter") is not None
    assert ("div", {"class": "filter", "id": "filter", "hidden": None}) in static.elements


def test_screenshots_at_laptop_and_phone_width(
    example: tuple[Path, dict], browser: Browser, tmp_path: Path
) -> None:
    """The page renders to a screenshot at 1280 and 390 px; with UPDATE_SCREENSHOTS=1 they
    replace docs/report-1280.png and docs/report-390.png."""
    index, _ = example
    for width, height in ((1280, 900), (390, 844)):
        shot = browser.screenshot(index, tmp_path / f"report-{width}.png", width, height)
        assert shot.stat().st_size > 10_000
        if os.environ.get("UPDATE_SCREENSHOTS"):
            DOCS.mkdir(exist_ok=True)
            shutil.copyfile(shot, DOCS / shot.name)
