"""Progress (issue 14 §3): the library announces long steps and retries
(``promoter.progress``); the CLI shows them as a spinner on stderr when it is a terminal
(checked on a real pseudo-terminal) and prints nothing extra when it is not."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import promoter
from promoter import progress
from promoter.github import GitHubPulls
from tests.builders.git import GitOps, make_gitops
from tests.fakes.github import FakeGitHub
from tests.ptyrun import run_in_pty

pytestmark = pytest.mark.usefixtures("temp")

TOKEN = "ghp_progressSECRET0123456789"
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def colours(text: str) -> list[str]:
    """The SGR sequences of ``text`` that set a colour (bold or underline are no colour)."""
    return [
        code
        for code in SGR.findall(text)
        if any(p.isdigit() and (30 <= int(p) <= 49 or 90 <= int(p) <= 107) for p in code.split(";"))
    ]


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """The user's clone of the example GitOps repo and its bare remote."""
    return make_gitops(tmp_path)


@pytest.fixture
def gh(ops: GitOps) -> Iterator[FakeGitHub]:
    """FakeGitHub over the remote."""
    with FakeGitHub(ops.remote, owner="acme", name="gitops", token=TOKEN) as fake:
        yield fake


def pipelines() -> str:
    """The installed ``pipelines`` script."""
    script = Path(sys.executable).with_name("pipelines")
    if not script.exists():
        pytest.skip("the pipelines console script is not installed next to this Python")
    return str(script)


def github_env(gh: FakeGitHub) -> dict[str, str]:
    """The environment that points a promotion at ``gh``."""
    return {
        **os.environ,
        "GITHUB_API_URL": gh.url,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": "acme/gitops",
        "PROMOTER_GITHUB_BACKOFF": "0",
    }


# -- the library's announcements ---------------------------------------------------------------


def test_renders_are_announced_as_steps(ops: GitOps) -> None:
    """``status(render=True)`` announces each stage's render, in this process only while
    someone listens."""
    events: list[progress.Event] = []
    with progress.listening(events.append):
        promoter.status(ops.work, ["web"], render=True)
    promoter.status(ops.work, ["web"], render=True)  # nobody listening any more
    rendered = [e.message for e in events if e.kind == "step" and e.message.startswith("render")]
    expected = (3, True)
    assert expected == (len(rendered), all("pipelines/web/" in m for m in rendered)), events


def test_a_failing_listener_is_dropped_and_the_work_goes_on() -> None:
    """A listener that raises is removed; the announcing code never sees the error."""
    calls: list[str] = []

    def broken(event: progress.Event) -> None:
        calls.append(event.message)
        raise RuntimeError("display gone")

    with progress.listening(broken):
        progress.step("one")
        progress.step("two")
    assert calls == ["one"]


def test_a_forked_child_announces_nothing(tmp_path: Path) -> None:
    """Listeners belong to the process that installed them (status forks readers)."""
    seen = tmp_path / "seen"

    def record(event: progress.Event) -> None:
        with seen.open("a", encoding="utf-8") as out:
            out.write(f"{os.getpid()} {event.message}\n")

    with progress.listening(record):
        pid = os.fork()
        if pid == 0:  # the child
            progress.step("from the child")
            os._exit(0)
        os.waitpid(pid, 0)
        progress.step("from the parent")
    expected = [f"{os.getpid()} from the parent"]
    assert expected == seen.read_text(encoding="utf-8").splitlines()


def test_github_retries_are_announced(gh: FakeGitHub) -> None:
    """A 502 that is retried is announced as a retry naming GitHub and the status."""
    gh.fail_next(502)
    events: list[progress.Event] = []
    with (
        progress.listening(events.append),
        GitHubPulls("acme/gitops", TOKEN, gh.url, backoff=0) as pulls,
    ):
        found = pulls.find_open("nope", "main")
    retries = [e.message for e in events if e.kind == "retry"]
    expected = (None, ["GitHub: HTTP 502; retrying (1 of 3)"])
    assert expected == (found, retries)


# -- the CLI's spinner ----------------------------------------------------------------------------


def test_spinner_shows_the_step_on_a_terminal(ops: GitOps) -> None:
    """With stderr on a terminal, ``status --render`` shows the render step it is at, and
    stdout still gets exactly the JSON document."""
    import json

    done = run_in_pty([pipelines(), "status", "--render", "-o", "json", "--repo", str(ops.work)])
    expected = (0, True, ["platform", "web"])
    assert expected == (
        done.returncode,
        "rendering " in done.tty and "pipelines/web/prod" in done.tty,
        [p["name"] for p in json.loads(done.stdout)["pipelines"]],
    ), done.tty


def test_nothing_extra_on_stderr_when_it_is_not_a_terminal(ops: GitOps) -> None:
    """Piped stderr gets no spinner, no step, not a single byte."""
    done = subprocess.run(
        [pipelines(), "status", "--render", "-o", "json", "--repo", str(ops.work)],
        capture_output=True,
        text=True,
        check=False,
    )
    expected = (0, "")
    assert expected == (done.returncode, done.stderr)


def test_spinner_says_it_is_retrying(ops: GitOps, gh: FakeGitHub) -> None:
    """A promotion whose GitHub call fails once with 502 says that it is retrying (on a
    terminal), then opens the pull request; piped, stderr stays empty."""
    gh.fail_next(502)
    args = [
        pipelines(),
        "promote",
        "nginx",
        "staging",
        "prod",
        "-p",
        "web",
        "--repo",
        str(ops.work),
    ]
    on_tty = run_in_pty(args, env=github_env(gh))
    gh.fail_next(502)
    # The same promotion again (it updates the open pull request), stderr piped.
    piped = subprocess.run(args, capture_output=True, text=True, check=False, env=github_env(gh))
    expected = (0, True, True, True, 0, "")
    assert expected == (
        on_tty.returncode,
        "GitHub: HTTP 502; retrying" in on_tty.tty,
        "pull request #1 opened" in on_tty.stdout,
        TOKEN not in on_tty.tty,
        piped.returncode,
        piped.stderr,
    ), (on_tty.tty, piped.stderr)


def test_no_color_keeps_the_terminal_plain(ops: GitOps) -> None:
    """With NO_COLOR, neither the spinner on stderr nor the table on stdout has colours
    (bold stays: NO_COLOR is about colour)."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    spinner = run_in_pty([pipelines(), "status", "--render", "--repo", str(ops.work)], env=env)
    table = run_in_pty([pipelines(), "status", "--repo", str(ops.work)], env=env, stdout_tty=True)
    expected = (0, [], 0, [], True)
    assert expected == (
        spinner.returncode,
        colours(spinner.tty),
        table.returncode,
        colours(table.tty),
        "Deployment/nginx" in table.tty,
    )


def test_piped_output_has_no_escape_codes(ops: GitOps) -> None:
    """Not on a terminal, the table and every line are plain text (no escape character)."""
    done = subprocess.run(
        [pipelines(), "status", "--render", "--repo", str(ops.work)],
        capture_output=True,
        text=True,
        check=False,
    )
    expected = (0, False, False)
    assert expected == (done.returncode, "\x1b" in done.stdout, "\x1b" in done.stderr)
