"""Benchmark ``pipelines`` on a large generated GitOps repository.

    .venv/bin/python bench/run.py [--keep DIR] [--pipelines 100 --stages 4 --apps 20]
                                  [--render-sample N] [--profile [TOP]]
                                  [--promote-runs 5] [--history-commits 1000 ...]
                                  [--write-results [FILE]] [--max-load 1.5]

Generates the repository (``bench/generate.py``) in a temporary directory, or in ``--keep
DIR`` (reused when it already holds a repository generated with the same parameters), runs
every measurement of ``MEASUREMENTS`` in order, prints a table and, last, one JSON line with
every figure.  Outputs are checked against the generator's plan: a wrong count or version
fails the run loudly (exit 1) rather than producing a fast-but-wrong figure.

Measurements: ``status --output json --no-cache`` (cold); ``status`` again with a warm cache
(nothing changed; the same output); cold status at a quarter, half and all of the pipelines
(linear scaling) with the peak memory; ``kubectl kustomize`` of every stage; ``--help``;
``promote APP FROM TO --pipeline P --dry-run`` for an app whose target stage sets its version
with a strategic-merge patch, an ``images:`` entry, a HelmRelease JSON6902 patch, and none
(inherited), once as installed (verifying with ``kubectl kustomize``) and once with no
kubectl or kustomize on PATH ("native verification only"); ``history --output json`` on a
separate git repository with ``--history-commits`` commits (``bench/history_repo.py``),
checked change by change; ``verify4500``: ``promote --dry-run`` verified by kubectl on a
repository of about 4,500 files whose stages use generators (``bench/verify_repo.py``).
``--write-results`` also writes the table, the machine and the
command as Markdown (``bench/RESULTS.md``).

To add a command (``promote --dry-run``, ``history``, ...) write a function taking the
``Context`` and returning a list of ``Figure`` and append a ``Measurement`` to
``MEASUREMENTS``; ``time_command`` runs and times a subprocess.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import os
import platform
import pstats
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import SOURCE_TYPE, RepoPlan, StageApp, StagePlan, plan, write
from history_repo import MARKS_FILE, HistoryRepo
from history_repo import build as build_history
from verify_repo import APP as VERIFY_APP
from verify_repo import NEW as VERIFY_NEW
from verify_repo import OLD as VERIFY_OLD
from verify_repo import build as build_verify_repo

PARAMS_FILE = ".bench-params.json"
RESULTS_FILE = Path(__file__).resolve().parent / "RESULTS.md"
APP_KINDS = frozenset({"Deployment", "StatefulSet", "CronJob", "HelmRelease"})


class BenchError(Exception):
    """A command failed or printed something the plan does not predict."""


# -- framework ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One reported number: ``key`` goes into the JSON line, ``label`` into the table."""

    key: str
    label: str
    value: float | int | str | bool
    unit: str = ""
    note: str = ""

    def shown(self) -> str:
        if isinstance(self.value, bool):
            text = "yes" if self.value else "no"
        elif isinstance(self.value, float):
            text = f"{self.value:.3f}" if self.value < 100 else f"{self.value:.1f}"
        elif isinstance(self.value, int):
            text = f"{self.value:,}"
        else:
            text = self.value
        return f"{text} {self.unit}".rstrip()


@dataclass
class Context:
    """What measurements share: the repository, its plan, the tools and earlier figures."""

    repo: Path
    plan: RepoPlan
    args: argparse.Namespace
    pipelines_bin: Path
    figures: dict[str, Figure] = field(default_factory=dict)
    status_json: str = ""
    """What the cold ``status --output json`` printed (the warm runs must print the same)."""

    def value(self, key: str) -> float:
        value = self.figures[key].value
        if isinstance(value, (str, bool)):
            raise TypeError(f"figure {key} is not a number")
        return float(value)


@dataclass(frozen=True)
class Measurement:
    name: str
    run: Callable[[Context], list[Figure]]
    enabled: Callable[[Context], bool] = lambda _ctx: True


