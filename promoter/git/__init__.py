"""The one door to git: every git process and GitPython call of promoter goes through here.

Failures become one-line ``GitError``s, with any token or URL credentials masked
(``process``).  Promotions never touch the user's working tree, index or current branch:
they are built in a temporary worktree checked out at the fetched remote tip, which is
removed even on error or Ctrl-C (``worktrees``).  Tokens reach git only through an askpass
helper that reads an environment variable of the git process: never a URL, argv, log line
or ``.git/config`` (``credentials``).  History is read without checkouts: a first-parent
raw log (``log``) and a long-lived blob reader (``blobs``).  GitPython is imported only
when a repository is opened, so the command line starts fast.

Modules: ``process`` (running git, errors), ``repository`` (open, top level, git dir,
remotes), ``remotes`` (default branch, fetch), ``worktrees``, ``commits`` (commit, branch,
push), ``credentials`` (askpass), ``log`` (history records), ``blobs`` (file contents),
``revisions`` (commit queries of the cluster features).
"""

from promoter.git.blobs import BlobReader
from promoter.git.commits import commit, push, set_branch
from promoter.git.credentials import credentials
from promoter.git.log import Commit, iter_commits
from promoter.git.remotes import default_branch, fetch, remote_sha
from promoter.git.repository import Remote, git_dir, open_repo, remote, toplevel, toplevel_of
from promoter.git.revisions import branch_tip, contains, count_missing, is_commit, resolve
from promoter.git.worktrees import worktree

__all__ = [
    "BlobReader",
    "Commit",
    "Remote",
    "branch_tip",
    "commit",
    "contains",
    "count_missing",
    "credentials",
    "default_branch",
    "fetch",
    "git_dir",
    "is_commit",
    "iter_commits",
    "open_repo",
    "push",
    "remote",
    "remote_sha",
    "resolve",
    "set_branch",
    "toplevel",
    "toplevel_of",
    "worktree",
]
