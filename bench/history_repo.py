"""Build a git repository with a realistic history on top of a generated GitOps repository.

    .venv/bin/python bench/history_repo.py OUT_DIR [--commits 1000] [--pipelines 10 ...]

The first commit adds a repository written by ``generate.py``; then ``commits`` more commits
do what real GitOps repositories see, in a seeded random mix:

* Flux image automation bumps a dev-stage tag on its setter-marked lines (author
  ``fluxcdbot``), sometimes two apps of a pipeline at once; Renovate bumps a dev chart;
* promotions copy the (later) versions of one to three apps to the next stage, with ``Promoted-*``
  trailers, as a squash merge (``... (#N)``), a direct push, or a pull request branch merged
  with ``--no-ff`` (``Merge pull request #N from acme/promote/...``: two commits, and the
  version changes on the first-parent history at the merge commit);
* hand edits: hotfix versions in a later stage, replicas and comments (no version change),
  and now and then a bump of a base version that every stage inheriting it follows;
* commits touching only unrelated files (README.md, docs/).

An app that inherits its version gets an ``images:`` entry (or, for a HelmRelease, a chart
version patch) when a version is first set in its stage, as ``promote`` would write it.

Everything goes through one ``git fast-import`` stream with fixed identities and dates
stepping forward, so the same arguments give the same commit ids.  ``build()`` returns every
version change the history holds (including the first commit's), with its commit id.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import RepoPlan, StageApp, _bump, _json6902, plan, write

START = 1_736_154_000  # 2025-01-06T09:00:00Z
FLUX = ("fluxcdbot", "fluxcdbot@users.noreply.github.com")
RENOVATE = ("renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com")
GITHUB = ("GitHub", "noreply@github.com")
MARKS_FILE = "bench-history-marks"
"""Under ``.git``: fast-import's mark -> commit id map, and what marks a built repository."""
PEOPLE = (
    ("Ada Lovelace", "ada@example.com"),
    ("Grace Hopper", "grace@example.com"),
    ("Linus Torvalds", "linus@example.com"),
    ("Margaret Hamilton", "margaret@example.com"),
    ("Ken Thompson", "ken@example.com"),
)
_IMAGE_LINE = re.compile(r"^(\s*(?:- )?image: )([^\s#]+):([^\s#:]+)(.*)$")
_TAG_LINE = re.compile(r"^(\s*newTag: )(\S+)(.*)$")


@dataclass(frozen=True)
class Change:
    """One version change the history must report (``old`` None: the app appeared)."""

    pipeline: str
    stage: str
    kind: str
    app: str
    old: str | None
    new: str
    mark: int
    """fast-import mark of the first-parent commit that makes it."""

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.app}"


@dataclass(frozen=True)
class Expected:
    """A change with its commit id and the pull request its commit names."""

    change: Change
    commit: str
    pull_request: int | None
    author: str


@dataclass
class HistoryRepo:
    root: Path
    commits: int
    """Commits in the repository, the first one included."""
    first_parent: int
    """Commits on the first-parent history of main (what ``history`` walks)."""
    version_commits: int
    """First-parent commits that change at least one version (the first one included)."""
    expected: list[Expected]
    kinds: Counter[str]
    seconds: float


@dataclass
class _Slot:
    """An app of a stage as the history has left it."""

    pipeline: str
    stage: str
    order: int
    path: str
    plan: StageApp
    form: str
    version: str

    @property
    def name(self) -> str:
        return self.plan.app.name

    @property
    def kind(self) -> str:
        return self.plan.app.kind

    @property
    def repos(self) -> set[str]:
        """Image repositories that carry the app's version (main and init containers)."""
        return {c.repo for c in self.plan.app.containers if c.role != "sidecar"}


