"""Real git repositories for the promotion tests: a user's clone of the example GitOps repo
whose ``origin`` is a bare repository in ``tmp_path``, plus probes of what git holds."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
"""The checkout, whose base/ and pipelines/ form the example GitOps repo."""

EXAMPLE_DIRS = ("base", "pipelines")

IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
}

_CLEARED = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GITHUB_REPOSITORY",
    "GITHUB_API_URL",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_COUNT",
    "GIT_ASKPASS",
    "PROMOTER_DEBUG",
    "PROMOTER_GITHUB_BACKOFF",
    "GITLAB_TOKEN",
    "GL_TOKEN",
    "CI_JOB_TOKEN",
    "GITLAB_HOST",
    "GL_HOST",
    "CI_SERVER_HOST",
    "CI_API_V4_URL",
    "CI_PROJECT_PATH",
    "GITLAB_CI",
    "GITHUB_ACTIONS",
    "GH_HOST",
    "GITHUB_SERVER_URL",
    "PROMOTER_GITLAB_BACKOFF",
    "PROMOTER_MAX_FILE_BYTES",
    "PROMOTER_RENDER_TIMEOUT",
)


def isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point HOME and the temp directory into ``tmp_path``, set a git identity, clear every
    GitHub variable; return the temp directory (where promoter's own temp dirs go)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    temp = tmp_path / "tmp"
    temp.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    for name, value in IDENTITY.items():
        monkeypatch.setenv(name, value)
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    return temp


def git(*args: str, cwd: Path, check: bool = True) -> str:
    """Run git in ``cwd`` (with the current environment); its stdout, stripped at the end."""
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.rstrip()


@dataclass(frozen=True)
class GitOps:
    """A user's clone (``work``) of the example GitOps repo and its bare ``remote``."""

    work: Path
    remote: Path

    def git(self, *args: str, check: bool = True) -> str:
        """git in the user's clone."""
        return git(*args, cwd=self.work, check=check)

    def remote_git(self, *args: str, check: bool = True) -> str:
        """git in the bare remote."""
        return git("--git-dir", str(self.remote), *args, cwd=self.remote, check=check)

    def remote_sha(self, branch: str) -> str | None:
        """Commit of ``branch`` in the remote, None when the branch does not exist."""
        out = self.remote_git(
            "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False
        )
        return out or None

    def remote_branches(self) -> list[str]:
        """Every branch of the remote."""
        out = self.remote_git("for-each-ref", "--format=%(refname:short)", "refs/heads")
        return sorted(out.split())

    def local_branches(self) -> list[str]:
        """Every local branch of the user's clone."""
        out = self.git("for-each-ref", "--format=%(refname:short)", "refs/heads")
        return sorted(out.split())

    def remote_file(self, branch: str, path: str) -> str:
        """A file's text at the tip of a remote branch."""
        return self.remote_git("show", f"refs/heads/{branch}:{path}")

    def worktrees(self) -> list[str]:
        """Paths of the user's repository's worktrees (the main one first)."""
        out = self.git("worktree", "list", "--porcelain")
        return [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("worktree ")]

    def snapshot(self) -> dict[str, object]:
        """Everything a promotion must leave alone: status, HEAD, branch, index, untracked
        files, the contents of tracked and untracked files, and the configuration."""
        files = {}
        for rel in self.git("ls-files", "-z", "--cached", "--others").split("\0"):
            if rel and (self.work / rel).is_file():
                files[rel] = (self.work / rel).read_bytes()
        return {
            "status": self.git("status", "--porcelain=v1", "--untracked-files=all"),
            "head": self.git("rev-parse", "HEAD"),
            "branch": self.git("symbolic-ref", "--quiet", "HEAD", check=False),
            "index": self.git("ls-files", "--stage"),
            "untracked": self.git("ls-files", "--others", "--exclude-standard"),
            "files": files,
            "config": (self.work / ".git" / "config").read_text(encoding="utf-8"),
        }


def make_gitops(tmp_path: Path, *, name: str = "work") -> GitOps:
    """A bare remote ``remote.git`` (default branch main) holding one commit of the example
    GitOps repo, and a clone of it at ``tmp_path/name`` whose ``origin`` is the remote.

    Built once per test session and copied (git is slow to start on a busy machine)."""
    template = tmp_path.parent / "_gitops_template"
    if not (template / "done").exists():
        shutil.rmtree(template, ignore_errors=True)
        template.mkdir()
        _build_template(template)
        (template / "done").write_text("", encoding="utf-8")
    remote = tmp_path / "remote.git"
    work = tmp_path / name
    shutil.copytree(template / "remote.git", remote, symlinks=True)
    shutil.copytree(template / "work", work, symlinks=True)
    git("remote", "set-url", "origin", str(remote), cwd=work)
    return GitOps(work, remote)


