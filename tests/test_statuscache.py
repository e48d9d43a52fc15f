"""The status cache (``promoter.statuscache``): a warm run answers exactly as a cold one,
after every kind of change, and reads again only the stages whose inputs changed."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.views import problem_lines
from promoter import GitOpsRepo, discovery, forked
from promoter import repo as repo_module
from promoter.planner import plan_promotion
from promoter.repo import status
from promoter.serialize import status_dict, to_json
from promoter.statuscache import (
    MAGIC,
    CacheStats,
    cache_path,
    cached_discovery,
    cached_json,
    cached_status,
    cached_status_json,
)
from tests.builders.repos import example_repo, flux_sync, git_init, write
from tests.test_kustomize import (
    app_names,
    kubectl_answer,
    kubectl_many,
    native_answer,
    source_problems,
)

DEV_PATCH = "pipelines/web/dev/nginx-tag.yaml"
WEB_STAGES = {("web", s) for s in ("dev", "staging", "prod")}
ALL_STAGES = WEB_STAGES | {("platform", s) for s in ("dev", "staging", "prod")}


def age(root: Path) -> None:
    """Date every file and directory of ``root`` a minute back: what the cache recorded is
    not "racy" (written in the same instant as the run) and a later edit shows."""
    past = time.time() - 60
    for directory, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            os.utime(Path(directory) / name, (past, past), follow_symlinks=False)
    os.utime(root, (past, past))


def cold_json(root: Path) -> str:
    """The status as JSON, read without the cache."""
    return to_json(status_dict(status(root)))


def cold_compact(root: Path, pipelines: tuple[str, ...] = ()) -> str:
    """The status as compact JSON (``status -o json`` into a pipe), read without the cache."""
    return to_json(status_dict(status(root, pipelines)), indent=None)


def joined(root: Path, pipelines: tuple[str, ...] = ()) -> str | None:
    """``cached_json`` as text."""
    data = cached_json(root, pipelines)
    return None if data is None else data.decode("ascii")


def warm(root: Path) -> tuple[str, CacheStats]:
    """The status as JSON through the cache, and what the cache did."""
    stats = CacheStats()
    return to_json(status_dict(cached_status(root, stats=stats))), stats


@pytest.fixture
def repo(temp: Path, tmp_path: Path) -> Path:
    """A git copy of the example repository, its cache filled and aged."""
    root = git_init(example_repo(tmp_path / "repo"))
    age(root)
    warm(root)
    return root


def test_warm_run_reads_nothing_and_answers_as_cold(repo: Path) -> None:
    """A second run takes every stage from the cache and prints the same JSON as a cold
    read; the cache lives under .git/ and the working tree stays clean."""
    text, stats = warm(repo)
    assert (stats.loaded, stats.discovery_reused, stats.misses) == (True, True, [])
    assert set(stats.hits) == ALL_STAGES
    assert text == cold_json(repo)
    assert stats.path is not None and stats.path.parent == repo / ".git" / "promoter"
    assert (
        subprocess.run(
            ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout
        == ""
    )


def _edit(root: Path) -> None:
    path = root / DEV_PATCH
    text = path.read_text()
    assert "nginx:1.23.1" in text
    path.write_text(text.replace("nginx:1.23.1", "nginx:1.23.9"))


def _edit_base(root: Path) -> None:
    path = root / "base/shop/deployment.yaml"
    path.write_text(path.read_text() + "# a comment changes no version\n")


def _add(root: Path) -> None:
    # A second kustomization file next to the first: kustomize refuses the directory.
    shutil.copy(
        root / "pipelines/web/dev/kustomization.yaml", root / "pipelines/web/dev/Kustomization"
    )


def _add_patch(root: Path) -> None:
    write(
        root,
        {
            "pipelines/web/dev/extra.yaml": """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: nginx
                spec:
                  replicas: 3
            """
        },
    )
    kfile = root / "pipelines/web/dev/kustomization.yaml"
    kfile.write_text(
        kfile.read_text().replace(
            "  - path: nginx-tag.yaml\n", "  - path: nginx-tag.yaml\n  - path: extra.yaml\n"
        )
    )


def _delete(root: Path) -> None:
    (root / DEV_PATCH).unlink()


def _rename(root: Path) -> None:
    (root / "base/nginx").rename(root / "base/nginx-old")
    shutil.copytree(root / "base/nginx-old", root / "base/nginx")
    path = root / "base/nginx/deployment.yaml"
    path.write_text(path.read_text().replace("nginx:", "nginx-renamed:", 1))


def _symlink(root: Path) -> None:
    # The patch becomes a link to a file with other content, then to one leaving the repo.
    other = root / "pipelines/web/dev/nginx-tag-next.yaml"
    other.write_text((root / DEV_PATCH).read_text().replace("nginx:1.23.1", "nginx:1.26.0"))
    (root / DEV_PATCH).unlink()
    (root / DEV_PATCH).symlink_to("nginx-tag-next.yaml")


def _symlink_out(root: Path) -> None:
    outside = root.parent / "outside.yaml"
    outside.write_text((root / DEV_PATCH).read_text())
    (root / DEV_PATCH).unlink()
    (root / DEV_PATCH).symlink_to(outside)


def _dir_symlink(root: Path) -> None:
    # A base directory replaced by a link to a copy with another image.
    copy = root / "base/nginx-copy"
    shutil.copytree(root / "base/nginx", copy)
    path = copy / "deployment.yaml"
    path.write_text(path.read_text().replace("nginx:", "nginx-copy:", 1))
    shutil.rmtree(root / "base/nginx")
    (root / "base/nginx").symlink_to("nginx-copy")


def _config(root: Path) -> None:
    write(
        root,
        {
            "promoter.yaml": """
                pipelines:
                  - name: web
                    stages:
                      - name: dev
                        path: pipelines/web/dev
                      - name: prod
                        path: pipelines/web/prod
            """
        },
    )


def _label(root: Path) -> None:
    path = root / "pipelines/web/staging/sync.yaml"
    text = path.read_text()
    assert "pipelines.weave.works/stage" in text
    lines = [
        line.replace(line.split(":", 1)[1], ' "7"')
        if "pipelines.weave.works/stage" in line
        else line
        for line in text.splitlines()
    ]
    path.write_text("\n".join(lines) + "\n")


def _flux_images(root: Path) -> None:
    # The Flux Kustomization gains build fields: it joins the stage's build.
    path = root / "pipelines/web/prod/sync.yaml"
    path.write_text(
        path.read_text().rstrip("\n") + "\n  images:\n    - name: nginx\n      newTag: 9.9.9\n"
    )


def _new_stage(root: Path) -> None:
    shutil.copytree(root / "pipelines/web/prod", root / "pipelines/web/canary")
    (root / "pipelines/web/canary/sync.yaml").write_text(
        flux_sync("web-canary", "./pipelines/web/canary", "web", 3)
    )


def _new_yaml_elsewhere(root: Path) -> None:
    # A new Flux Kustomization in a directory of its own declares another pipeline.
    write(root, {"clusters/extra/sync.yaml": flux_sync("x-dev", "./pipelines/web/dev", "x", 0)})


def _touch(root: Path) -> None:
    os.utime(root / DEV_PATCH)


CHANGES: dict[str, Callable[[Path], None]] = {
    "edit": _edit,
    "edit-base": _edit_base,
    "add-second-kustomization": _add,
    "add-patch": _add_patch,
    "delete": _delete,
    "rename": _rename,
    "symlink-retargeted": _symlink,
    "symlink-leaves-repo": _symlink_out,
    "directory-becomes-symlink": _dir_symlink,
    "promoter-yaml": _config,
    "flux-label": _label,
    "flux-build-fields": _flux_images,
    "new-stage-dir": _new_stage,
    "new-flux-file": _new_yaml_elsewhere,
    "touch": _touch,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_every_change_answers_as_a_cold_run(repo: Path, change: str) -> None:
    """After each kind of change the cached status is byte for byte the cold one, right
    away (racy files included) and once more when everything is cached again."""
    assert joined(repo) == cold_compact(repo)
    CHANGES[change](repo)
    assert joined(repo) is None  # the change shows: nothing is joined from the cache
    first, _ = warm(repo)
    assert first == cold_json(repo)
    age(repo)
    second, _ = warm(repo)
    assert second == cold_json(repo)
    third, stats = warm(repo)
    assert third == second
    # Everything cached again: the joined JSON is the cold one, or None while a stage or a
    # pipeline declaration is broken (those are never cached).
    assert joined(repo) in (cold_compact(repo), None)
    if joined(repo) is None:
        assert not status(repo).ok
    # Only stages that cannot be read are read again every time (errors are not cached).
    failing = {
        (p.pipeline.name, s.stage.name)
        for p in status(repo).pipelines
        for s in p.stages
        if s.problem is not None
    }
    assert set(stats.misses) == failing


@pytest.mark.parametrize("shared", [False, True], ids=["one-process", "forked"])
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_the_json_through_the_cache_is_the_cold_one(
    repo: Path, change: str, shared: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cached_status_json`` (stored parts, and parts made where the changed stages are
    read, by one process or two) is byte for byte the cold compact document with the same
    problem lines, right after each change and once everything is cached again."""
    if shared:  # the discovery and the reading shared with a child, one file a turn
        monkeypatch.setattr(forked, "can_fork", lambda: True)
        monkeypatch.setattr(repo_module, "_PARALLEL_MIN", 2)
        monkeypatch.setattr(discovery, "_SPLIT_MIN", 1)
        monkeypatch.setattr(discovery, "_CHUNK", 1)
    CHANGES[change](repo)
    for _ in range(2):
        found = cached_status_json(repo)
        cold = status(repo)
        assert found.document.decode("ascii") == to_json(status_dict(cold), indent=None)
        assert (problem_lines(found.problems), found.problems.ok) == (problem_lines(cold), cold.ok)
        # Only this process wrote the cache (no temporary file left), and no child is left.
        assert [p.name for p in cache_path(repo.resolve()).parent.iterdir()] == [
            cache_path(repo.resolve()).name
        ]
        with pytest.raises(ChildProcessError):
            os.waitpid(-1, os.WNOHANG)
        age(repo)
    assert warm(repo)[0] == cold_json(repo)


