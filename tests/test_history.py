"""Tests of ``history`` (promoter.history and ``pipelines history``) over real git histories:
promotions merged as pull requests, squash merges, Flux image automation, hand edits, a
rollback, stages and apps that come and go, a GitOps root in a subdirectory, empty repos."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from promoter import history
from promoter.errors import GitError, LookupFailed
from promoter.git import Commit, iter_commits
from promoter.history import HistoryEntry, HistoryWalker, list_history, read_history
from promoter.publish import PromotionRequest
from promoter.repo import GitOpsRepo
from tests.builders.git import git
from tests.builders.history import (
    FLUX_BOT,
    HAND,
    MERGER,
    SEEDER,
    STORY_DATES,
    Story,
    commit,
    copy_story,
    merge_pull_request,
    person,
    publish,
    replaced,
    seed,
    shared_story,
)

Row = tuple[Any, ...]

# HOME, TMPDIR and the git identity inside tmp_path (the ``temp`` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("temp")


@pytest.fixture
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    """The session's story (read only)."""
    return shared_story(tmp_path_factory)


@pytest.fixture
def own_story(story: Story, tmp_path: Path) -> Story:
    """A copy of the story this test may change."""
    return copy_story(story, tmp_path / "own")


def trailers(frm: str, to: str, version: str, *, origin: str | None = None) -> Row:
    """The ``Promoted-*`` trailers of one nginx move in pipeline web."""
    found: list[tuple[str, str]] = [
        ("Promoted-Pipeline", "web"),
        ("Promoted-From", frm),
        ("Promoted-To", to),
    ]
    if origin is not None:
        found.append(("Rollback-Of-Commit", origin))
    found += [("Promoted-App", "Deployment/nginx"), ("Promoted-Version", version)]
    return tuple(found)


def story_rows(story: Story) -> list[Row]:
    """Every entry of the story, oldest first, as (step, pipeline, stage, app, old, new,
    author, date, pull request, trailers)."""
    seeded = [
        ("platform", "dev", "HelmRelease/podinfo", "6.1.6"),
        ("platform", "dev", "CronJob/report", "2024.06.3"),
        ("platform", "dev", "Deployment/nginx", "1.23.1"),
        ("platform", "staging", "HelmRelease/podinfo", "6.0.0"),
        ("platform", "staging", "CronJob/report", "2024.06.1"),
        ("platform", "staging", "Deployment/nginx", "1.22.0"),
        ("platform", "prod", "HelmRelease/podinfo", "5.2.1"),
        ("platform", "prod", "CronJob/report", "2024.05.1"),
        ("platform", "prod", "Deployment/nginx", "1.21.6"),
        ("web", "dev", "Deployment/nginx", "1.23.1"),
        ("web", "dev", "Deployment/shop", "1.4.2"),
        ("web", "staging", "Deployment/nginx", "1.22.0"),
        ("web", "staging", "Deployment/shop", "1.4.0"),
        ("web", "prod", "Deployment/nginx", "1.21.6"),
        ("web", "prod", "Deployment/shop", "1.3.0"),
    ]
    seed_at = STORY_DATES["seed"]
    rows: list[Row] = [
        ("seed", p, s, key, None, version, person(SEEDER), seed_at, None, ())
        for p, s, key, version in seeded
    ]
    flux = person(FLUX_BOT)
    mona = person(MERGER)
    at = STORY_DATES
    rows += [
        (
            "automation",
            "platform",
            "dev",
            "Deployment/nginx",
            "1.23.1",
            "1.23.2",
            flux,
            at["automation"],
            None,
            (),
        ),
        (
            "automation",
            "web",
            "dev",
            "Deployment/nginx",
            "1.23.1",
            "1.23.2",
            flux,
            at["automation"],
            None,
            (),
        ),
        (
            "promote-staging",
            "web",
            "staging",
            "Deployment/nginx",
            "1.22.0",
            "1.23.2",
            mona,
            at["promote-staging"],
            7,
            trailers("dev", "staging", "1.23.2"),
        ),
        (
            "hand-edit",
            "web",
            "dev",
            "Deployment/shop",
            "1.4.2",
            "1.4.3",
            person(HAND),
            "2026-11-05T12:00:00+02:00",
            None,
            (),
        ),
        (
            "promote-prod",
            "web",
            "prod",
            "Deployment/nginx",
            "1.21.6",
            "1.23.2",
            mona,
            at["promote-prod"],
            12,
            trailers("staging", "prod", "1.23.2"),
        ),
        (
            "rollback-prod",
            "web",
            "prod",
            "Deployment/nginx",
            "1.23.2",
            "1.21.6",
            mona,
            at["rollback-prod"],
            13,
            trailers("prod", "prod", "1.21.6", origin=story.commits["seed"]),
        ),
    ]
    return rows