@dataclass
class _Builder:
    repo: RepoPlan
    files: dict[str, str]
    rng: random.Random
    stream: list[bytes] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    prs: dict[int, int | None] = field(default_factory=dict)
    authors: dict[int, str] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)
    mark: int = 0
    head: int = 0
    now: int = START
    pr_number: int = 100
    commits: int = 0
    first_parent: int = 0

    def __post_init__(self) -> None:
        self.slots: dict[tuple[str, str], list[_Slot]] = {}
        self.base_version = {a.name: a.version for a in self.repo.apps}
        for stage in self.repo.stages:
            self.slots[(stage.pipeline, stage.name)] = [
                _Slot(stage.pipeline, stage.name, stage.order, stage.path, a, a.form, a.version)
                for a in stage.apps
            ]

    # -- commits ------------------------------------------------------------------------

    def commit(
        self,
        ref: str,
        author: tuple[str, str],
        message: str,
        files: Iterable[str],
        *,
        parent: int | None,
        merge: int | None = None,
        committer: tuple[str, str] | None = None,
    ) -> int:
        self.mark += 1
        self.now += self.rng.randint(600, 4 * 3600)
        who = committer or author
        head = [
            f"commit {ref}",
            f"mark :{self.mark}",
            f"author {author[0]} <{author[1]}> {self.now} +0000",
            f"committer {who[0]} <{who[1]}> {self.now} +0000",
        ]
        data = message.encode()
        self.stream.append(("\n".join(head) + f"\ndata {len(data)}\n").encode() + data + b"\n")
        lines = []
        if parent is not None:
            lines.append(f"from :{parent}")
        if merge is not None:
            lines.append(f"merge :{merge}")
        self.stream.append("".join(f"{line}\n" for line in lines).encode())
        for path in sorted(set(files)):
            body = self.files[path].encode()
            self.stream.append(f"M 100644 inline {path}\ndata {len(body)}\n".encode() + body)
            self.stream.append(b"\n")
        self.stream.append(b"\n")
        self.commits += 1
        self.authors[self.mark] = f"{author[0]} <{author[1]}>"
        return self.mark

    def on_main(
        self,
        author: tuple[str, str],
        message: str,
        files: Iterable[str],
        moved: Sequence[tuple[_Slot, str | None]],
        pr: int | None = None,
        committer: tuple[str, str] | None = None,
    ) -> None:
        parent = self.head or None
        self.head = self.commit(
            "refs/heads/main", author, message, files, parent=parent, committer=committer
        )
        self.first_parent += 1
        self.record(moved, pr)

    def record(self, moved: Sequence[tuple[_Slot, str | None]], pr: int | None) -> None:
        for slot, old in moved:
            self.changes.append(
                Change(
                    slot.pipeline, slot.stage, slot.kind, slot.name, old, slot.version, self.head
                )
            )
        self.prs[self.head] = pr

    # -- editing ------------------------------------------------------------------------

    def set_version(self, slot: _Slot, version: str) -> list[str]:
        """Write ``version`` where the stage sets it; the files changed."""
        slot.version = version
        app = slot.plan.app
        patch = f"{slot.path}/{app.name}.yaml"
        kustomization = f"{slot.path}/kustomization.yaml"
        if slot.form == "inherit":
            if app.kind == "HelmRelease":
                self.files[patch] = self.files[patch].replace(
                    "\nspec:\n", f"\nspec:\n  chart:\n    spec:\n      version: {version}\n", 1
                )
                slot.form = "smp"
                return [patch]
            text = self.files[kustomization]
            if "\nimages:\n" not in text:
                text += "images:\n"
            for repo in sorted(slot.repos):
                text += f"  - name: {repo}\n    newTag: {version}\n"
            self.files[kustomization] = text
            slot.form = "images"
            return [kustomization]
        if slot.form == "json6902":
            path = f"{slot.path}/{app.name}-version.yaml"
            self.files[path] = _json6902(version, 0)
            return [path]
        if slot.form == "smp" and app.kind == "HelmRelease":
            self.files[patch] = _replace_line(
                self.files[patch], lambda line: line.startswith("      version: "), version
            )
            return [patch]
        if slot.form == "smp":
            self.files[patch] = _set_images(self.files[patch], slot.repos, version)
            return [patch]
        if slot.form == "images":
            self.files[kustomization] = _set_tags(self.files[kustomization], slot.repos, version)
            return [kustomization]
        if slot.form == "inline" and app.kind == "HelmRelease":
            self.files[kustomization] = _set_inline_chart(
                self.files[kustomization], app.name, version
            )
            return [kustomization]
        if slot.form == "inline":
            self.files[kustomization] = _set_images(self.files[kustomization], slot.repos, version)
            return [kustomization]
        raise ValueError(f"unknown form {slot.form}")

    # -- events -------------------------------------------------------------------------

    def pipelines(self) -> list[str]:
        return [p.name for p in self.repo.pipelines]

    def stage_names(self, pipeline: str) -> list[str]:
        found = next(p for p in self.repo.pipelines if p.name == pipeline)
        return [s.name for s in found.stages]

    def flux_bump(self) -> bool:
        pipeline = self.rng.choice(self.pipelines())
        dev = self.slots[(pipeline, self.stage_names(pipeline)[0])]
        automated = [s for s in dev if s.plan.automated]
        if not automated:
            return False
        chosen = self.rng.sample(
            automated, 2 if len(automated) > 1 and self.rng.random() < 0.15 else 1
        )
        moved, files, images = [], [], []
        for slot in chosen:
            old = slot.version
            files += self.set_version(slot, _bump(self.rng, old))
            moved.append((slot, old))
            main = next(c for c in slot.plan.app.containers if c.role == "main")
            images.append(f"{main.repo}:{slot.version}")
        message = (
            "Automated image update\n\nAutomation name: flux-system/flux-system\n\nFiles:\n"
            + "".join(f"- {f}\n" for f in sorted(set(files)))
            + "Images:\n"
            + "".join(f"- {i}\n" for i in images)
        )
        self.on_main(FLUX, message, files, moved)
        self.kinds["flux image update"] += 1
        return True

    def renovate_chart(self) -> bool:
        pipeline = self.rng.choice(self.pipelines())
        dev = self.slots[(pipeline, self.stage_names(pipeline)[0])]
        charts = [s for s in dev if s.kind == "HelmRelease"]
        if not charts:
            return False
        slot = self.rng.choice(charts)
        old = slot.version
        files = self.set_version(slot, _bump(self.rng, old))
        self.pr_number += 1
        pr = self.pr_number
        chart = slot.plan.app.chart
        message = (
            f"chore(deps): update helm release {chart} to v{slot.version} ({pipeline}/dev) "
            f"(#{pr})\n"
        )
        self.on_main(RENOVATE, message, files, [(slot, old)], pr, committer=GITHUB)
        self.kinds["renovate chart update (squash)"] += 1
        return True

    def promotion(self, budget: int) -> int:
        """Promote; the number of commits made (0: nothing to promote here)."""
        pipeline = self.rng.choice(self.pipelines())
        names = self.stage_names(pipeline)
        if len(names) < 2:
            return 0
        order = self.rng.randrange(len(names) - 1)
        source, target = names[order], names[order + 1]
        pairs = [
            (s, t)
            for s, t in zip(
                self.slots[(pipeline, source)], self.slots[(pipeline, target)], strict=True
            )
            if _newer(s.version, t.version)
        ]
        if not pairs:
            return 0
        count = 1 if self.rng.random() < 0.8 else min(len(pairs), self.rng.randint(2, 3))
        chosen = self.rng.sample(pairs, count)
        moved, files, lines, trailers = [], [], [], []
        for src, dst in chosen:
            old = dst.version
            files += self.set_version(dst, src.version)
            moved.append((dst, old))
            lines.append(f"{dst.kind}/{dst.name}: {old} -> {dst.version}")
            trailers += [f"Promoted-App: {dst.kind}/{dst.name}", f"Promoted-Version: {dst.version}"]
        what = ", ".join(d.name for _, d in chosen)
        title = f"Promote {what} from {source} to {target} in {pipeline}"
        body = "\n".join(lines)
        footer = "\n".join(
            [
                f"Promoted-Pipeline: {pipeline}",
                f"Promoted-From: {source}",
                f"Promoted-To: {target}",
                *trailers,
            ]
        )
        person = self.rng.choice(PEOPLE)
        style = self.rng.random()
        if style < 0.45 and budget >= 2:
            self.pr_number += 1
            pr = self.pr_number
            branch = f"promote/{pipeline}/{target}/{chosen[0][1].name}-{chosen[0][1].version}"
            tip = self.commit(
                f"refs/heads/{branch}",
                person,
                f"{title}\n\n{body}\n\n{footer}\n",
                files,
                parent=self.head or None,
            )
            parent = self.head
            self.head = self.commit(
                "refs/heads/main",
                person,
                f"Merge pull request #{pr} from acme/{branch}\n\n{title}\n",
                files,
                parent=parent,
                merge=tip,
                committer=GITHUB,
            )
            self.first_parent += 1
            self.record(moved, pr)
            self.kinds["promotion (merge --no-ff)"] += 1
            return 2
        if style < 0.85:
            self.pr_number += 1
            pr = self.pr_number
            message = f"{title} (#{pr})\n\n{body}\n\n{footer}\n"
            self.on_main(person, message, files, moved, pr, committer=GITHUB)
            self.kinds["promotion (squash)"] += 1
            return 1
        self.on_main(person, f"{title}\n\n{body}\n\n{footer}\n", files, moved)
        self.kinds["promotion (direct push)"] += 1
        return 1

    def hotfix(self) -> bool:
        pipeline = self.rng.choice(self.pipelines())
        names = self.stage_names(pipeline)
        stage = self.rng.choice(names[1:] or names)
        slot = self.rng.choice(self.slots[(pipeline, stage)])
        old = slot.version
        files = self.set_version(slot, _bump(self.rng, old))
        message = f"Hotfix: pin {slot.name} {slot.version} in {pipeline}/{stage}\n"
        self.on_main(self.rng.choice(PEOPLE), message, files, [(slot, old)])
        self.kinds["hand edit: hotfix version"] += 1
        return True

    def tweak(self) -> bool:
        pipeline = self.rng.choice(self.pipelines())
        stage = self.rng.choice(self.stage_names(pipeline))
        slot = self.rng.choice(self.slots[(pipeline, stage)])
        path = f"{slot.path}/{slot.name}.yaml"
        text = self.files[path]
        found = re.search(r"^(\s*(?:replicas|replicaCount): )(\d+)$", text, re.M)
        if found:
            replicas = int(found.group(2)) % 5 + 1
            text = text[: found.start(2)] + str(replicas) + text[found.end(2) :]
            message = f"Scale {slot.name} to {replicas} in {pipeline}/{stage}\n"
        else:
            path = f"{slot.path}/kustomization.yaml"
            text = self.files[path].replace(
                "\nnamespace: ",
                f"\n# Reviewed {self.commits} by the platform team.\nnamespace: ",
                1,
            )
            message = f"Note review of {pipeline}/{stage}\n"
        self.files[path] = text
        self.on_main(self.rng.choice(PEOPLE), message, [path], [])
        self.kinds["hand edit: no version change"] += 1
        return True

    def unrelated(self) -> bool:
        path = self.rng.choice(("README.md", "docs/runbook.md", "docs/oncall.md"))
        self.files[path] = self.files.get(path, f"# {path}\n") + f"\n- note {self.commits}\n"
        self.on_main(self.rng.choice(PEOPLE), f"docs: update {path}\n", [path], [])
        self.kinds["unrelated files only"] += 1
        return True

    def base_bump(self) -> bool:
        app = self.rng.choice(self.repo.apps)
        old = self.base_version[app.name]
        new = _bump(self.rng, old)
        self.base_version[app.name] = new
        if app.kind == "HelmRelease":
            path = f"base/{app.name}/helmrelease.yaml"
            self.files[path] = _replace_line(
                self.files[path], lambda line: line.startswith("      version: "), new
            )
        else:
            path = app.file
            repos = {c.repo for c in app.containers if c.role != "sidecar"}
            self.files[path] = _set_images(self.files[path], repos, new)
        moved = []
        for slots in self.slots.values():
            for slot in slots:
                if slot.name == app.name and slot.form == "inherit":
                    moved.append((slot, slot.version))
                    slot.version = new
        self.on_main(self.rng.choice(PEOPLE), f"base: bump {app.name} to {new}\n", [path], moved)
        self.kinds["hand edit: base version"] += 1
        return True