@pytest.mark.parametrize(
    ("change", "stages"),
    [
        (_edit, {("web", "dev")}),
        (_edit_base, WEB_STAGES),
        (_touch, {("web", "dev")}),
    ],
    ids=["stage-file", "shared-base", "touch"],
)
def test_a_change_reads_again_exactly_the_stages_that_read_it(
    repo: Path, change: Callable[[Path], None], stages: set[tuple[str, str]]
) -> None:
    """An edit in one stage reads that stage again, an edit in a shared base the stages
    built from it; every other stage comes from the cache."""
    change(repo)
    text, stats = warm(repo)
    assert set(stats.misses) == stages
    assert set(stats.hits) == ALL_STAGES - stages
    assert text == cold_json(repo)


def test_corrupt_or_foreign_cache_is_ignored(repo: Path, tmp_path: Path) -> None:
    """A damaged file, a file of another format and a pickle that would run code are all
    ignored (nothing runs) and replaced by a good cache."""
    file = cache_path(repo.resolve())
    expected = cold_json(repo)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    for damage in (
        file.read_bytes()[: len(MAGIC) + 50],
        b"not a cache at all",
        MAGIC + pickle.dumps(Evil()),
        MAGIC + pickle.dumps({"key": (), "stages": Evil()}),
    ):
        file.write_bytes(damage)
        text, stats = warm(repo)
        assert (text, stats.loaded, stats.written) == (expected, False, True)
        assert not marker.exists()
    _, stats = warm(repo)
    assert (stats.loaded, stats.misses) == (True, [])


