"""Real git histories for the history, rollback and gate tests.

A *story* is the example GitOps repository (``base/`` and ``pipelines/`` of this checkout)
seeded at a fixed date in a bare remote, then changed the ways real repositories change:
promotions done with our own ``promote`` (pushed to the remote, then merged there with a
"Merge pull request #N from ..." merge commit, or squashed into "title (#N)"), Flux image
automation commits by fluxcdbot, hand edits, and a rollback.  Every date, author and
committer is fixed through ``GIT_AUTHOR_*``/``GIT_COMMITTER_*``, so commits are reproducible.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from promoter.history import read_history
from promoter.promotion import PromotionPlan
from promoter.publish import PlanMaker, PromotionRequest, PromotionResult, PublishOptions, promote
from promoter.repo import GitOpsRepo
from promoter.rollback import plan_rollback
from tests.builders.git import EXAMPLE_DIRS, PROJECT_ROOT, GitOps, git, isolate

Person = tuple[str, str]

SEEDER: Person = ("Test Author", "author@example.com")
FLUX_BOT: Person = ("fluxcdbot", "fluxcdbot@users.noreply.github.com")
MERGER: Person = ("Mona Merger", "mona@example.com")
HAND: Person = ("Hannah Hand", "hannah@example.com")

SEED_DATE = "2026-11-02T09:00:00+00:00"

WEB_DEV_NGINX = "pipelines/web/dev/nginx-tag.yaml"
WEB_DEV_KUSTOMIZATION = "pipelines/web/dev/kustomization.yaml"
PLATFORM_DEV_KUSTOMIZATION = "pipelines/platform/dev/kustomization.yaml"


def person(who: Person) -> str:
    """``Name <email>``, as history reports an author."""
    return f"{who[0]} <{who[1]}>"


def dated(when: str, who: Person = SEEDER) -> dict[str, str]:
    """Environment variables making git author and commit as ``who`` at ``when``."""
    return {
        "GIT_AUTHOR_NAME": who[0],
        "GIT_AUTHOR_EMAIL": who[1],
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_NAME": who[0],
        "GIT_COMMITTER_EMAIL": who[1],
        "GIT_COMMITTER_DATE": when,
    }


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` set in ``os.environ`` for the duration (what git and GitPython inherit)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def seed(root: Path, *, subdir: str = "", when: str = SEED_DATE) -> GitOps:
    """A bare remote ``root/remote.git`` whose main holds one commit of the example GitOps
    repo (in ``subdir`` of the git repository, with a README outside it), made at ``when``
    by SEEDER, and the user's clone ``root/work``."""
    remote = root / "remote.git"
    root.mkdir(parents=True, exist_ok=True)
    git("init", "--quiet", "--bare", "--initial-branch=main", str(remote), cwd=root)
    work = root / "work"
    work.mkdir()
    for directory in EXAMPLE_DIRS:
        shutil.copytree(PROJECT_ROOT / directory, work / subdir / directory)
    (work / "README.md").write_text("GitOps\n", encoding="utf-8")
    git("init", "--quiet", "--initial-branch=main", cwd=work)
    git("remote", "add", "origin", str(remote), cwd=work)
    with environment(dated(when)):
        git("add", "-A", cwd=work)
        git("commit", "--quiet", "-m", "example GitOps repo", cwd=work)
    git("push", "--quiet", "--set-upstream", "origin", "main", cwd=work)
    return GitOps(work, remote)


def copy_ops(template: GitOps, dest: Path) -> GitOps:
    """An independent copy of a user's clone and its remote under ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    remote = dest / "remote.git"
    work = dest / "work"
    shutil.copytree(template.remote, remote, symlinks=True)
    shutil.copytree(template.work, work, symlinks=True)
    git("remote", "set-url", "origin", str(remote), cwd=work)
    return GitOps(work, remote)


def replaced(ops: GitOps, path: str, old: str, new: str, count: int = 1) -> dict[str, str]:
    """``{path: text}`` where the ``count`` occurrences of ``old`` in the clone's file are
    ``new`` (there must be exactly that many)."""
    text = (ops.work / path).read_text(encoding="utf-8")
    assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times in {path}"
    return {path: text.replace(old, new)}


def commit(
    ops: GitOps,
    files: Mapping[str, str | None],
    message: str,
    when: str,
    who: Person = HAND,
) -> str:
    """Commit ``files`` (None deletes) on main in the user's clone as ``who`` at ``when``,
    push it to the remote; the new commit."""
    for rel, text in files.items():
        target = ops.work / rel
        if text is None:
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    with environment(dated(when, who)):
        ops.git("add", "-A", "--", *files)
        ops.git("commit", "--quiet", "-m", message)
    ops.git("push", "--quiet", "origin", "main")
    return ops.git("rev-parse", "HEAD")


def merge_pull_request(
    ops: GitOps, result: PromotionResult, number: int, when: str, who: Person = MERGER
) -> str:
    """Merge the pushed branch of ``result`` into main the way GitHub's merge button does
    (a merge commit "Merge pull request #N from acme/BRANCH" whose body is the title)."""
    branch = result.branch
    assert branch is not None
    ops.git("fetch", "--quiet", "origin", branch)
    with environment(dated(when, who)):
        ops.git(
            "merge",
            "--quiet",
            "--no-ff",
            "-m",
            f"Merge pull request #{number} from acme/{branch}",
            "-m",
            result.plan.title,
            "FETCH_HEAD",
        )
    ops.git("push", "--quiet", "origin", "main")
    return ops.git("rev-parse", "HEAD")


def squash_pull_request(
    ops: GitOps, result: PromotionResult, number: int, when: str, who: Person = MERGER
) -> str:
    """Squash-merge the pushed branch of ``result`` into main as GitHub does: one commit on
    main whose subject ends in "(#N)", its body the branch commit's (trailers included)."""
    branch = result.branch
    assert branch is not None
    ops.git("fetch", "--quiet", "origin", branch)
    subject, _, body = ops.git("log", "-1", "--format=%B", "FETCH_HEAD").partition("\n")
    with environment(dated(when, who)):
        ops.git("merge", "--quiet", "--squash", "FETCH_HEAD")
        ops.git("commit", "--quiet", "-m", f"{subject} (#{number})\n{body}")
    ops.git("push", "--quiet", "origin", "main")
    return ops.git("rev-parse", "HEAD")


