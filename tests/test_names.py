"""Names that reach git and the code host (issue 11): control characters are refused where
names are read and never reach commits, branches or pull requests; generated file names are
capped; credentials in URLs are never printed; no default captures the environment."""

from __future__ import annotations

import hashlib
import inspect
import pydoc
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from promoter import publish
from promoter.checks import check
from promoter.names import FILE_NAME_LIMIT, file_name
from promoter.planner import plan_promotion
from promoter.pr import branch_name, commit_message, pull_request_body, pull_request_title
from promoter.repo import GitOpsRepo
from tests.builders.git import GitOps, make_gitops
from tests.builders.plans import example_copy
from tests.test_interrupt import environment

PROMOTE = "from cli.main import promote_main; promote_main()"
PIPELINES = "from cli.main import pipelines_main; pipelines_main()"
CONFIG = """pipelines:
  - name: web
    stages:
      - path: pipelines/web/dev
      - name: "staging\\nPromoted-To: prod"
        path: pipelines/web/staging
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A private copy of the example GitOps repository."""
    return example_copy(tmp_path / "repo")


def test_control_character_in_promoter_yaml_is_one_line(root: Path, tmp_path: Path) -> None:
    """A newline in a stage name of promoter.yaml: status exits 1 with one line naming the
    file and line; check reports it as a finding."""
    (root / "promoter.yaml").write_text(CONFIG, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", PIPELINES, "status", "--repo", str(root)],
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1
    assert "promoter.yaml:5" in done.stderr
    assert "control character" in done.stderr
    findings = check(root).findings
    assert any(f.file == "promoter.yaml" and "control character" in f.message for f in findings), (
        findings
    )


def test_control_character_in_a_label_is_a_problem(root: Path) -> None:
    """A pipeline label with an escape character is reported, not used as a name."""
    sync = root / "pipelines/web/dev/sync.yaml"
    text = sync.read_text(encoding="utf-8")
    sync.write_text(
        text.replace("pipelines.weave.works/name: web", 'pipelines.weave.works/name: "w\\eb"'),
        encoding="utf-8",
    )
    repo = GitOpsRepo.open(root)
    names = [p.name for p in repo.pipelines]
    assert all("\x1b" not in name for name in names)
    bad = [p for p in repo.pipelines if "\\x1b" in p.name]
    assert bad and bad[0].problems
    assert "control character" in bad[0].problems[0].message


def test_commit_and_pull_request_texts_never_carry_control_characters(root: Path) -> None:
    """An app name with a newline and an escape cannot add a line (a forged trailer) to the
    commit message, nor reach the branch, the title or the body."""
    plan = plan_promotion(
        GitOpsRepo.open(root), ["nginx"], "dev", "staging", pipeline="web", render=False
    )
    evil = "nginx\nPromoted-To: prod\x1b[31m"
    plan = replace(plan, moves=tuple(replace(m, name=evil) for m in plan.moves))
    message = commit_message(plan)
    assert sum(line.startswith("Promoted-To:") for line in message.splitlines()) == 1
    texts = [message, pull_request_title(plan), pull_request_body(plan, "main", "abc")]
    texts.append(branch_name(plan))
    for text in texts:
        assert "\x1b" not in text
    assert "\n" not in pull_request_title(plan)
    assert "\n" not in branch_name(plan)


def test_generated_file_names_are_capped() -> None:
    """A 3,000-character stem gives a file name of at most FILE_NAME_LIMIT bytes, unique
    by a hash; short names are unchanged."""
    long_a = file_name("a" * 3000 + "-patch")
    long_b = file_name("a" * 2999 + "b-patch")
    assert len(long_a.encode()) <= FILE_NAME_LIMIT
    assert long_a != long_b
    assert long_a.endswith(".yaml")
    assert file_name("nginx-patch") == "nginx-patch.yaml"


def test_override_for_a_very_long_app_name(root: Path) -> None:
    """Promoting an app with a 3,000-character name that needs an override file: the new
    file's name is capped and ends in a hash of the full name, and it is written (no "File
    name too long")."""
    long_name = "r" * 3000
    for path in [*root.glob("base/report/*.yaml"), *root.glob("pipelines/platform/*/*.yaml")]:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("name: report\n", f"name: {long_name}\n"), encoding="utf-8")
    plan = plan_promotion(
        GitOpsRepo.open(root), [long_name], "staging", "prod", pipeline="platform", render=False
    )
    plan.write()
    for edit in plan.edits:
        assert len(Path(edit.path).name.encode()) <= FILE_NAME_LIMIT
    (override,) = [c.file for c in plan.changes if c.how == "new-patch"]
    assert override.endswith(
        f"-{hashlib.sha1(f'{long_name}-image'.encode()).hexdigest()[:10]}.yaml"
    )
    assert (root / override).is_file()


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """A clone of the example GitOps repo with a bare remote."""
    return make_gitops(tmp_path)