def make_monorepo(tmp_path: Path, subdir: str) -> GitOps:
    """Like ``make_gitops``, but the GitOps repo lives in ``subdir`` of the git repository."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    _build_template(tmp_path, subdir)
    return GitOps(tmp_path / "work", tmp_path / "remote.git")


def _build_template(root: Path, subdir: str = "") -> None:
    remote = root / "remote.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(remote), cwd=root)
    seed = root / "seed"
    seed.mkdir()
    for directory in EXAMPLE_DIRS:
        shutil.copytree(PROJECT_ROOT / directory, seed / subdir / directory)
    (seed / "README.md").write_text("GitOps\n", encoding="utf-8")
    git("init", "--quiet", "--initial-branch=main", cwd=seed)
    git("add", "-A", cwd=seed)
    git("commit", "--quiet", "-m", "example GitOps repo", cwd=seed)
    git("push", "--quiet", str(remote), "main", cwd=seed)
    shutil.rmtree(seed)
    git("clone", "--quiet", str(remote), str(root / "work"), cwd=root)


def push_change(
    ops: GitOps, branch: str, files: dict[str, str], message: str, *, base: str = "main"
) -> str:
    """Another writer: commit ``files`` on top of remote ``branch`` (or of ``base`` when the
    branch does not exist yet) straight into the remote (no hooks run); the new commit."""
    parent = ops.remote_sha(branch) or ops.remote_sha(base)
    assert parent is not None, f"neither {branch} nor {base} exists in the remote"
    index = Path(tempfile.mkdtemp(prefix="other-writer-", dir=ops.remote.parent)) / "index"
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}

    def run(*args: str, stdin: str | None = None) -> str:
        proc = subprocess.run(
            ["git", "--git-dir", str(ops.remote), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        return proc.stdout.strip()

    try:
        run("read-tree", parent)
        for rel, text in files.items():
            blob = run("hash-object", "-w", "--stdin", stdin=text)
            run("update-index", "--add", "--cacheinfo", f"100644,{blob},{rel}")
        tree = run("write-tree")
        sha = run("commit-tree", tree, "-p", parent, "-m", message)
        run("update-ref", f"refs/heads/{branch}", sha)
        return sha
    finally:
        shutil.rmtree(index.parent, ignore_errors=True)


def deny_pushes(ops: GitOps, message: str = "permission denied to promoter-bot") -> None:
    """Give the remote a pre-receive hook that refuses every push (no push rights)."""
    hook = ops.remote / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\necho '{message}' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)


def leftovers(temp: Path) -> list[str]:
    """promoter's temporary directories (worktrees, askpass helpers) still in ``temp``."""
    return sorted(p.name for p in temp.glob("promoter-*"))


class GitHttpServer:
    """Git's smart HTTP protocol (``git http-backend``) for the bare repositories under
    ``root``, on 127.0.0.1, behind HTTP Basic authentication: what an https GitHub remote
    looks like to git, minus TLS.  ``auth`` records every (user, password) offered."""

    def __init__(self, root: Path, *, username: str, password: str) -> None:
        self.root = root
        self.username = username
        self.password = password
        self.auth: list[tuple[str, str]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> GitHttpServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                offered = self.headers.get("Authorization", "")
                if offered.startswith("Basic "):
                    user, _, password = base64.b64decode(offered[6:]).decode().partition(":")
                    owner.auth.append((user, password))
                    allowed = (user, password) == (owner.username, owner.password)
                else:
                    allowed = False
                if not allowed:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path, _, query = self.path.partition("?")
                env = {
                    **os.environ,
                    "GIT_PROJECT_ROOT": str(owner.root),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "PATH_INFO": path,
                    "QUERY_STRING": query,
                    "REQUEST_METHOD": self.command,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "REMOTE_USER": owner.username,
                    "REMOTE_ADDR": "127.0.0.1",
                    "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                    "HTTP_GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                }
                done = subprocess.run(
                    ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
                )
                head, sep, payload = done.stdout.partition(b"\r\n\r\n")
                if not sep:
                    head, sep, payload = done.stdout.partition(b"\n\n")
                status = 200
                headers = []
                for line in head.decode("latin-1").splitlines():
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
