"""Every URL the tool prints is redacted (issue 11): a password or token written into the
remote URL or the API URL never appears on stdout or stderr of promote, status or history,
in success as in failure; a pull request URL a code host answers with credentials in it is
printed masked, in text and in JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from promoter.forge.provider import ChangeRequestInfo
from promoter.planner import plan_promotion
from promoter.publish import ChangeResult, PromotionResult
from promoter.repo import GitOpsRepo
from promoter.serialize import change_dict
from tests.builders.git import GitHttpServer, GitOps, make_gitops
from tests.builders.plans import example_copy
from tests.test_interrupt import environment

SECRET = "url-s3cret-value"
API_SECRET = "api-s3cret-value"
PROMOTE = "from cli.main import promote_main; promote_main()"
PIPELINES = "from cli.main import pipelines_main; pipelines_main()"


def run(ops: GitOps, tmp_path: Path, program: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A CLI subprocess in the user's clone, a token in ``GITHUB_API_URL``."""
    return subprocess.run(
        [sys.executable, "-c", program, *args],
        cwd=ops.work,
        env=environment(
            tmp_path,
            PROMOTER_KUSTOMIZE="no-such-renderer",
            GITHUB_API_URL=f"http://bot:{API_SECRET}@127.0.0.1:9",
            GITHUB_REPOSITORY="acme/gitops",
        ),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_credentials_in_urls_never_printed(tmp_path: Path) -> None:
    """With the password in the remote URL (a real authenticated http remote) and a token
    in GITHUB_API_URL: promote (text and JSON), a failing promote, status and history
    succeed or fail without ever printing either secret."""
    ops = make_gitops(tmp_path)
    with GitHttpServer(tmp_path, username="bot", password=SECRET) as server:
        url = server.url.replace("http://", f"http://bot:{SECRET}@")
        ops.git("remote", "set-url", "origin", f"{url}/remote.git")
        done = [
            run(ops, tmp_path, PROMOTE, "nginx", "dev", "staging", "-p", "web", "--no-pr"),
            run(
                ops,
                tmp_path,
                PROMOTE,
                "shop",
                "dev",
                "staging",
                "-p",
                "web",
                "--no-pr",
                "-o",
                "json",
            ),
            run(ops, tmp_path, PROMOTE, "nginx", "dev", "staging", "-p", "web", "--base", "nope"),
            run(ops, tmp_path, PIPELINES, "status"),
            run(ops, tmp_path, PIPELINES, "history"),
        ]
        assert ("bot", SECRET) in server.auth
    assert [d.returncode for d in done] == [0, 0, 1, 0, 0], [d.stderr for d in done]
    assert "pushed promote/web/staging/nginx-" in done[0].stdout
    for result in done:
        assert SECRET not in result.stdout + result.stderr
        assert API_SECRET not in result.stdout + result.stderr


@pytest.fixture
def result(tmp_path: Path) -> ChangeResult:
    """A published promotion whose pull request URL carries credentials."""
    root = example_copy(tmp_path / "repo")
    plan = plan_promotion(
        GitOpsRepo.open(root), ["nginx"], "dev", "staging", pipeline="web", render=False
    )
    pr = ChangeRequestInfo(7, f"https://bot:{SECRET}@github.example/acme/gitops/pull/7", True)
    published = PromotionResult(plan, "main", "a" * 40, "promote/x", "b" * 40, True, pr, "github")
    return ChangeResult(plan, "publish", published)


def test_pull_request_url_is_masked(
    result: ChangeResult, capsys: pytest.CaptureFixture[str]
) -> None:
    """The pull request URL is printed without its credentials, in text and in JSON."""
    from cli.views import print_change

    print_change(result)
    printed = capsys.readouterr().out
    assert "pull request #7 opened: https://***@github.example/acme/gitops/pull/7" in printed
    assert SECRET not in printed
    data = change_dict(result)
    assert data["pull_request"]["url"] == "https://***@github.example/acme/gitops/pull/7"
    assert SECRET not in json.dumps(data)