def promote(ops: GitOps, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``promote nginx dev staging -p web`` as a subprocess with ``env`` added."""
    return subprocess.run(
        [sys.executable, "-c", PROMOTE, "nginx", "dev", "staging", "-p", "web"],
        cwd=ops.work,
        env=environment(tmp_path, PROMOTER_KUSTOMIZE="no-such-renderer", **env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_token_in_github_api_url_is_not_printed(ops: GitOps, tmp_path: Path) -> None:
    """A token written into GITHUB_API_URL never appears in the error line."""
    done = promote(
        ops,
        tmp_path,
        GITHUB_TOKEN="t0ken-value",
        GITHUB_REPOSITORY="acme/gitops",
        GITHUB_API_URL="http://user:api-s3cret@127.0.0.1:9",
    )
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1
    assert "api-s3cret" not in done.stderr + done.stdout
    assert "t0ken-value" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("variable", "extra"),
    [
        ("GITHUB_API_URL", {"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "acme/gitops"}),
        ("CI_API_V4_URL", {"GITLAB_TOKEN": "t", "CI_PROJECT_PATH": "acme/gitops"}),
    ],
)
def test_api_url_that_is_not_a_url_is_one_line(
    ops: GitOps, tmp_path: Path, variable: str, extra: dict[str, str]
) -> None:
    """``::not a url::`` as the API URL: one clear line naming the variable, exit 1."""
    provider = {"CI_API_V4_URL": "gitlab"}.get(variable, "github")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROMOTE,
            "nginx",
            "dev",
            "staging",
            "-p",
            "web",
            "--provider",
            provider,
        ],
        cwd=ops.work,
        env=environment(
            tmp_path, PROMOTER_KUSTOMIZE="no-such-renderer", **extra, **{variable: "::not a url::"}
        ),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert [f"error: {variable} '::not a url::' is not an http(s) URL"] == (
        done.stderr.strip().splitlines()
    )


def test_token_in_remote_url_is_not_printed(ops: GitOps, tmp_path: Path) -> None:
    """A token written into the remote URL never appears when the remote cannot be reached."""
    ops.git("remote", "set-url", "origin", "http://user:remote-s3cret@127.0.0.1:9/acme/gitops.git")
    done = promote(ops, tmp_path, GITHUB_TOKEN="t0ken-value", GITHUB_REPOSITORY="acme/gitops")
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1
    assert "remote-s3cret" not in done.stderr + done.stdout
    assert "t0ken-value" not in done.stderr + done.stdout


def test_no_default_captures_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """help(promote) shows no environment value: env defaults to None everywhere."""
    monkeypatch.setenv("PROMOTER_TEST_SECRET", "env-s3cret")
    assert "env-s3cret" not in pydoc.render_doc(publish.promote)
    for function in (publish.promote, publish.publish_change, publish.github_pulls):
        assert inspect.signature(function).parameters["env"].default is None
    package = Path(publish.__file__).parent
    offenders = [
        str(path)
        for path in package.rglob("*.py")
        if "= os.environ," in path.read_text(encoding="utf-8")
        or "= os.environ)" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