def _newer(a: str, b: str) -> bool:
    """Whether version ``a`` is later than ``b`` (the generator's semver and calver)."""
    return tuple(int(p) for p in a.removeprefix("v").split(".")) > tuple(
        int(p) for p in b.removeprefix("v").split(".")
    )


def _replace_line(text: str, match: Callable[[str], bool], value: str) -> str:
    """Replace the last word of every line ``match`` accepts with ``value``."""
    out = []
    for line in text.split("\n"):
        if match(line):
            line = line.rsplit(" ", 1)[0] + f" {value}"
        out.append(line)
    return "\n".join(out)


def _set_images(text: str, repos: set[str], version: str) -> str:
    """Set the tag of every ``image:`` line of one of ``repos``, keeping any setter."""
    out = []
    hits = 0
    for line in text.split("\n"):
        found = _IMAGE_LINE.match(line)
        if found and found.group(2) in repos:
            line = f"{found.group(1)}{found.group(2)}:{version}{found.group(4)}"
            hits += 1
        out.append(line)
    if not hits:
        raise ValueError(f"no image line of {sorted(repos)}")
    return "\n".join(out)


def _set_tags(text: str, repos: set[str], version: str) -> str:
    """Set ``newTag`` of the ``images:`` entries of ``repos``, keeping any setter."""
    lines = text.split("\n")
    hits = 0
    for i, line in enumerate(lines[:-1]):
        if line.startswith("  - name: ") and line[len("  - name: ") :] in repos:
            found = _TAG_LINE.match(lines[i + 1])
            if found:
                lines[i + 1] = f"{found.group(1)}{version}{found.group(3)}"
                hits += 1
    if not hits:
        raise ValueError(f"no images entry of {sorted(repos)}")
    return "\n".join(lines)