@dataclass(frozen=True)
class Timed:
    seconds: list[float]
    """Wall time of each run."""
    cpu: list[float]
    """User + system CPU time of each run (children), less sensitive to a busy machine."""
    last: subprocess.CompletedProcess[str]

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def time_command(
    argv: Sequence[str | os.PathLike[str]],
    runs: int,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Timed:
    """Run ``argv`` ``runs`` times (in ``env``, default: ours); every run must exit 0."""
    seconds = []
    cpu = []
    done: subprocess.CompletedProcess[str] | None = None
    for _ in range(runs):
        before = _children_cpu()
        start = time.perf_counter()
        done = subprocess.run(
            [str(a) for a in argv],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env,
            check=False,
        )
        seconds.append(time.perf_counter() - start)
        cpu.append(_children_cpu() - before)
        if done.returncode != 0:
            raise BenchError(
                f"{' '.join(str(a) for a in argv)} exited {done.returncode}:\n{done.stderr[-2000:]}"
            )
    assert done is not None
    return Timed(seconds, cpu, done)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- measurements ---------------------------------------------------------------------------


def measure_files(ctx: Context) -> list[Figure]:
    files = 0
    yaml_files = 0
    for _dirpath, dirnames, filenames in os.walk(ctx.repo):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        names = [n for n in filenames if not n.startswith(".")]
        files += len(names)
        yaml_files += sum(n.endswith((".yaml", ".yml")) for n in names)
    stages = sum(1 for _ in ctx.plan.stages)
    return [
        Figure("files", "files in the repository", files),
        Figure("yaml_files", "YAML files", yaml_files),
        Figure("stages", "stages (pipelines x stages)", stages),
    ]


def measure_status(ctx: Context) -> list[Figure]:
    argv: list[str | Path] = [ctx.pipelines_bin, "status", "--repo", ctx.repo, "--output", "json"]
    timed = time_command([*argv, "--no-cache"], ctx.args.status_runs)
    try:
        doc = json.loads(timed.last.stdout)
    except json.JSONDecodeError as exc:
        raise BenchError(f"pipelines status printed invalid JSON: {exc}") from None
    apps, images = check_status(doc, ctx.plan)
    runs = ", ".join(f"{s:.2f}" for s in timed.seconds)
    ctx.status_json = timed.last.stdout
    return [
        Figure(
            "status_best_s",
            "status --output json, best",
            timed.best,
            "s",
            f"--no-cache (cold); runs: {runs}; aim < 1.5 s",
        ),
        Figure("status_median_s", "status --output json, median", timed.median, "s"),
        Figure("status_cpu_best_s", "status --output json, CPU best", min(timed.cpu), "s"),
        Figure("status_apps", "apps checked in status output", apps, note=f"{images} images"),
    ]


def measure_render(ctx: Context) -> list[Figure]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise BenchError("kubectl is not on PATH")
    stages = list(ctx.plan.stages)
    chosen = sample(stages, ctx.args.render_sample)
    seconds = []
    cpu = []
    outputs: list[tuple[StagePlan, str]] = []
    for stage in chosen:
        timed = time_command([kubectl, "kustomize", ctx.repo / stage.path], 1)
        seconds.append(timed.best)
        cpu.append(timed.cpu[0])
        outputs.append((stage, timed.last.stdout))
    for stage, text in outputs:  # untimed: the plan must be what kustomize renders
        check_render(stage, text)
    measured = sum(seconds)
    total = measured * len(stages) / len(chosen)
    extrapolated = len(chosen) < len(stages)
    note = (
        f"EXTRAPOLATED from {len(chosen)} of {len(stages)} stages ({measured:.1f} s measured)"
        if extrapolated
        else f"all {len(stages)} stages, one kubectl kustomize each"
    )
    figures = [
        Figure("render_total_s", "kubectl kustomize, every stage", total, "s", note),
        Figure("render_per_stage_s", "kubectl kustomize, per stage", measured / len(chosen), "s"),
        Figure(
            "render_cpu_total_s",
            "kubectl kustomize, CPU every stage",
            sum(cpu) * len(stages) / len(chosen),
            "s",
        ),
        Figure("render_stages_measured", "stages rendered", len(chosen)),
        Figure("render_extrapolated", "render total extrapolated", extrapolated),
    ]
    if "status_best_s" in ctx.figures:
        ratio = total / ctx.value("status_best_s")
        figures.append(
            Figure("render_over_status", "ratio render / status (best)", ratio, "x", "aim >= 50x")
        )
    if "status_cpu_best_s" in ctx.figures:
        ratio = sum(cpu) * len(stages) / len(chosen) / ctx.value("status_cpu_best_s")
        figures.append(Figure("render_over_status_cpu", "ratio render / status (CPU)", ratio, "x"))
    return figures


def measure_help(ctx: Context) -> list[Figure]:
    timed = time_command([ctx.pipelines_bin, "--help"], ctx.args.help_runs)
    if "status" not in timed.last.stdout:
        raise BenchError("pipelines --help does not list the status command")
    return [
        Figure(
            "help_best_s",
            "pipelines --help, best",
            timed.best,
            "s",
            f"best of {ctx.args.help_runs}",
        )
    ]


_IN_PROCESS = """
import contextlib, cProfile, gc, io, json, sys, time
mode, repo, prof_out = sys.argv[1], sys.argv[2], sys.argv[3]
gc_s, gc_n, t0 = [0.0, 0.0, 0.0], [0, 0, 0], [0.0]
def on_gc(phase, info):
    if phase == "start":
        t0[0] = time.perf_counter()
    else:
        gc_s[info["generation"]] += time.perf_counter() - t0[0]
        gc_n[info["generation"]] += 1
start = time.perf_counter()
from cli.main import app
imported = time.perf_counter() - start
out = io.StringIO()
profiler = cProfile.Profile() if mode == "profile" else None
gc.callbacks.append(on_gc)
start = time.perf_counter()
with contextlib.redirect_stdout(out):
    if profiler is not None:
        profiler.enable()
    app(["status", "--repo", repo, "--output", "json", "--no-cache"], standalone_mode=False)
    if profiler is not None:
        profiler.disable()
seconds = time.perf_counter() - start
gc.callbacks.remove(on_gc)
if profiler is not None:
    profiler.dump_stats(prof_out)
sys.stdout.write(json.dumps({"import_s": imported, "status_s": seconds, "gc_s": gc_s,
                             "gc_runs": gc_n, "output": out.getvalue()}))
"""


def _in_process(ctx: Context, mode: str, prof_out: Path) -> dict[str, Any]:
    """``status -o json`` run by ``app()`` in a fresh interpreter (no warm caches)."""
    argv = [sys.executable, "-c", _IN_PROCESS, mode, str(ctx.repo), str(prof_out)]
    done = time_command(argv, 1).last
    result: dict[str, Any] = json.loads(done.stdout)
    check_status(json.loads(result["output"]), ctx.plan)
    return result


def measure_profile(ctx: Context) -> list[Figure]:
    """``status -o json`` in-process: once timing the garbage collector, once under cProfile."""
    with tempfile.TemporaryDirectory(prefix="promoter-prof-") as tmp:
        prof_out = Path(ctx.args.profile_out or Path(tmp) / "status.prof")
        plain = _in_process(ctx, "plain", prof_out)
        profiled = _in_process(ctx, "profile", prof_out)
        report = io.StringIO()
        stats = pstats.Stats(str(prof_out), stream=report)
    stats.sort_stats("cumulative").print_stats(ctx.args.profile)
    stats.sort_stats("tottime").print_stats(ctx.args.profile)
    print(report.getvalue(), file=sys.stderr)
    gc_s, gc_runs = plain["gc_s"], plain["gc_runs"]
    gc_note = ", ".join(f"gen{g}: {gc_runs[g]} runs {gc_s[g]:.2f} s" for g in range(3))
    return [
        Figure("inprocess_import_s", "import cli.main", plain["import_s"], "s"),
        Figure("inprocess_status_s", "status in-process, after imports", plain["status_s"], "s"),
        Figure("inprocess_gc_s", "  of which garbage collection", sum(gc_s), "s", gc_note),
        Figure("profile_status_s", "status in-process under cProfile", profiled["status_s"], "s"),
    ]


# -- promote --dry-run -----------------------------------------------------------------------


@dataclass(frozen=True)
class PromoteCase:
    """One ``promote APP FROM TO --pipeline P --dry-run`` of the benchmark repository."""

    key: str
    label: str
    source: StagePlan
    target: StagePlan
    app: StageApp
    """The app in the target stage (its form is what the case exercises)."""
    new_version: str

    def argv(self, promote_bin: Path, repo: Path) -> list[str | Path]:
        return [
            promote_bin,
            self.app.app.name,
            self.source.name,
            self.target.name,
            "--pipeline",
            self.source.pipeline,
            "--dry-run",
            "--repo",
            repo,
        ]

    def describe(self) -> str:
        return (
            f"{self.source.pipeline} {self.source.name}->{self.target.name} {self.app.key} "
            f"{self.app.version}->{self.new_version}"
        )


_PROMOTE_KINDS: tuple[tuple[str, str, Callable[[StageApp], bool]], ...] = (
    ("smp", "SMP patch", lambda a: a.form == "smp" and a.app.kind == "Deployment"),
    ("images", "images: entry", lambda a: a.form == "images"),
    ("json6902", "HelmRelease JSON6902", lambda a: a.form == "json6902"),
    ("inherit", "inherited", lambda a: a.form == "inherit" and a.app.kind == "Deployment"),
)
"""The representative promotions: how the TARGET stage sets the app's version."""


def promote_cases(repo: RepoPlan) -> list[PromoteCase]:
    """For each of ``_PROMOTE_KINDS``, the first app (from the middle pipeline on) whose
    version differs between two adjacent stages and whose target stage sets it that way."""
    pipelines = list(repo.pipelines)
    middle = len(pipelines) // 2
    cases = []
    for key, label, fits in _PROMOTE_KINDS:
        found = next(
            (
                PromoteCase(key, label, src, dst, dst_app, src_app.version)
                for pipeline in pipelines[middle:] + pipelines[:middle]
                for src, dst in itertools.pairwise(pipeline.stages)
                for src_app, dst_app in zip(src.apps, dst.apps, strict=True)
                if fits(dst_app) and src_app.version != dst_app.version
            ),
            None,
        )
        if found is None:
            raise BenchError(f"the plan has no {label} app to promote; use more pipelines")
        cases.append(found)
    return cases


def check_promote(case: PromoteCase, text: str) -> None:
    """The dry run names the move and shows a diff that writes the new version."""
    problems = []
    move = f"{case.app.key}: {case.app.version} -> {case.new_version}"
    if move not in text:
        problems.append(f"no line {move!r}")
    added = [
        line
        for line in text.splitlines()
        if line.startswith("+") and not line.startswith("+++") and case.new_version in line
    ]
    if "@@" not in text or not added:
        problems.append(f"the diff is empty or does not add {case.new_version}")
    if "dry run: nothing was written" not in text:
        problems.append("no 'dry run: nothing was written'")
    if problems:
        problems[-1] += f"; output:\n{text[-1500:]}"
    _fail(problems, f"promote --dry-run ({case.describe()})")


def _snapshot(root: Path, dirs: Sequence[str]) -> dict[str, bytes]:
    out = {}
    for rel in dirs:
        for path in sorted((root / rel).rglob("*")):
            if path.is_file():
                out[path.relative_to(root).as_posix()] = path.read_bytes()
    return out


_RENDER_TOOLS = ("kubectl", "kustomize")


@contextlib.contextmanager
def native_env() -> Iterator[tuple[dict[str, str], str]]:
    """Our environment with neither kubectl nor kustomize on PATH: every PATH directory
    holding one is left out, and git (which shares /usr/bin with kubectl here) is linked
    back in from a directory of its own.  ``PROMOTER_KUSTOMIZE`` is unset."""
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    dropped = [d for d in dirs if any(Path(d, tool).exists() for tool in _RENDER_TOOLS)]
    with tempfile.TemporaryDirectory(prefix="promoter-native-path-") as tmp:
        shim = Path(tmp)
        linked = []
        for tool in ("git",):
            found = shutil.which(tool)
            if found is not None:
                (shim / tool).symlink_to(found)
                linked.append(tool)
        path = os.pathsep.join([str(shim), *(d for d in dirs if d not in dropped)])
        for tool in _RENDER_TOOLS:
            if shutil.which(tool, path=path) is not None:
                raise BenchError(f"{tool} is still on the native-only PATH")
        env = {k: v for k, v in os.environ.items() if k != "PROMOTER_KUSTOMIZE"}
        env["PATH"] = path
        back = f"; {', '.join(linked)} linked back in" if linked else ""
        yield env, f"PATH without {', '.join(dropped) or 'nothing'}{back}"


def measure_promote(ctx: Context) -> list[Figure]:
    promote_bin = ctx.pipelines_bin.parent / "promote"
    if not promote_bin.is_file():
        raise BenchError(f"{promote_bin} not found (install the project in this venv)")
    if shutil.which("kubectl") is None:
        raise BenchError("kubectl is not on PATH (the default run verifies with it)")
    cases = promote_cases(ctx.plan)
    runs = ctx.args.promote_runs
    figures: list[Figure] = []
    # As people do, status runs first: promote reuses the pipelines it discovered.
    cache_env = _cache_env(ctx)
    status_argv: list[str | Path] = [ctx.pipelines_bin, "status", "--repo", ctx.repo, "-o", "json"]
    time_command(status_argv, 1, env=cache_env)
    # Without a status run before it, promote discovers the pipelines itself and cannot
    # start TO's render before reading the repository (an empty cache directory).
    first_env = {**cache_env, "XDG_CACHE_HOME": f"{cache_env['XDG_CACHE_HOME']}-empty"}
    shutil.rmtree(first_env["XDG_CACHE_HOME"], ignore_errors=True)
    with native_env() as (native, native_note):
        native = {**native, "XDG_CACHE_HOME": cache_env["XDG_CACHE_HOME"]}
        modes: list[tuple[str, str, dict[str, str] | None, str]] = [
            (
                "default",
                "kubectl verification",
                cache_env,
                "default env: verifies with kubectl kustomize; after one status run (its "
                "discovery is reused)",
            ),
            (
                "uncached",
                "kubectl verification, no status run before",
                first_env,
                "no cached discovery: the repository is read first",
            ),
            ("native", "native verification only", native, native_note),
        ]
        for mode, mode_label, env, note in modes:
            medians = []
            for number, case in enumerate(cases):
                dirs = [case.target.path, f"base/{case.app.app.name}"]
                before = _snapshot(ctx.repo, dirs)
                timed = time_command(case.argv(promote_bin, ctx.repo), runs, env=env)
                check_promote(case, timed.last.stdout)
                if _snapshot(ctx.repo, dirs) != before:
                    raise BenchError(f"promote --dry-run changed files ({case.describe()})")
                medians.append(timed.median)
                shown = ", ".join(f"{t:.2f}" for t in timed.seconds)
                prefix = f"promote {case.key} {mode}"
                figures += [
                    Figure(
                        f"promote_{case.key}_{mode}_best_s",
                        f"promote --dry-run, {case.label}, {mode_label}, best",
                        timed.best,
                        "s",
                        case.describe() if mode == "default" else (note if number == 0 else ""),
                    ),
                    Figure(
                        f"promote_{case.key}_{mode}_median_s",
                        f"promote --dry-run, {case.label}, {mode_label}, median",
                        timed.median,
                        "s",
                        f"{runs} runs: {shown}; CPU best {min(timed.cpu):.2f} s",
                    ),
                ]
                print(f"[promote] {prefix}: best {timed.best:.2f} s", file=sys.stderr)
            figures.append(
                Figure(
                    f"promote_{mode}_slowest_median_s",
                    f"promote --dry-run, {mode_label}, slowest median",
                    max(medians),
                    "s",
                    f"aim < 1 s; {note}" if mode == "default" else note,
                )
            )
    shutil.rmtree(cache_env["XDG_CACHE_HOME"], ignore_errors=True)
    shutil.rmtree(first_env["XDG_CACHE_HOME"], ignore_errors=True)
    return figures


# -- history ----------------------------------------------------------------------------------


@contextlib.contextmanager
def history_root(args: argparse.Namespace) -> Iterator[Path]:
    """Where the history repository is built: a temporary directory, or ``--history-keep``
    (rebuilt each time; only an absent, empty or earlier history directory is replaced)."""
    if args.history_keep is None:
        with tempfile.TemporaryDirectory(prefix="promoter-history-") as tmp:
            yield Path(tmp) / "repo"
        return
    root = Path(args.history_keep).resolve()
    if root.is_dir() and any(root.iterdir()):
        if not (root / ".git" / MARKS_FILE).is_file():
            raise BenchError(f"{root} holds something else than a generated history repository")
        shutil.rmtree(root)
    yield root


def measure_history(ctx: Context) -> list[Figure]:
    args = ctx.args
    with history_root(args) as root:
        built = build_history(
            root,
            commits=args.history_commits,
            pipelines=args.history_pipelines,
            stages=args.history_stages,
            apps=args.history_apps,
            seed=args.seed,
        )
        argv: list[str | Path] = [ctx.pipelines_bin, "history", "--repo", root, "--output", "json"]
        timed = time_command(argv, args.history_runs)
    try:
        doc = json.loads(timed.last.stdout)
    except json.JSONDecodeError as exc:
        raise BenchError(f"pipelines history printed invalid JSON: {exc}") from None
    entries = check_history(doc, built)
    runs = ", ".join(f"{s:.2f}" for s in timed.seconds)
    size = (
        f"{args.history_pipelines} pipelines x {args.history_stages} stages x "
        f"{args.history_apps} apps"
    )
    mix = ", ".join(f"{n} {k}" for k, n in sorted(built.kinds.items(), key=lambda kv: -kv[1]))
    initial = sum(1 for e in built.expected if e.change.old is None)
    return [
        Figure(
            "history_commits",
            "history repo: commits",
            built.commits,
            note=f"{size}; built in {built.seconds:.1f} s; {mix}",
        ),
        Figure("history_first_parent", "history repo: first-parent commits", built.first_parent),
        Figure(
            "history_version_commits",
            "history repo: commits changing versions",
            built.version_commits,
            note="first-parent, the initial commit included",
        ),
        Figure(
            "history_entries",
            "history entries checked",
            entries,
            note=f"all {len(built.expected)} expected, {initial} of them from the first commit",
        ),
        Figure("history_best_s", "history --output json, best", timed.best, "s", f"runs: {runs}"),
        Figure("history_median_s", "history --output json, median", timed.median, "s", "aim < 3 s"),
        Figure("history_cpu_best_s", "history --output json, CPU best", min(timed.cpu), "s"),
    ]


def check_history(doc: dict[str, Any], built: HistoryRepo) -> int:
    """Exactly the version changes the history was built with, each at its commit."""
    problems: list[str] = []
    entries = doc.get("entries")
    if not isinstance(entries, list):
        raise BenchError("pipelines history --output json has no entries list")
    if len(entries) < built.version_commits:
        problems.append(
            f"{len(entries)} entries, fewer than the {built.version_commits} commits "
            "that change versions"
        )

    def ident(pipeline: str, stage: str, kind: str, app: str, new: str | None, commit: str) -> str:
        return f"{pipeline}/{stage} {kind}/{app} -> {new} at {commit[:12]}"

    got: dict[str, dict[str, Any]] = {}
    for e in entries:
        key = ident(e["pipeline"], e["stage"], e["kind"], e["app"], e["new_version"], e["commit"])
        if key in got:
            problems.append(f"twice: {key}")
        got[key] = e
    want: set[str] = set()
    for expected in built.expected:
        c = expected.change
        key = ident(c.pipeline, c.stage, c.kind, c.app, c.new, expected.commit)
        want.add(key)
        entry = got.get(key)
        if entry is None:
            problems.append(f"missing: {key} (from {c.old})")
            continue
        have = (entry["old_version"], entry["pull_request"], entry["author"])
        should = (c.old, expected.pull_request, expected.author)
        if have != should:
            problems.append(f"{key}: (old, pull request, author) {have}, want {should}")
    problems += [f"unexpected: {key}" for key in got if key not in want]
    _fail(problems, "pipelines history --output json")
    return len(entries)


# -- warm status, scaling, memory ---------------------------------------------------------------


def _cache_env(ctx: Context) -> dict[str, str]:
    """Our environment with the status cache in a directory of the benchmark's own (the
    generated repository is no git repository: the cache goes to the user cache dir)."""
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = str(ctx.repo.parent / f".{ctx.repo.name}-bench-cache")
    return env


def measure_warm(ctx: Context) -> list[Figure]:
    """``status --output json`` when nothing changed: one run fills the cache, then the
    measured runs; each must print what the cold run printed."""
    env = _cache_env(ctx)
    shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)
    argv: list[str | Path] = [ctx.pipelines_bin, "status", "--repo", ctx.repo, "--output", "json"]
    filled = time_command(argv, 1, env=env)
    timed = time_command(argv, ctx.args.warm_runs, env=env)
    for output in (filled.last.stdout, timed.last.stdout):
        if ctx.status_json and output != ctx.status_json:
            raise BenchError("status through the cache printed another JSON than the cold run")
    check_status(json.loads(timed.last.stdout), ctx.plan)
    runs = ", ".join(f"{s:.2f}" for s in timed.seconds)
    figures = [
        Figure(
            "warm_fill_s",
            "status, first run filling the cache",
            filled.best,
            "s",
            "cache in $XDG_CACHE_HOME (the benchmark repository is not a git repository)",
        ),
        Figure(
            "warm_best_s", "status, warm (nothing changed), best", timed.best, "s", f"runs: {runs}"
        ),
        Figure("warm_median_s", "status, warm, median", timed.median, "s", "aim < 0.3 s"),
        Figure("warm_cpu_best_s", "status, warm, CPU best", min(timed.cpu), "s"),
    ]
    shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)
    return figures


