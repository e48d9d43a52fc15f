"""A small real git GitOps repo (stages dev and prod of pipeline demo, app ``web``) with a
bare remote, and the cluster objects that run it, for the ``--cluster`` tests."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.builders.repos import GIT_ENV, deployment, flux_sync, git_init, kustomization, write
from tests.fakes import kube_objects as objects
from tests.fakes.kube import FakeKube


def run_git(cwd: Path, *args: str) -> str:
    """git in ``cwd`` with a pinned identity; its stdout."""
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


@dataclass(frozen=True)
class ClusterRepo:
    """The clone (``work``), its bare ``remote``, and the first commit."""

    work: Path
    remote: Path
    first: str

    def commit_prod(self, tag: str, *, push: bool = True) -> str:
        """Change prod's image to ``tag``, commit (and push); the new commit."""
        write(self.work, {"demo/prod/deployment.yaml": deployment("web", f"example.com/web:{tag}")})
        run_git(self.work, "commit", "-qam", f"prod {tag}")
        if push:
            run_git(self.work, "push", "-q", "origin", "main")
        return run_git(self.work, "rev-parse", "HEAD")


def make_cluster_repo(tmp_path: Path, extra: dict[str, str] | None = None) -> ClusterRepo:
    """dev runs web 1.1.0, prod web 1.0.0; pushed to a bare remote with HEAD main."""
    work = tmp_path / "work"
    for order, (stage, tag) in enumerate((("dev", "1.1.0"), ("prod", "1.0.0"))):
        base = f"demo/{stage}"
        write(
            work,
            {
                f"{base}/kustomization.yaml": kustomization("deployment.yaml"),
                f"{base}/deployment.yaml": deployment("web", f"example.com/web:{tag}"),
                f"{base}/sync.yaml": flux_sync(
                    f"demo-{stage}",
                    f"./{base}",
                    "demo",
                    order,
                    spec_extra=f"targetNamespace: {stage}",
                ),
            },
        )
    if extra:
        write(work, extra)
    git_init(work)
    remote = tmp_path / "remote.git"
    subprocess.run(
        ["git", "init", "-q", "--bare", "-b", "main", str(remote)],
        env=GIT_ENV,
        check=True,
        capture_output=True,
    )
    run_git(work, "remote", "add", "origin", str(remote))
    run_git(work, "push", "-q", "origin", "main")
    return ClusterRepo(work, remote, run_git(work, "rev-parse", "HEAD"))


def run_stages(
    kube: FakeKube,
    applied: str,
    *,
    dev: str = "1.1.0",
    prod: str = "1.0.0",
    **kustomization: object,
) -> None:
    """Both stages' Kustomizations (Ready on ``applied`` unless ``kustomization`` says
    otherwise, for prod) and web running the given tags in namespaces dev and prod."""
    for stage, tag in (("dev", dev), ("prod", prod)):
        extra = kustomization if stage == "prod" else {}
        fields: dict[str, object] = {"revision": f"main@sha1:{applied}", **extra}
        kube.apply(
            objects.kustomization(f"demo-{stage}", target_namespace=stage, **fields)  # type: ignore[arg-type]
        )
        kube.apply(objects.deployment("web", stage, images={"web": f"example.com/web:{tag}"}))