def test_a_cache_of_other_stages_data_is_not_trusted(repo: Path) -> None:
    """A status tampered inside a valid cache file still only holds model objects; the
    cache file of another root is not read for this one."""
    other = repo.parent / "other"
    shutil.copytree(repo, other)
    age(other)
    _, stats = warm(other)
    assert stats.loaded is False  # same .git contents, another root: another cache file
    assert cache_path(other.resolve()) != cache_path(repo.resolve())


def test_outside_git_the_cache_goes_to_the_user_cache_dir(
    temp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a .git directory the cache is in $XDG_CACHE_HOME, not in the tree."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = example_repo(tmp_path / "plain")
    age(root)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    _, first = warm(root)
    text, second = warm(root)
    assert first.path is not None
    assert first.path.parent == tmp_path / "xdg" / "kustomize-promoter"
    assert (second.loaded, second.misses) == (True, [])
    assert text == cold_json(root)
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_cli_uses_the_cache_and_no_cache_bypasses_it(repo: Path) -> None:
    """``status`` writes and reuses the cache; ``--no-cache`` neither reads nor writes it
    and prints the same."""
    file = cache_path(repo.resolve())
    file.unlink()
    runner = CliRunner()
    bypassed = runner.invoke(app, ["status", "--repo", str(repo), "-o", "json", "--no-cache"])
    assert bypassed.exit_code == 0, bypassed.output
    assert not file.exists()
    cached = runner.invoke(app, ["status", "--repo", str(repo), "-o", "json"])
    assert cached.exit_code == 0, cached.output
    assert file.is_file()
    again = runner.invoke(app, ["status", "--repo", str(repo), "-o", "json"])
    assert bypassed.stdout == cached.stdout == again.stdout


def test_a_pipeline_subset_keeps_the_other_entries(repo: Path) -> None:
    """Asking for one pipeline reads nothing and keeps the other pipeline's entries."""
    stats = CacheStats()
    only = cached_status(repo, ["web"], stats=stats)
    assert [p.pipeline.name for p in only.pipelines] == ["web"]
    assert (set(stats.hits), stats.misses) == (WEB_STAGES, [])
    _, stats = warm(repo)
    assert set(stats.hits) == ALL_STAGES


def test_cached_stages_match_kubectl(kubectl: str, repo: Path) -> None:
    """The oracle on the cached path: every stage's apps, images and sources as read from
    the cache equal what kubectl kustomize renders."""
    stats = CacheStats()
    result = cached_status(repo, stats=stats)
    assert stats.misses == []
    reader = GitOpsRepo.open(repo)
    for pipeline in result.pipelines:
        for stage_status in pipeline.stages:
            stage = stage_status.stage
            apps = stage_status.apps
            ((ok, output),) = kubectl_many(kubectl, [repo / stage.path])
            assert ok, output
            expected = kubectl_answer(output, app_names(apps))
            assert expected == native_answer(apps, reader.build(stage).resources)
            assert source_problems(kubectl, repo, apps) == []


def test_promote_reuses_the_discovery_only_while_it_is_valid(repo: Path) -> None:
    """``GitOpsRepo.open(cache=True)`` (the check promote makes while kustomize renders)
    takes the pipelines and Flux specs the last status discovered while nothing changed,
    and discovers again after a Flux label changed; plans are the same either way."""
    assert cached_discovery(repo.resolve()) is not None
    cached, fresh = GitOpsRepo.open(repo, cache=True), GitOpsRepo.open(repo)
    assert cached.pipelines == fresh.pipelines
    for pipeline in fresh.pipelines:
        for stage in pipeline.stages:
            assert cached.flux_layer(stage) == fresh.flux_layer(stage)
    plans = [
        plan_promotion(r, ["nginx"], "dev", "staging", pipeline="web").diff()
        for r in (cached, fresh)
    ]
    assert plans[0] == plans[1] != ""
    _label(repo)
    assert cached_discovery(repo.resolve()) is None
    assert GitOpsRepo.open(repo, cache=True).pipelines == GitOpsRepo.open(repo).pipelines


def test_warm_json_is_joined_from_the_cache(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm ``status -o json`` prints the cache's parts joined (no model read, nothing
    written), byte for byte what ``--no-cache`` prints."""
    file = cache_path(repo.resolve())
    before = file.stat().st_mtime_ns
    runner = CliRunner()
    bypassed = runner.invoke(app, ["status", "--repo", str(repo), "-o", "json", "--no-cache"])

    def unused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the warm JSON run read the model")

    monkeypatch.setattr("promoter.statuscache.cached_status", unused)
    joined = runner.invoke(app, ["status", "--repo", str(repo), "-o", "json"])
    assert (joined.exit_code, joined.stdout) == (0, bypassed.stdout)
    assert file.stat().st_mtime_ns == before


@pytest.mark.parametrize("chosen", [("web",), ("platform", "web"), ("web", "web"), ()], ids=str)
def test_warm_json_of_chosen_pipelines(repo: Path, chosen: tuple[str, ...]) -> None:
    """Pipelines named on the command line are joined in the order given, once each."""
    assert joined(repo, chosen) == cold_compact(repo, chosen)


def test_warm_json_leaves_unknown_pipelines_and_broken_declarations_to_the_reader(
    repo: Path,
) -> None:
    """An unknown pipeline name and a pipeline whose declaration is broken are not joined
    from the cache (the reader says what is wrong); the CLI answers as a cold run."""
    assert joined(repo, ("nope",)) is None
    write(repo, {"clusters/odd/sync.yaml": flux_sync("x-odd", "./pipelines/web/dev", "x", "one")})
    age(repo)
    warm(repo)
    assert joined(repo) is None
    runner = CliRunner()
    cold = runner.invoke(app, ["status", "--repo", str(repo), "-o", "json", "--no-cache"])
    again = runner.invoke(app, ["status", "--repo", str(repo), "-o", "json"])
    assert cold.exit_code == again.exit_code == 1
    assert (cold.stdout, cold.stderr) == (again.stdout, again.stderr)


def test_warm_json_imports_no_reader(repo: Path) -> None:
    """A warm ``pipelines status -o json`` imports neither the model nor the kustomize
    reader nor YAML: it reads the cache file and stats what it recorded."""
    code = (
        "import contextlib, io, sys\n"
        "from cli.main import pipelines_main\n"
        f"sys.argv = ['pipelines', 'status', '--repo', {str(repo)!r}, '-o', 'json']\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    pipelines_main()\n"
        "heavy = ('promoter.model', 'promoter.repo', 'promoter.kustomize', 'yaml')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert done.stdout == "[]\n"