@dataclass
class Story:
    """A clone and remote with a known history; ``commits`` names each step's commit on main."""

    ops: GitOps
    commits: dict[str, str] = field(default_factory=dict)


STORY_DATES = {
    "seed": SEED_DATE,
    "automation": "2026-11-03T10:00:00+00:00",
    "promote-staging": "2026-11-04T11:00:00+00:00",
    "readme": "2026-11-04T15:30:00+00:00",
    "hand-edit": "2026-11-05T12:00:00+02:00",
    "promote-prod": "2026-11-06T13:00:00+00:00",
    "rollback-prod": "2026-11-07T14:00:00+00:00",
}


def tell_story(root: Path, *, subdir: str = "") -> Story:
    """Seed the example repo and change it, one commit on main per step (oldest first):

    1. ``automation``: fluxcdbot bumps nginx 1.23.1 -> 1.23.2 on both dev setter lines
       (web/dev patch file, platform/dev ``images:``), "Update from image update automation".
    2. ``promote-staging``: ``promote`` nginx web dev -> staging (1.22.0 -> 1.23.2), merged as
       pull request #7 with a merge commit.
    3. ``readme``: a README edit outside every stage (no history entry).
    4. ``hand-edit``: Hannah bumps shop 1.4.2 -> 1.4.3 in web/dev by hand (commit date in
       +02:00).
    5. ``promote-prod``: ``promote`` nginx web staging -> prod (1.21.6 -> 1.23.2), squashed
       as "... (#12)" with the promotion trailers.
    6. ``rollback-prod``: a rollback of nginx in web/prod to the previous version (1.21.6),
       merged as pull request #13.
    """
    ops = seed(root, subdir=subdir)
    story = Story(ops)
    prefix = f"{subdir}/" if subdir else ""
    story.commits["seed"] = ops.git("rev-parse", "HEAD")
    bump = {
        **replaced(ops, prefix + WEB_DEV_NGINX, "nginx:1.23.1 #", "nginx:1.23.2 #"),
        **replaced(ops, prefix + PLATFORM_DEV_KUSTOMIZATION, "newTag: 1.23.1", "newTag: 1.23.2"),
    }
    story.commits["automation"] = commit(
        ops, bump, "Update from image update automation", STORY_DATES["automation"], FLUX_BOT
    )
    gitops = ops.work / subdir
    request = PromotionRequest(["nginx"], "dev", "staging", pipeline="web")
    result = publish(gitops, request, STORY_DATES["promote-staging"])
    story.commits["promote-staging"] = merge_pull_request(
        ops, result, 7, STORY_DATES["promote-staging"]
    )
    story.commits["readme"] = commit(
        ops, {"README.md": "GitOps, see pipelines/\n"}, "docs: README", STORY_DATES["readme"]
    )
    shop = replaced(ops, prefix + WEB_DEV_KUSTOMIZATION, "newTag: 1.4.2 #", "newTag: 1.4.3 #", 2)
    story.commits["hand-edit"] = commit(
        ops, shop, "shop 1.4.3 in dev, by hand", STORY_DATES["hand-edit"], HAND
    )
    request = PromotionRequest(["nginx"], "staging", "prod", pipeline="web")
    result = publish(gitops, request, STORY_DATES["promote-prod"])
    story.commits["promote-prod"] = squash_pull_request(
        ops, result, 12, STORY_DATES["promote-prod"]
    )

    def previous(repo: GitOpsRepo, top: Path) -> PromotionPlan:
        return plan_rollback(
            repo, "nginx", "prod", read_history(repo.root), previous=True, pipeline="web"
        )

    result = publish(gitops, previous, STORY_DATES["rollback-prod"])
    story.commits["rollback-prod"] = merge_pull_request(
        ops, result, 13, STORY_DATES["rollback-prod"]
    )
    return story


def publish(gitops: Path, what: PromotionRequest | PlanMaker, when: str) -> PromotionResult:
    """``promote`` (or a rollback's plan maker) from the GitOps root ``gitops`` of the user's
    clone, pushing its branch to the remote without a pull request; committed at ``when``."""
    with environment(dated(when)):
        result = promote(gitops, what, PublishOptions(pull_request=False), env=os.environ)
    assert result.pushed and result.branch is not None, result
    return result


def build_story(root: Path, *, subdir: str = "") -> Story:
    """``tell_story`` under an isolated HOME, git identity and temp dir in ``root``."""
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, root)
        return tell_story(root / "story", subdir=subdir)


def copy_story(story: Story, dest: Path) -> Story:
    """An independent copy of a story (same commits) under ``dest``."""
    return Story(copy_ops(story.ops, dest), dict(story.commits))


_STORIES: dict[str, Story] = {}


def shared_story(factory: pytest.TempPathFactory, *, subdir: str = "") -> Story:
    """The story, told once per test session (read it, or ``copy_story`` it to change it)."""
    if subdir not in _STORIES:
        _STORIES[subdir] = build_story(factory.mktemp("story"), subdir=subdir)
    return _STORIES[subdir]