def _peak_run(argv: Sequence[str | Path]) -> tuple[float, int]:
    """Wall time and peak resident memory (KiB, the largest process) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(a) for a in argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, code, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(code)
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(str(a) for a in argv)} exited {proc.returncode}")
    return seconds, int(usage.ru_maxrss)


def measure_scaling(ctx: Context) -> list[Figure]:
    """Cold status on the same layout at 1/4, 1/2 and all of the pipelines: the cost
    should grow linearly with the number of stages (files); and peak memory at full size."""
    figures: list[Figure] = []
    times: dict[int, float] = {}
    args = ctx.args
    runs = max(1, args.scaling_runs)
    with tempfile.TemporaryDirectory(prefix="promoter-scale-") as tmp:
        for part in (4, 2, 1):
            count = max(1, args.pipelines // part)
            if part == 1:
                root = ctx.repo
            else:
                root = Path(tmp) / f"repo-{count}"
                write(root, plan(count, args.stages, args.apps, args.seed))
            argv: list[str | Path] = [
                ctx.pipelines_bin,
                "status",
                "--repo",
                root,
                "--output",
                "json",
                "--no-cache",
            ]
            measured = [_peak_run(argv) for _ in range(runs)]
            best = min(t for t, _ in measured)
            stages = count * args.stages
            times[stages] = best
            figures.append(
                Figure(
                    f"scale_{stages}_s",
                    f"status cold at {stages} stages, best",
                    best,
                    "s",
                    f"{best / stages * 1000:.2f} ms per stage; best of {runs}",
                )
            )
            if part == 1:
                peak = max(m for _, m in measured)
                figures.append(
                    Figure(
                        "scale_peak_mib",
                        f"status cold at {stages} stages, peak memory",
                        round(peak / 1024, 1),
                        "MiB",
                        "ru_maxrss of the largest process (the forked reader included)",
                    )
                )
    smallest, largest = min(times), max(times)
    figures.append(
        Figure(
            "scale_ratio",
            f"time ratio {largest} / {smallest} stages",
            times[largest] / times[smallest],
            "x",
            f"linear: {largest / smallest:.0f}x (start-up and imports are a fixed cost)",
        )
    )
    return figures


MEASUREMENTS: list[Measurement] = [
    Measurement("files", measure_files),
    Measurement("status", measure_status),
    Measurement("warm", measure_warm, lambda ctx: ctx.args.warm_runs > 0),
    Measurement("scaling", measure_scaling, lambda ctx: ctx.args.scaling_runs > 0),
    Measurement("render", measure_render, lambda ctx: ctx.args.render_sample != 0),
    Measurement("help", measure_help),
    Measurement("promote", measure_promote, lambda ctx: ctx.args.promote_runs > 0),
    Measurement("history", measure_history, lambda ctx: ctx.args.history_runs > 0),
    Measurement("profile", measure_profile, lambda ctx: bool(ctx.args.profile)),
]


def measure_verify4500(ctx: Context) -> list[Figure]:
    """``promote --dry-run`` verified with kubectl kustomize on a repository of about 4,500
    files whose stages use generators (``bench/verify_repo.py``; issue 10 §6)."""
    promote_bin = ctx.pipelines_bin.parent / "promote"
    if shutil.which("kubectl") is None:
        raise BenchError("kubectl is not on PATH (the verification renders with it)")
    with tempfile.TemporaryDirectory(prefix="promoter-verify-bench-") as tmp:
        root = Path(tmp) / "repo"
        count = build_verify_repo(root)
        argv = [promote_bin, VERIFY_APP, "dev", "staging", "--repo", root, "--dry-run"]
        timed = time_command(argv, max(ctx.args.promote_runs, 1))
        moved = f"{VERIFY_OLD} -> {VERIFY_NEW}"
        if moved not in timed.last.stdout or f"newTag: {VERIFY_NEW}" not in timed.last.stdout:
            raise BenchError(f"promote --dry-run did not plan {VERIFY_APP} {moved}")
    shown = ", ".join(f"{t:.2f}" for t in timed.seconds)
    return [
        Figure("verify4500_files", "verification repo: files", count, "", "bench/verify_repo.py"),
        Figure(
            "verify4500_promote_best_s",
            "promote --dry-run, generators, kubectl verification (4,500 files), best",
            timed.best,
            "s",
            f"{VERIFY_APP} dev->staging; aim < 2 s",
        ),
        Figure(
            "verify4500_promote_median_s",
            "promote --dry-run, generators, kubectl verification (4,500 files), median",
            timed.median,
            "s",
            f"runs: {shown}; CPU best {min(timed.cpu):.2f} s",
        ),
    ]


MEASUREMENTS.append(
    Measurement("verify4500", measure_verify4500, lambda ctx: ctx.args.promote_runs > 0)
)


# -- checks against the plan ----------------------------------------------------------------


def check_status(doc: dict[str, Any], repo: RepoPlan) -> tuple[int, int]:
    """Every pipeline, stage and app of the plan, with the right versions and sources."""
    problems: list[str] = []
    got = {p["name"]: p for p in doc.get("pipelines", [])}
    want = {p.name: p for p in repo.pipelines}
    if set(got) != set(want):
        problems.append(f"pipelines: got {len(got)}, want {len(want)}")
    apps = images = 0
    for name, pipeline in want.items():
        if name not in got:
            continue
        if got[name].get("error") is not None:
            problems.append(f"{name}: error {got[name]['error']}")
        stages = got[name]["stages"]
        if [(s["name"], s["order"]) for s in stages] != [
            (s.name, s.order) for s in pipeline.stages
        ]:
            problems.append(f"{name}: stages {[s['name'] for s in stages]}")
            continue
        for stage, data in zip(pipeline.stages, stages, strict=True):
            where = f"{stage.path}"
            if data.get("error") is not None:
                problems.append(f"{where}: error {data['error']}")
                continue
            if data["rendered"] or data["unsupported"]:
                problems.append(f"{where}: not read natively ({data['unsupported']})")
            by_key = {f"{a['kind']}/{a['name']}": a for a in data["apps"]}
            if len(data["apps"]) != len(stage.apps) or set(by_key) != {a.key for a in stage.apps}:
                problems.append(f"{where}: {len(data['apps'])} apps, want {len(stage.apps)}")
                continue
            for app in stage.apps:
                apps += 1
                images += len(app.images)
                got_app = by_key[app.key]
                problems += _check_app(where, stage, app, got_app)
    _fail(problems, "pipelines status --output json")
    return apps, images


def _check_app(where: str, stage: StagePlan, app: Any, got: dict[str, Any]) -> list[str]:
    out = []
    label = f"{where} {app.key}"
    if got["version"] != app.version:
        out.append(f"{label}: version {got['version']!r}, want {app.version!r}")
    if got["namespace"] != stage.namespace:
        out.append(f"{label}: namespace {got['namespace']!r}")
    got_images = [(i["container"], i["init"], i["image"]) for i in got["images"]]
    if got_images != list(app.images):
        out.append(f"{label}: images {got_images}, want {list(app.images)}")
    source = got["source"] or {}
    want = (SOURCE_TYPE[app.form], stage.source_file(app), app.automated)
    have = (source.get("type"), source.get("file"), source.get("automated"))
    if have != want:
        out.append(f"{label} ({app.form}): source {have}, want {want}")
    return out


def check_render(stage: StagePlan, text: str) -> None:
    """What ``kubectl kustomize`` rendered for ``stage`` is what the plan says."""
    found: dict[str, tuple[str, list[tuple[str, bool, str]], str]] = {}
    for doc in yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        if not isinstance(doc, dict) or doc.get("kind") not in APP_KINDS:
            continue
        name = doc["metadata"]["name"]
        namespace = doc["metadata"].get("namespace", "")
        if doc["kind"] == "HelmRelease":
            version = str(doc["spec"]["chart"]["spec"]["version"])
            found[f"HelmRelease/{name}"] = (version, [], namespace)
            continue
        spec = doc["spec"]
        if doc["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        pod = spec["template"]["spec"]
        images = [(c["name"], True, c["image"]) for c in pod.get("initContainers", [])]
        images += [(c["name"], False, c["image"]) for c in pod["containers"]]
        main = next((i for i in images if i[0] == name and not i[1]), images[0])
        found[f"{doc['kind']}/{name}"] = (main[2].rpartition(":")[2], images, namespace)
    problems = []
    if set(found) != {a.key for a in stage.apps}:
        problems.append(f"{stage.path}: rendered apps {sorted(found)}")
    for app in stage.apps:
        if app.key not in found:
            continue
        want = (app.version, list(app.images), stage.namespace)
        if found[app.key] != want:
            problems.append(f"{stage.path} {app.key}: rendered {found[app.key]}, want {want}")
    _fail(problems, "kubectl kustomize (the generator's plan is wrong)")


def _fail(problems: list[str], what: str) -> None:
    if problems:
        shown = "\n  ".join(problems[:15])
        more = f"\n  ... and {len(problems) - 15} more" if len(problems) > 15 else ""
        raise BenchError(f"{what}: {len(problems)} problem(s):\n  {shown}{more}")


def sample(items: Sequence[StagePlan], count: int | None) -> list[StagePlan]:
    """``count`` items evenly spread over ``items`` (all when ``count`` is None or larger)."""
    if count is None or count >= len(items):
        return list(items)
    if count == 1:
        return [items[len(items) // 2]]
    picked = sorted({round(i * (len(items) - 1) / (count - 1)) for i in range(count)})
    return [items[i] for i in picked]


# -- driver ---------------------------------------------------------------------------------


@contextlib.contextmanager
def repository(args: argparse.Namespace, repo_plan: RepoPlan) -> Iterator[tuple[Path, str]]:
    """The generated repository, and how it was obtained."""
    params = {k: getattr(args, k) for k in ("pipelines", "stages", "apps", "seed")}
    if args.keep is None:
        with tempfile.TemporaryDirectory(prefix="promoter-bench-") as tmp:
            root = Path(tmp) / "repo"
            start = time.perf_counter()
            write(root, repo_plan)
            yield root, f"generated in {time.perf_counter() - start:.1f} s (temporary)"
        return
    root = Path(args.keep).resolve()
    marker = root / PARAMS_FILE
    if root.is_dir() and any(root.iterdir()):
        if not marker.is_file() or json.loads(marker.read_text()) != params:
            raise BenchError(f"{root} holds something else than a repo generated with {params}")
        yield root, "reused (--keep)"
        return
    start = time.perf_counter()
    write(root, repo_plan)
    marker.write_text(json.dumps(params) + "\n")
    yield root, f"generated in {time.perf_counter() - start:.1f} s (kept)"


def print_table(figures: Sequence[Figure]) -> None:
    width = max(len(f.label) for f in figures)
    value_width = max(len(f.shown()) for f in figures)
    for f in figures:
        note = f"  {f.note}" if f.note else ""
        print(f"  {f.label:<{width}}  {f.shown():>{value_width}}{note}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) DIR and keep it")
    parser.add_argument("--pipelines", type=int, default=100)
    parser.add_argument("--stages", type=int, default=4)
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--render-sample",
        type=int,
        metavar="N",
        help="render only N evenly spread stages and extrapolate (0: skip rendering)",
    )
    parser.add_argument("--status-runs", type=int, default=3)
    parser.add_argument(
        "--warm-runs", type=int, default=5, help="runs of status with a warm cache (0: skip)"
    )
    parser.add_argument(
        "--scaling-runs",
        type=int,
        default=1,
        help="cold status runs at 1/4, 1/2 and all pipelines, with peak memory (0: skip)",
    )
    parser.add_argument("--help-runs", type=int, default=5)
    parser.add_argument(
        "--profile",
        type=int,
        nargs="?",
        const=30,
        default=0,
        metavar="TOP",
        help="also profile status in-process and print the TOP functions (default 30)",
    )
    parser.add_argument("--profile-out", type=Path, help="write the pstats file here")
    parser.add_argument(
        "--promote-runs",
        type=int,
        default=5,
        help="runs of each promote --dry-run case and environment (0: skip)",
    )
    parser.add_argument(
        "--history-runs", type=int, default=3, help="runs of pipelines history (0: skip)"
    )
    parser.add_argument("--history-commits", type=int, default=1000)
    parser.add_argument("--history-pipelines", type=int, default=10)
    parser.add_argument("--history-stages", type=int, default=4)
    parser.add_argument("--history-apps", type=int, default=10)
    parser.add_argument(
        "--history-keep",
        type=Path,
        metavar="DIR",
        help="build the history repository in DIR (replaced on each run) and keep it",
    )
    parser.add_argument(
        "--write-results",
        nargs="?",
        type=Path,
        const=RESULTS_FILE,
        metavar="FILE",
        help=f"write the figures as Markdown to FILE (default {RESULTS_FILE.name} next to this "
        "script) and print the table",
    )
    parser.add_argument(
        "--max-load",
        type=float,
        metavar="LOAD",
        help="first wait (up to --load-wait seconds) until the 1-minute load average is below LOAD",
    )
    parser.add_argument("--load-wait", type=float, default=600.0, metavar="SECONDS")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these measurements")
    return parser.parse_args(argv)


# -- results ----------------------------------------------------------------------------------


def wait_for_quiet(max_load: float, wait: float) -> None:
    """Sleep until the 1-minute load average is below ``max_load``, at most ``wait`` s."""
    deadline = time.monotonic() + wait
    while (load := os.getloadavg()[0]) >= max_load:
        if time.monotonic() >= deadline:
            print(f"load {load:.2f} is still >= {max_load}; measuring anyway", file=sys.stderr)
            return
        print(f"load {load:.2f} >= {max_load}; waiting", file=sys.stderr, flush=True)
        time.sleep(15)


def _output(argv: Sequence[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, check=False)
    except OSError as exc:
        return f"unavailable ({exc.strerror})"
    text = "; ".join(line.strip() for line in done.stdout.splitlines() if line.strip())
    return text if done.returncode == 0 else f"unavailable ({done.stderr.strip()[:200]})"


def machine() -> list[tuple[str, str]]:
    """What the figures depend on: cores, CPU, OS, Python, kubectl, git, project commit."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    project = Path(__file__).resolve().parent.parent
    head = _output(["git", "rev-parse", "--short", "HEAD"], project)
    dirty = _output(["git", "status", "--porcelain", "--untracked-files=no"], project)
    kubectl = shutil.which("kubectl")
    return [
        ("nproc", f"{len(os.sched_getaffinity(0))} (os.cpu_count() {os.cpu_count()})"),
        ("CPU", model or platform.machine()),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("kubectl", _output([kubectl, "version", "--client"]) if kubectl else "not on PATH"),
        ("git", _output(["git", "--version"])),
        ("project", f"{head}" + (" with uncommitted changes" if dirty else "")),
        ("bytecode", "written before measuring (compileall), as installing a wheel does"),
    ]