def row(story: Story, entry: HistoryEntry) -> Row:
    """An entry as a story row (its commit named by the story step that made it)."""
    steps = {sha: step for step, sha in story.commits.items()}
    return (
        steps.get(entry.commit, entry.commit),
        entry.pipeline,
        entry.stage,
        entry.key,
        entry.old_version,
        entry.new_version,
        entry.author,
        entry.date,
        entry.pull_request,
        entry.trailers,
    )


def newest_first(rows: list[Row]) -> list[Row]:
    """Rows grouped by commit, the newest commit first, each commit's rows in walk order."""
    steps = list(dict.fromkeys(r[0] for r in rows))
    return [r for step in reversed(steps) for r in rows if r[0] == step]


# -- the story ----------------------------------------------------------------------------


def test_read_history_is_every_change_oldest_first(story: Story) -> None:
    """read_history reports every effective version change, oldest first: promotions merged
    or squashed, Flux automation, a hand edit and a rollback; the README commit adds none."""
    assert [row(story, e) for e in read_history(story.ops.work)] == story_rows(story)


def test_history_is_newest_first(story: Story) -> None:
    """list_history() returns the same entries with the newest commit first."""
    got = [row(story, e) for e in list_history(story.ops.work)]
    assert got == newest_first(story_rows(story))
    assert got[0][0] == "rollback-prod"


def test_entry_carries_the_app_after_the_commit(story: Story) -> None:
    """An entry's state is the app as the stage deployed it after that commit."""
    entry = list_history(story.ops.work, "nginx", pipeline="web", stage="prod")[0]
    assert entry.state is not None
    assert (entry.state.key, entry.state.version, entry.state.namespace) == (
        "Deployment/nginx",
        "1.21.6",
        "web-prod",
    )
    assert [(i.container, str(i.image)) for i in entry.state.images] == [("nginx", "nginx:1.21.6")]
    assert entry.state.source is not None
    assert (entry.state.source.file, entry.state.source.line) == (
        "pipelines/web/prod/nginx-tag.yaml",
        10,
    )


@pytest.mark.parametrize(
    ("app_name", "options", "steps"),
    [
        ("nginx", {"pipeline": "web", "stage": "prod"}, ["rollback-prod", "promote-prod", "seed"]),
        ("Deployment/shop", {}, ["hand-edit", "seed", "seed", "seed"]),
        (None, {"pipeline": "platform", "stage": "dev"}, ["automation", "seed", "seed", "seed"]),
        (
            None,
            {"since": datetime(2026, 11, 5, 10, 0, tzinfo=timezone.utc)},
            ["rollback-prod", "promote-prod", "hand-edit"],
        ),
        (None, {"since": datetime(2026, 11, 5, 10, 0, 1)}, ["rollback-prod", "promote-prod"]),
        (None, {"max_count": 2}, ["rollback-prod", "promote-prod"]),
        ("nginx", {"stage": "dev", "max_count": 3}, ["automation", "automation", "seed"]),
        ("shop", {"pipeline": "platform"}, []),
    ],
    ids=[
        "app-stage",
        "kind-name",
        "pipeline-stage",
        "since-aware",
        "since-naive-is-utc",
        "max-count",
        "app-max-count",
        "nothing-matches",
    ],
)
def test_filters(
    story: Story, app_name: str | None, options: dict[str, Any], steps: list[str]
) -> None:
    """App, pipeline, stage, since (inclusive; naive is UTC) and max_count narrow the list."""
    got = list_history(story.ops.work, app_name, **options)
    names = {sha: step for step, sha in story.commits.items()}
    assert [names[e.commit] for e in got] == steps


