"""Compare two installations of the project on the benchmark repositories, interleaved.

The host's speed drifts by a quarter within an hour on a shared VM, so figures from runs
made at different times do not compare; this runs the same commands with an old and a new
installation in turns (old, new, new, old, ...) and prints min / median wall time and the
least CPU of each::

    python bench/ab.py OLD_VENV/bin NEW_VENV/bin --repo /tmp/speed15-bench --history /tmp/hist

``--repo``: a repository ``bench/run.py --keep DIR`` generated; ``--history``: one
``--history-keep DIR`` built.  Each installation keeps its status cache in a directory of
its own (a warm run and ``promote`` read it).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

Argv = Callable[[Path], list[str]]


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _cases(repo: str, history: str | None) -> list[tuple[str, Argv, int]]:
    def promote(app: str) -> Argv:
        return lambda b: [
            str(b / "promote"),
            app,
            "dev",
            "qa",
            "-p",
            "p050",
            "--repo",
            repo,
            "--dry-run",
        ]

    cases: list[tuple[str, Argv, int]] = [
        (
            "cold status",
            lambda b: [str(b / "pipelines"), "status", "-o", "json", "--no-cache", "--repo", repo],
            5,
        ),
        (
            "warm status",
            lambda b: [str(b / "pipelines"), "status", "-o", "json", "--repo", repo],
            7,
        ),
        ("promote SMP", promote("identity-worker"), 5),
        ("promote images", promote("inventory-sync"), 5),
        ("promote json6902", promote("loyalty-search"), 5),
        ("promote inherited", promote("media-svc"), 5),
    ]
    if history is not None:
        cases.append(
            (
                "history",
                lambda b: [str(b / "pipelines"), "history", "-o", "json", "--repo", history],
                3,
            )
        )
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path, help="the old installation's bin directory")
    parser.add_argument("new", type=Path, help="the new installation's bin directory")
    parser.add_argument("--repo", required=True, help="the generated benchmark repository")
    parser.add_argument("--history", help="the generated history repository")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these cases, by name")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="promoter-ab-") as tmp:
        envs = {
            b: {**base, "XDG_CACHE_HOME": f"{tmp}/{name}"}
            for name, b in (("old", args.old), ("new", args.new))
        }
        for (
            b,
            env,
        ) in envs.items():  # a status run first, as people do: promote reuses its discovery
            _timed([str(b / "pipelines"), "status", "-o", "json", "--repo", args.repo], env)
        for name, argv, runs in _cases(args.repo, args.history):
            if args.only and name not in args.only:
                continue
            found: dict[Path, list[tuple[float, float]]] = {args.old: [], args.new: []}
            for number in range(runs):
                order = (args.old, args.new) if number % 2 == 0 else (args.new, args.old)
                for b in order:
                    found[b].append(_timed(argv(b), envs[b]))
            shown = []
            for label, b in (("old", args.old), ("new", args.new)):
                walls = [w for w, _ in found[b]]
                cpus = [c for _, c in found[b]]
                shown.append(
                    f"{label}: wall min {min(walls):.2f} median {statistics.median(walls):.2f},"
                    f" CPU min {min(cpus):.2f}"
                )
            print(f"{name:18s} {' | '.join(shown)}", flush=True)


if __name__ == "__main__":
    main()
