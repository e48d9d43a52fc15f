"""Tests of the git door (``promoter.git``): the askpass credentials for https remotes and the
token masked in git's errors, with real git in tmp_path."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from promoter import git
from promoter.errors import GitError
from promoter.git.process import run as git_run
from tests.builders.git import GitOps, make_gitops

TOKEN = "ghp_publishSECRET0123456789"


# HOME, TMPDIR and the git identity inside tmp_path (the ``temp`` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("temp")


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """The user's clone of the example GitOps repo and its bare remote."""
    return make_gitops(tmp_path)


def test_credentials_askpass_for_https(tmp_path: Path) -> None:
    """For an https remote the env holds an executable askpass script that reads the token
    from the environment (the script itself has no token), deleted after the block."""
    with git.credentials(TOKEN, "https://github.com/acme/gitops.git") as env:
        script = Path(env["GIT_ASKPASS"])
        assert script.is_file() and script.stat().st_mode & stat.S_IXUSR
        assert TOKEN not in script.read_text(encoding="utf-8")
        assert TOKEN not in {k: v for k, v in env.items() if k != "PROMOTER_GIT_TOKEN"}.values()
        child = {**os.environ, **env}
        password = subprocess.run(
            [str(script), "Password for 'https://x-access-token@github.com': "],
            env=child,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        username = subprocess.run(
            [str(script), "Username for 'https://github.com': "],
            env=child,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert (password, username) == (f"{TOKEN}\n", "x-access-token\n")
        assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert not script.exists() and not script.parent.exists()


def test_credentials_removed_on_error() -> None:
    """The askpass helper is deleted even when the block fails."""
    with pytest.raises(RuntimeError), git.credentials(TOKEN, "https://h/o/n.git") as env:
        script = Path(env["GIT_ASKPASS"])
        raise RuntimeError("boom")
    assert not script.exists()


@pytest.mark.parametrize(
    ("token", "url"),
    [
        (TOKEN, "git@github.com:acme/gitops.git"),
        (TOKEN, "ssh://git@github.com/acme/gitops.git"),
        (TOKEN, "/srv/git/gitops.git"),
        (None, "https://github.com/acme/gitops.git"),
    ],
)
def test_credentials_no_askpass_without_https_token(token: str | None, url: str) -> None:
    """ssh and local remotes, or no token, get no askpass and no token in the env."""
    with git.credentials(token, url) as env:
        assert env == {"GIT_TERMINAL_PROMPT": "0"}


def test_credentials_keep_helpers_from_storing_token(tmp_path: Path) -> None:
    """A configured credential helper (store) never writes the token to disk."""
    store = tmp_path / "git-credentials"
    home_config = Path(os.environ["HOME"]) / ".gitconfig"
    home_config.write_text(f"[credential]\n\thelper = store --file {store}\n", encoding="utf-8")
    with git.credentials(TOKEN, "https://github.com/acme/gitops.git") as env:
        subprocess.run(
            ["git", "credential", "approve"],
            input=f"protocol=https\nhost=github.com\nusername=x-access-token\npassword={TOKEN}\n\n",
            env={**os.environ, **env},
            text=True,
            check=True,
            capture_output=True,
        )
    assert not store.exists() or TOKEN not in store.read_text(encoding="utf-8")


def test_git_errors_mask_token(ops: GitOps, monkeypatch: pytest.MonkeyPatch) -> None:
    """A token git echoes back in an error is masked."""
    repo = git.open_repo(ops.work)
    try:
        with pytest.raises(GitError) as info:
            git_run(repo, ["rev-parse", f"no-such-ref-{TOKEN}"], {"PROMOTER_GIT_TOKEN": TOKEN})
    finally:
        repo.close()
    assert TOKEN not in str(info.value) and "***" in str(info.value)


# -- blobs --------------------------------------------------------------------------------


def test_blobs_prefetched_in_one_go(tmp_path: Path) -> None:
    """prefetch reads many blobs with one git process: reading them later starts no reader;
    an unknown id is left to read, which says it cannot be read."""
    subprocess.run(["git", "init", "-q", str(tmp_path / "r")], check=True)
    texts = [b"", b"a: 1\n", b"x" * 70_000, b"no newline"]
    shas = [
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            cwd=tmp_path / "r",
            input=text,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
        for text in texts
    ]
    reader = git.BlobReader(tmp_path / "r" / ".git")
    missing = "0" * 40
    try:
        reader.prefetch([*shas, missing, shas[1]])
        assert [reader.read(sha) for sha in shas] == texts
        assert reader._process is None
        with pytest.raises(GitError, match="cannot read object"):
            reader.read(missing)
    finally:
        reader.close()


def test_a_forked_reader_keeps_what_was_read(tmp_path: Path) -> None:
    """A reader for a forked child keeps the blobs read and runs its own git process."""
    subprocess.run(["git", "init", "-q", str(tmp_path / "r")], check=True)
    sha = (
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            cwd=tmp_path / "r",
            input=b"kind: A\n",
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    parent = git.BlobReader(tmp_path / "r" / ".git")
    assert parent.read(sha) == b"kind: A\n"
    child = parent.forked()
    try:
        assert (child.read(sha), child._process, parent._process) == (b"kind: A\n", None, None)
    finally:
        child.close()