@pytest.mark.parametrize(
    ("app_name", "options", "message"),
    [
        ("nginxx", {}, "unknown app 'nginxx'; did you mean nginx?"),
        (None, {"pipeline": "wbe"}, "unknown pipeline 'wbe'; did you mean web?"),
        (None, {"stage": "prood"}, "unknown stage 'prood'; did you mean prod?"),
    ],
)
def test_unknown_names(
    story: Story, app_name: str | None, options: dict[str, Any], message: str
) -> None:
    """Names that never appear in the history are errors with a suggestion."""
    with pytest.raises(LookupFailed) as caught:
        list_history(story.ops.work, app_name, **options)
    assert str(caught.value) == message


# -- what gets re-read ----------------------------------------------------------------------


def reads_per_commit(
    monkeypatch: pytest.MonkeyPatch,
    story: Story,
    top: Path,
    sub: str = "",
    *,
    memo: bool = False,
) -> dict[str, list[str]]:
    """Walk the history commit by commit; the stages each commit made the walker read
    (without the memo of stage reads by content unless ``memo``: every stage affected)."""
    calls: list[str] = []
    original = GitOpsRepo.stage_status

    def counting(self: GitOpsRepo, stage: Any, *, render: bool = False) -> Any:
        calls.append(f"{stage.pipeline}/{stage.name}")
        return original(self, stage, render=render)

    monkeypatch.setattr(GitOpsRepo, "stage_status", counting)
    monkeypatch.setattr(history, "_MEMO", memo)
    steps = {sha: step for step, sha in story.commits.items()}
    walker = HistoryWalker(top, sub)
    found: dict[str, list[str]] = {}
    try:
        for one in iter_commits(top):
            calls.clear()
            walker.step(one)
            found[steps.get(one.sha, one.sha)] = list(calls)
    finally:
        walker.close()
    return found


ALL_STAGES = [
    "platform/dev",
    "platform/staging",
    "platform/prod",
    "web/dev",
    "web/staging",
    "web/prod",
]