def results_markdown(
    figures: Sequence[Figure],
    command: str,
    info: Sequence[tuple[str, str]],
    setup: Sequence[tuple[str, str]],
) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        "# Benchmark results",
        "",
        "Written by `bench/run.py --write-results`; rerun it rather than editing this file.",
        "",
        *(f"- **{name}**: {cell(value)}" for name, value in setup),
        f"- **command**: `{command}`",
        "",
        "Machine:",
        "",
        *(f"- **{name}**: {cell(value)}" for name, value in info),
        "",
        "| measurement | value | note |",
        "| --- | ---: | --- |",
        *(f"| {cell(f.label.strip())} | {cell(f.shown())} | {cell(f.note)} |" for f in figures),
        "",
    ]
    return "\n".join(lines)


def _command(argv: Sequence[str] | None) -> str:
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(Path.cwd())
    script = Path(sys.argv[0]) if argv is None else Path(__file__)
    args = sys.argv[1:] if argv is None else list(argv)
    return shlex.join([str(python), str(script), *args])


def _loads() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def compile_project() -> None:
    """Write the project's bytecode first, as installing a wheel does: with
    ``PYTHONDONTWRITEBYTECODE`` set (or a fresh editable checkout) every measured run would
    otherwise compile ``promoter`` and ``cli`` again, 0.3-0.6 s that users never pay."""
    project = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(project / "promoter"), str(project / "cli")],
        check=True,
        env=env,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    pipelines_bin = Path(sys.executable).parent / "pipelines"
    if not pipelines_bin.is_file():
        print(f"error: {pipelines_bin} not found (install the project in this venv)")
        return 1
    compile_project()
    if args.max_load is not None:
        wait_for_quiet(args.max_load, args.load_wait)
    started = datetime.now(timezone.utc)
    load_start = _loads()
    repo_plan = plan(args.pipelines, args.stages, args.apps, args.seed)
    figures: list[Figure] = []
    how = ""
    try:
        with repository(args, repo_plan) as (root, how):
            print(
                f"repo {root}: {args.pipelines} pipelines x {args.stages} stages x "
                f"{args.apps} apps, seed {args.seed}; {how}"
            )
            ctx = Context(root, repo_plan, args, pipelines_bin)
            for measurement in MEASUREMENTS:
                if args.only and measurement.name not in args.only:
                    continue
                if not measurement.enabled(ctx):
                    continue
                print(f"[{measurement.name}] ...", file=sys.stderr, flush=True)
                start = time.perf_counter()
                new = measurement.run(ctx)
                elapsed = time.perf_counter() - start
                print(f"[{measurement.name}] done in {elapsed:.1f} s", file=sys.stderr)
                for figure in new:
                    ctx.figures[figure.key] = figure
                figures += new
    except BenchError as exc:
        print(f"BENCH FAILED: {exc}", file=sys.stderr)
        return 1
    print_table(figures)
    if args.write_results is not None:
        setup = [
            ("date", f"{started:%Y-%m-%d %H:%M} UTC, {time.time() - started.timestamp():.0f} s"),
            (
                "benchmark repository",
                f"{args.pipelines} pipelines x {args.stages} stages x {args.apps} apps, "
                f"seed {args.seed}; {how}",
            ),
            ("load average (1 / 5 / 15 min)", f"{load_start} at the start, {_loads()} at the end"),
        ]
        text = results_markdown(figures, _command(argv), machine(), setup)
        Path(args.write_results).write_text(text, encoding="utf-8")
        print()
        print(text)
        print(f"wrote {args.write_results}")
    line: dict[str, Any] = {
        "params": {k: getattr(args, k) for k in ("pipelines", "stages", "apps", "seed")},
        **{f.key: round(f.value, 4) if isinstance(f.value, float) else f.value for f in figures},
    }
    print(json.dumps(line, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