def _set_inline_chart(text: str, name: str, version: str) -> str:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line == f"      name: {name}" and lines[i - 1] == "      kind: HelmRelease":
            for j in range(i + 1, len(lines)):
                if lines[j].lstrip().startswith("value: "):
                    lines[j] = lines[j].rsplit(" ", 1)[0] + f" {version}"
                    return "\n".join(lines)
    raise ValueError(f"no inline chart patch of {name}")


def build(
    root: Path,
    *,
    commits: int = 1000,
    pipelines: int = 10,
    stages: int = 4,
    apps: int = 10,
    seed: int = 0,
) -> HistoryRepo:
    """Write the repository and its history under ``root`` (must be empty or absent)."""
    start = time.perf_counter()
    repo = plan(pipelines, stages, apps, seed)
    write(root, repo)
    files: dict[str, str] = {}
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            files[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    b = _Builder(repo, files, random.Random(f"kustomize-promoter-history:{seed}"))
    initial = [(slot, None) for slots in b.slots.values() for slot in slots]
    b.on_main(PEOPLE[0], "Initial GitOps repository\n", sorted(files), initial)
    b.kinds["initial import"] += 1
    made = 0
    while made < commits:
        roll = b.rng.random()
        if roll < 0.30:
            done = int(b.flux_bump())
        elif roll < 0.35:
            done = int(b.renovate_chart())
        elif roll < 0.70:
            done = b.promotion(commits - made)
        elif roll < 0.78:
            done = int(b.hotfix())
        elif roll < 0.91:
            done = int(b.tweak())
        elif roll < 0.98:
            done = int(b.unrelated())
        else:
            done = int(b.base_bump())
        made += done
    git = ["git", "-c", "init.defaultBranch=main", "-C", str(root)]
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run([*git, "init", "-q"], check=True, env=env)
    marks = root / ".git" / MARKS_FILE
    subprocess.run(
        [*git, "fast-import", "--quiet", "--done", f"--export-marks={marks}"],
        input=b"".join(b.stream) + b"done\n",
        check=True,
        env=env,
    )
    subprocess.run([*git, "symbolic-ref", "HEAD", "refs/heads/main"], check=True, env=env)
    subprocess.run([*git, "reset", "-q", "--hard"], check=True, env=env)
    shas = {}
    for line in marks.read_text().splitlines():
        mark, sha = line.split()
        shas[int(mark.lstrip(":"))] = sha
    expected = [Expected(c, shas[c.mark], b.prs.get(c.mark), b.authors[c.mark]) for c in b.changes]
    return HistoryRepo(
        root,
        b.commits,
        b.first_parent,
        len({c.mark for c in b.changes}),
        expected,
        b.kinds,
        time.perf_counter() - start,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--pipelines", type=int, default=10)
    parser.add_argument("--stages", type=int, default=4)
    parser.add_argument("--apps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    built = build(
        args.out_dir,
        commits=args.commits,
        pipelines=args.pipelines,
        stages=args.stages,
        apps=args.apps,
        seed=args.seed,
    )
    print(
        f"{built.commits} commits ({built.first_parent} first-parent, "
        f"{built.version_commits} changing versions), {len(built.expected)} version changes, "
        f"built in {built.seconds:.1f} s under {built.root}"
    )
    for kind, count in sorted(built.kinds.items()):
        print(f"  {count:5d}  {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