def test_only_stages_a_commit_touched_are_read(
    story: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the first commit, each commit re-reads only the stages whose files it changed
    (the README commit none)."""
    assert reads_per_commit(monkeypatch, story, story.ops.work) == {
        "seed": ALL_STAGES,
        "automation": ["platform/dev", "web/dev"],
        "promote-staging": ["web/staging"],
        "readme": [],
        "hand-edit": ["web/dev"],
        "promote-prod": ["web/prod"],
        "rollback-prod": ["web/prod"],
    }


def test_shared_files_and_config_reread_their_dependants(
    own_story: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A base file re-reads the stages built from it (one of them changes), promoter.yaml
    re-discovers and re-reads every stage (none changes), unrelated files nothing."""
    ops = own_story.ops
    base = replaced(ops, "base/report/cronjob.yaml", "report:2024.05.1", "report:2024.05.2")
    own_story.commits["base"] = commit(
        ops, base, "report 2024.05.2 in base", "2026-11-08T09:00:00+00:00"
    )
    gates = {"promoter.yaml": "pipelines:\n  - name: web\n    soak: 1h\n"}
    own_story.commits["config"] = commit(ops, gates, "gates", "2026-11-08T10:00:00+00:00")
    other = {"docs/pipelines.weave.works.md": "pipelines.weave.works/name: not yaml\n"}
    own_story.commits["docs"] = commit(ops, other, "docs", "2026-11-08T11:00:00+00:00")
    reads = reads_per_commit(monkeypatch, own_story, ops.work)
    # promoter.yaml names web: it comes first (declaration order), then platform's labels.
    web_first = [s for s in ALL_STAGES if s.startswith("web/")] + [
        s for s in ALL_STAGES if not s.startswith("web/")
    ]
    assert (reads["base"], reads["config"], reads["docs"]) == (
        ["platform/dev", "platform/staging", "platform/prod"],
        web_first,
        [],
    )
    assert [row(own_story, e)[:6] for e in list_history(ops.work, since=datetime(2026, 11, 8))] == [
        ("base", "platform", "prod", "CronJob/report", "2024.05.1", "2024.05.2")
    ]


def test_a_rollback_and_a_rediscovery_are_answered_from_the_memo(
    own_story: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the memo of stage reads by content, the rollback (prod back to its seeded
    files) and a promoter.yaml change that leaves every stage's files alone build nothing."""
    ops = own_story.ops
    gates = {"promoter.yaml": "pipelines:\n  - name: web\n    soak: 1h\n"}
    own_story.commits["config"] = commit(ops, gates, "gates", "2026-11-08T10:00:00+00:00")
    reads = reads_per_commit(monkeypatch, own_story, ops.work, memo=True)
    assert (reads["promote-prod"], reads["rollback-prod"], reads["config"]) == (
        ["web/prod"],
        [],
        [],
    )


# -- apps, stages, trailers -----------------------------------------------------------------


def test_apps_and_stages_that_come_and_go(own_story: Story) -> None:
    """An app removed from a stage goes to None, a stage broken for a while reports nothing
    until it is fixed, and a new stage reports every app it brings."""
    ops = own_story.ops
    dev = replaced(ops, "pipelines/web/dev/kustomization.yaml", "  - ../../../base/shop\n", "")
    own_story.commits["drop-shop"] = commit(ops, dev, "no shop in dev", "2026-11-08T09:00:00+00:00")
    broken = {"pipelines/web/prod/kustomization.yaml": "resources: [\n"}
    good = (ops.work / "pipelines/web/prod/kustomization.yaml").read_text(encoding="utf-8")
    own_story.commits["break"] = commit(ops, broken, "oops", "2026-11-08T10:00:00+00:00")
    fixed = {
        "pipelines/web/prod/kustomization.yaml": good,
        **replaced(ops, "pipelines/web/prod/nginx-tag.yaml", "nginx:1.21.6", "nginx:1.24.0"),
    }
    own_story.commits["fix"] = commit(
        ops, fixed, "fix prod, nginx 1.24.0", "2026-11-08T11:00:00+00:00"
    )
    qa = {
        f"pipelines/web/qa/{name}": (ops.work / "pipelines/web/staging" / name)
        .read_text(encoding="utf-8")
        .replace("web-staging", "web-qa")
        .replace("./pipelines/web/staging", "./pipelines/web/qa")
        for name in ("kustomization.yaml", "nginx-tag.yaml", "sync.yaml")
    }
    own_story.commits["add-qa"] = commit(ops, qa, "qa stage", "2026-11-08T12:00:00+00:00")
    got = [row(own_story, e)[:6] for e in list_history(ops.work, since=datetime(2026, 11, 8))]
    assert got == [
        ("add-qa", "web", "qa", "Deployment/nginx", None, "1.23.2"),
        ("add-qa", "web", "qa", "Deployment/shop", None, "1.4.0"),
        ("fix", "web", "prod", "Deployment/nginx", "1.21.6", "1.24.0"),
        ("drop-shop", "web", "dev", "Deployment/shop", "1.4.3", None),
    ]
    removed = list_history(ops.work, "shop", stage="dev", max_count=1)[0]
    assert removed.state is None


def test_multi_app_promotion_tells_each_app_its_trailers(own_story: Story, tmp_path: Path) -> None:
    """A pull request moving nginx and shop gives each entry its own Promoted-App and
    Promoted-Version (JSON too), the shared trailers to both."""
    ops = own_story.ops
    both = PromotionRequest(["nginx", "shop"], "staging", "prod", pipeline="web")
    pushed = publish(ops.work, both, "2026-11-09T09:00:00+00:00")
    own_story.commits["both"] = merge_pull_request(ops, pushed, 14, "2026-11-09T10:00:00+00:00")
    shared = (("Promoted-Pipeline", "web"), ("Promoted-From", "staging"), ("Promoted-To", "prod"))
    got = [
        (e.key, e.old_version, e.new_version, e.pull_request, e.trailers)
        for e in list_history(ops.work, max_count=2)
    ]
    assert got == [
        (
            "Deployment/nginx",
            "1.21.6",
            "1.23.2",
            14,
            (*shared, ("Promoted-App", "Deployment/nginx"), ("Promoted-Version", "1.23.2")),
        ),
        (
            "Deployment/shop",
            "1.3.0",
            "1.4.0",
            14,
            (*shared, ("Promoted-App", "Deployment/shop"), ("Promoted-Version", "1.4.0")),
        ),
    ]
    result = invoke(ops.work, "history", "shop", "--stage", "prod", "-n", "1", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["entries"][0]["trailers"] == {
        "Promoted-Pipeline": "web",
        "Promoted-From": "staging",
        "Promoted-To": "prod",
        "Promoted-App": "Deployment/shop",
        "Promoted-Version": "1.4.0",
    }


@pytest.mark.parametrize(
    ("message", "merged", "pull_request", "found"),
    [
        ("Merge pull request #7 from acme/x\n\ntitle", "", 7, ()),
        (
            "fix nginx (#12)\n\nbody\n\nSigned-off-by: A <a@x>",
            "",
            12,
            (("Signed-off-by", "A <a@x>"),),
        ),
        ("fix (#3) and more", "", None, ()),
        ("Release #5", "", None, ()),
        ("Key: value", "", None, ()),
        ("subject\n\nKey: value\nnot a trailer", "", None, ()),
        ("Merge branch 'x'", "promote\n\nPromoted-To: prod", None, (("Promoted-To", "prod"),)),
        ("subject\n\nOwn: yes", "m\n\nPromoted-To: prod", None, (("Own", "yes"),)),
    ],
    ids=[
        "merge",
        "squash",
        "not-at-end",
        "no-parens",
        "one-paragraph",
        "mixed-paragraph",
        "merged-trailers",
        "own-trailers-first",
    ],
)
def test_pull_request_and_trailers_of_a_commit(
    message: str, merged: str, pull_request: int | None, found: tuple[tuple[str, str], ...]
) -> None:
    """The PR number comes from a merge or squash subject; trailers from the last paragraph
    when every line is one, else from the commit a merge merged."""
    one = Commit(
        "a" * 40,
        ("b" * 40,),
        "2026-11-01T00:00:00+00:00",
        "A <a@x>",
        message,
        merged_message=merged,
    )
    assert (one.pull_request, one.trailers) == (pull_request, found)


# -- where the repository is ----------------------------------------------------------------


def test_gitops_root_in_a_subdirectory(tmp_path: Path) -> None:
    """A GitOps repo in ``gitops/`` of a git repository has its history (hand edits and
    merged promotions); commits outside it (even YAML with the pipeline label) add nothing."""
    ops = seed(tmp_path / "mono", subdir="gitops")
    outside = {"tools/flux.yaml": "labels:\n  pipelines.weave.works/name: web\n"}
    tools = commit(ops, outside, "tools", "2026-11-03T09:00:00+00:00")
    edit = replaced(ops, "gitops/pipelines/web/prod/nginx-tag.yaml", "1.21.6", "1.21.7")
    hand = commit(ops, edit, "nginx 1.21.7 in prod", "2026-11-03T10:00:00+00:00", HAND)
    gitops = ops.work / "gitops"
    request = PromotionRequest(["nginx"], "staging", "prod", pipeline="web")
    pushed = publish(gitops, request, "2026-11-04T09:00:00+00:00")
    merged = merge_pull_request(ops, pushed, 3, "2026-11-04T10:00:00+00:00")
    got = [
        (e.commit, e.pipeline, e.stage, e.key, e.old_version, e.new_version, e.pull_request)
        for e in list_history(gitops, since=datetime(2026, 11, 3))
    ]
    assert got == [
        (merged, "web", "prod", "Deployment/nginx", "1.21.7", "1.22.0", 3),
        (hand, "web", "prod", "Deployment/nginx", "1.21.6", "1.21.7", None),
    ]
    assert tools not in {e.commit for e in read_history(gitops)}
    assert len(read_history(gitops)) == 17
    result = invoke(gitops, "history", "nginx", "-p", "web", "-s", "prod", "-n", "1", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "entries": [
            {
                "pipeline": "web",
                "stage": "prod",
                "kind": "Deployment",
                "app": "nginx",
                "old_version": "1.21.7",
                "new_version": "1.22.0",
                "commit": merged,
                "date": "2026-11-04T10:00:00+00:00",
                "author": person(MERGER),
                "pull_request": 3,
                "trailers": {
                    "Promoted-Pipeline": "web",
                    "Promoted-From": "staging",
                    "Promoted-To": "prod",
                    "Promoted-App": "Deployment/nginx",
                    "Promoted-Version": "1.22.0",
                },
            }
        ]
    }


def test_repository_without_commits_has_no_history(tmp_path: Path) -> None:
    """A freshly initialised repository (files, no commit) has an empty history; naming an
    app there is an unknown name."""
    work = tmp_path / "fresh"
    shutil.copytree(Path(__file__).resolve().parents[1] / "pipelines", work / "pipelines")
    git("init", "--quiet", "--initial-branch=main", cwd=work)
    assert read_history(work) == []
    assert list_history(work) == ()
    result = invoke(work, "history", "-o", "json")
    assert (result.exit_code, json.loads(result.stdout)) == (0, {"entries": []})
    assert_one_error_line(invoke(work, "history", "nginx"), "unknown app 'nginx'")


def test_not_a_git_repository(tmp_path: Path) -> None:
    """Outside git, history says it needs git, in one line."""
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError) as caught:
        list_history(plain)
    assert str(caught.value) == f"{plain}: not inside a git repository; history comes from git"
    assert_one_error_line(
        invoke(plain, "history"), f"{plain}: not inside a git repository; history comes from git"
    )


# -- the command ----------------------------------------------------------------------------


def invoke(repo: Path, *args: str) -> Result:
    """``pipelines ARGS --repo REPO``."""
    return CliRunner().invoke(app, [*args, "--repo", str(repo)])


def assert_one_error_line(result: Result, message: str) -> None:
    """Exit 1, nothing on stdout, exactly ``error: message`` on stderr."""
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {message}\n")


def test_cli_json(story: Story) -> None:
    """``--output json`` prints the documented shape, newest first."""
    result = invoke(
        story.ops.work,
        "history",
        "nginx",
        "--pipeline",
        "web",
        "--stage",
        "prod",
        "--output",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    c = story.commits
    base = {"pipeline": "web", "stage": "prod", "kind": "Deployment", "app": "nginx"}
    assert json.loads(result.stdout) == {
        "entries": [
            {
                **base,
                "old_version": "1.23.2",
                "new_version": "1.21.6",
                "commit": c["rollback-prod"],
                "date": "2026-11-07T14:00:00+00:00",
                "author": "Mona Merger <mona@example.com>",
                "pull_request": 13,
                "trailers": {
                    "Promoted-Pipeline": "web",
                    "Promoted-From": "prod",
                    "Promoted-To": "prod",
                    "Rollback-Of-Commit": c["seed"],
                    "Promoted-App": "Deployment/nginx",
                    "Promoted-Version": "1.21.6",
                },
            },
            {
                **base,
                "old_version": "1.21.6",
                "new_version": "1.23.2",
                "commit": c["promote-prod"],
                "date": "2026-11-06T13:00:00+00:00",
                "author": "Mona Merger <mona@example.com>",
                "pull_request": 12,
                "trailers": {
                    "Promoted-Pipeline": "web",
                    "Promoted-From": "staging",
                    "Promoted-To": "prod",
                    "Promoted-App": "Deployment/nginx",
                    "Promoted-Version": "1.23.2",
                },
            },
            {
                **base,
                "old_version": None,
                "new_version": "1.21.6",
                "commit": c["seed"],
                "date": "2026-11-02T09:00:00+00:00",
                "author": "Test Author <author@example.com>",
                "pull_request": None,
                "trailers": {},
            },
        ]
    }


def test_cli_table(story: Story) -> None:
    """The table shows date, stage, app, change, short commit, author and PR per line."""
    result = invoke(story.ops.work, "history", "--since", "2026-11-05", "--max-count", "3")
    assert result.exit_code == 0, result.stderr
    c = {step: sha[:12] for step, sha in story.commits.items()}
    lines = [line.replace("┃", "│") for line in result.stdout.splitlines()]
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if "│" in line]
    assert rows == [
        ["date", "pipeline/stage", "app", "change", "commit", "author", "PR"],
        [
            "2026-11-07 14:00",
            "web/prod",
            "Deployment/nginx",
            "1.23.2 -> 1.21.6",
            c["rollback-prod"],
            "Mona Merger <mona@example.com>",
            "#13",
        ],
        [
            "2026-11-06 13:00",
            "web/prod",
            "Deployment/nginx",
            "1.21.6 -> 1.23.2",
            c["promote-prod"],
            "Mona Merger <mona@example.com>",
            "#12",
        ],
        [
            "2026-11-05 12:00",
            "web/dev",
            "Deployment/shop",
            "1.4.2 -> 1.4.3",
            c["hand-edit"],
            "Hannah Hand <hannah@example.com>",
            "",
        ],
    ]
    assert result.stdout.splitlines()[0].rstrip() == "version history (newest first)"


def test_cli_since_with_time_and_zone(story: Story) -> None:
    """``--since`` takes a time with a zone (Z too) and includes that very second."""
    result = invoke(story.ops.work, "history", "--since", "2026-11-05T10:00:00Z", "-o", "json")
    assert result.exit_code == 0, result.stderr
    commits = [e["commit"] for e in json.loads(result.stdout)["entries"]]
    c = story.commits
    assert commits == [c["rollback-prod"], c["promote-prod"], c["hand-edit"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nginxx",), "unknown app 'nginxx'; did you mean nginx?"),
        (("--pipeline", "wbe"), "unknown pipeline 'wbe'; did you mean web?"),
        (("--stage", "prood"), "unknown stage 'prood'; did you mean prod?"),
        (
            ("--since", "last week"),
            "--since 'last week' is not a date like 2026-11-01 or 2026-11-01T12:00",
        ),
    ],
    ids=["app", "pipeline", "stage", "since"],
)
def test_cli_bad_input_is_one_line(story: Story, args: tuple[str, ...], message: str) -> None:
    """Unknown names and a date that is not one: one line, exit 1."""
    assert_one_error_line(invoke(story.ops.work, "history", *args), message)


@pytest.mark.parametrize("args", [("--max-count", "0"), ("--output", "yaml"), ("a", "b")])
def test_cli_usage_errors(story: Story, args: tuple[str, ...]) -> None:
    """A count below 1, an unknown format or a second argument are usage errors (exit 2)."""
    result = invoke(story.ops.work, "history", *args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("error: ")
    assert result.stderr.endswith(
        "\nusage: pipelines history [OPTIONS] [APP]  (see 'pipelines history -h')\n"
    )


# -- two processes ------------------------------------------------------------------------


def eventful(story: Story) -> Story:
    """The story, then a base bump, an app dropped, a stage broken and fixed, a new stage and
    a promoter.yaml change (stages known to neither process when they split)."""
    ops = story.ops
    steps: list[tuple[str, dict[str, str | None]]] = [
        ("base", replaced(ops, "base/report/cronjob.yaml", "report:2024.05.1", "report:2024.05.2")),
        ("drop-shop", replaced(ops, WEB_DEV, "  - ../../../base/shop\n", "")),
        ("break", {WEB_PROD: "resources: [\n"}),
        (
            "fix",
            {
                WEB_PROD: (ops.work / WEB_PROD).read_text(encoding="utf-8"),
                **replaced(ops, "pipelines/web/prod/nginx-tag.yaml", "nginx:1.21.6", "nginx:1.24"),
            },
        ),
        ("config", {"promoter.yaml": "pipelines:\n  - name: web\n    soak: 1h\n"}),
    ]
    steps.append(
        (
            "add-qa",
            {
                f"pipelines/web/qa/{name}": (ops.work / "pipelines/web/staging" / name)
                .read_text(encoding="utf-8")
                .replace("web-staging", "web-qa")
                .replace("./pipelines/web/staging", "./pipelines/web/qa")
                for name in ("kustomization.yaml", "nginx-tag.yaml", "sync.yaml")
            },
        )
    )
    for hour, (step, files) in enumerate(steps):
        story.commits[step] = commit(ops, files, step, f"2026-11-08T{hour + 9:02}:00:00+00:00")
    return story


WEB_DEV = "pipelines/web/dev/kustomization.yaml"
WEB_PROD = "pipelines/web/prod/kustomization.yaml"


def told(entries: list[HistoryEntry]) -> list[tuple[HistoryEntry, Any, str]]:
    """Entries with what equality leaves out (the app's state, the subject)."""
    return [(e, e.state, e.subject) for e in entries]


def test_two_processes_tell_the_same_history(
    own_story: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Walked by two processes (each building half the stages), the history is the same,
    entry by entry and in the same order, as walked by one."""
    work = eventful(own_story).ops.work
    monkeypatch.setenv("PROMOTER_NO_FORK", "1")
    alone = read_history(work)
    monkeypatch.delenv("PROMOTER_NO_FORK")
    forks: list[object] = []
    original = history.fork_work

    def counted(work: Any) -> Any:
        forks.append(work)
        return original(work)

    monkeypatch.setattr(history, "_FORK_MIN_COMMITS", 1)
    monkeypatch.setattr(history, "fork_work", counted)
    # Forked even when an earlier test left a thread running (a fake server of the session).
    monkeypatch.setattr(history, "can_fork", lambda: True)
    shared = read_history(work)
    assert (told(alone), len(forks)) == (told(shared), 1)
    assert {"base", "drop-shop", "fix", "add-qa"} <= {row(own_story, e)[0] for e in shared}


def test_a_failed_child_is_walked_again_alone(
    own_story: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the forked child fails, the whole history is walked again by one process."""
    work = eventful(own_story).ops.work
    monkeypatch.setenv("PROMOTER_NO_FORK", "1")
    alone = read_history(work)
    monkeypatch.delenv("PROMOTER_NO_FORK")
    monkeypatch.setattr(history, "_FORK_MIN_COMMITS", 1)
    failed: list[object] = []

    def failing(work: Any) -> Any:
        failed.append(work)
        return lambda: None

    monkeypatch.setattr(history, "fork_work", failing)
    monkeypatch.setattr(history, "can_fork", lambda: True)
    again = read_history(work)
    assert (told(again), len(failed)) == (told(alone), 1)


def test_stages_found_later_go_to_one_process() -> None:
    """Each stage is built by exactly one of the two processes, those discovered after they
    split too."""
    first, second = history._Share(frozenset({("a", "b")}), frozenset({("c", "d")}), 0), None
    second = history._Share(first.theirs, first.mine, 1)
    keys = [("a", "b"), ("c", "d"), *((f"p{i}", f"s{i}") for i in range(20))]
    assert [(k in first) + (k in second) for k in keys] == [1] * len(keys)
    assert (("a", "b") in first, ("c", "d") in second) == (True, True)
    assert 0 < sum(k in first for k in keys[2:]) < 20
