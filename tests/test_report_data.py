"""``pipelines report``'s data, JSON and directory handling (no browser needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from promoter.report import collect_report, write_html
from promoter.report.forge import forge_links
from promoter.serialize import history_dict, report_dict, status_dict
from tests.builders.git import make_gitops
from tests.builders.report_repos import DEV, PIPELINE, PROD, SECRET, make_hostile_repo


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated repository with hostile names, long versions and a long history."""
    return make_hostile_repo(tmp_path_factory.mktemp("report") / "hostile")


def test_forge_links_github() -> None:
    """A GitHub remote (any form, credentials dropped) links files at a commit and line,
    commits and pull requests."""
    forge = forge_links("https://user:tok@github.com/acme/ops.git")
    assert forge is not None
    assert forge.file("abc", "env/dev/a b.yaml", 7) == (
        "https://github.com/acme/ops/blob/abc/env/dev/a%20b.yaml#L7"
    )
    assert forge.commit("abc") == "https://github.com/acme/ops/commit/abc"
    assert forge.change_request(5) == "https://github.com/acme/ops/pull/5"
    assert forge_links("git@github.com:acme/ops.git") == forge


def test_forge_links_gitlab() -> None:
    """A GitLab remote (nested groups) links with GitLab's ``/-/`` paths and merge requests."""
    forge = forge_links("ssh://git@gitlab.com/group/sub/project.git")
    assert forge is not None
    assert (
        forge.file("abc", "f.yaml", 3)
        == "https://gitlab.com/group/sub/project/-/blob/abc/f.yaml#L3"
    )
    assert forge.commit("abc") == "https://gitlab.com/group/sub/project/-/commit/abc"
    assert forge.change_request(9) == "https://gitlab.com/group/sub/project/-/merge_requests/9"


def test_forge_links_other_hosts() -> None:
    """A remote on neither forge (or none) gets no links."""
    assert forge_links("https://bitbucket.org/a/b.git") is None
    assert forge_links("/srv/git/ops.git") is None
    assert forge_links(None) is None


def test_json_is_the_union_of_status_pending_and_history(temp: Path, tmp_path: Path) -> None:
    """``report -o json`` carries status's ``pipelines``, history's ``entries`` (plus links
    and subjects) and the pending promotions of every adjacent stage pair."""
    ops = make_gitops(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["report", "-o", "json", "--repo", str(ops.work)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    status = json.loads(
        runner.invoke(app, ["status", "-o", "json", "--repo", str(ops.work)]).stdout
    )
    history = json.loads(
        runner.invoke(app, ["history", "-o", "json", "--repo", str(ops.work)]).stdout
    )
    assert status["pipelines"] == data["pipelines"]
    extra = {"subject", "commit_url", "pull_request_url"}
    assert history["entries"] == [
        {k: v for k, v in e.items() if k not in extra} for e in data["entries"]
    ]
    pairs = [(p["pipeline"], p["from"], p["to"]) for p in data["pending"]]
    assert pairs == [
        ("platform", "dev", "staging"),
        ("platform", "staging", "prod"),
        ("web", "dev", "staging"),
        ("web", "staging", "prod"),
    ]
    web = data["pending"][2]
    assert {(m["name"], m["old_version"], m["new_version"]) for m in web["moves"]} == {
        ("nginx", "1.22.0", "1.23.1"),
        ("shop", "1.4.0", "1.4.2"),
    }
    assert web["blocked_by"] == []
    assert data["commit"] == ops.git("rev-parse", "HEAD")
    assert data["forge"] is None  # the remote is a local path


def test_gates_block_pending_promotions(hostile: Path) -> None:
    """A soak gate says until when each app must stay; a freeze window says until when the
    target is frozen and why."""
    report = collect_report(hostile)
    (pending,) = report.pending
    assert (pending.pipeline, pending.source, pending.target) == (PIPELINE, DEV, PROD)
    gates = sorted((b.gate, b.until) for b in pending.blocks)
    assert gates == [
        ("freeze", "2100-01-01T00:00+00:00"),
        ("soak", "2026-12-13T02:00+00:00"),
        ("soak", "2027-01-02T02:00+00:00"),
    ]
    assert "(<b>forever</b>)" in next(b.message for b in pending.blocks if b.gate == "freeze")


def test_history_links_and_redacted_remote(hostile: Path) -> None:
    """History entries link their commit and pull request on GitHub; the remote is shown
    without its credential, and ``since`` keeps only later releases."""
    report = collect_report(hostile)
    newest = report.history[0]
    assert newest.commit_url == f"https://github.com/acme/gitops/commit/{newest.entry.commit}"
    assert newest.pull_request_url == "https://github.com/acme/gitops/pull/41"
    assert newest.entry.subject.startswith("Bump <img")
    assert report.remote == "https://***@github.com/acme/gitops.git"
    assert SECRET not in json.dumps(report_dict(report))
    from datetime import datetime, timezone

    later = collect_report(hostile, since=datetime(2026, 11, 20, tzinfo=timezone.utc))
    assert [r.entry.date for r in later.history] == [
        "2026-11-21T10:00:00+00:00",
        "2026-11-20T11:00:00+00:00",
        "2026-11-20T10:00:00+00:00",
    ]
    assert len(report.history) == 44  # 40 moves in dev, and both apps appearing in both stages


def test_status_and_history_parts_match_their_commands(hostile: Path) -> None:
    """The JSON's ``pipelines`` and ``entries`` are built by the same functions as those of
    ``status`` and ``history``."""
    import promoter

    report = collect_report(hostile)
    data = report_dict(report)
    assert data["pipelines"] == status_dict(promoter.status(hostile))["pipelines"]
    entries = history_dict(promoter.list_history(hostile))["entries"]
    assert [e["commit"] for e in data["entries"]] == [e["commit"] for e in entries]


def test_write_replaces_an_earlier_report_and_refuses_other_directories(
    hostile: Path, tmp_path: Path
) -> None:
    """The page replaces an earlier report in one rename, leaves no temporary directory, and
    refuses a directory holding anything else (``--html .`` must not wipe a repository)."""
    report = collect_report(hostile)
    dest = tmp_path / "site"
    index = write_html(report, dest)
    (dest / "assets" / "stale.css").write_text("old", encoding="utf-8")
    assert write_html(report, dest) == index
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert sorted(p.name for p in (dest / "assets").iterdir()) == ["favicon.svg", "report.css"]
    assert index.read_text(encoding="utf-8").startswith("<!doctype html>")
    from promoter.errors import PromoterError

    with pytest.raises(PromoterError, match="not an earlier report"):
        write_html(report, hostile)
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(PromoterError, match="not a directory"):
        write_html(report, tmp_path / "file")


def test_cli_writes_the_page_and_needs_an_output(hostile: Path, tmp_path: Path) -> None:
    """``report --html DIR`` writes DIR/index.html and says so; without --html or -o json it
    is a usage error (exit 2); a bad --since is one line, exit 1."""
    runner = CliRunner()
    dest = tmp_path / "out"
    done = runner.invoke(app, ["report", "--html", str(dest), "--repo", str(hostile)])
    assert done.exit_code == 0, done.output
    assert done.stdout == f"wrote {dest / 'index.html'}\n"
    assert (dest / "assets" / "report.css").is_file()
    usage = runner.invoke(app, ["report", "--repo", str(hostile)])
    assert usage.exit_code == 2
    assert "give --html DIR" in usage.stderr
    bad = runner.invoke(app, ["report", "-o", "json", "--since", "soon", "--repo", str(hostile)])
    assert bad.exit_code == 1
    assert "--since 'soon' is not a date" in bad.stderr
