"""Links into the forge that hosts a repository: a file at a commit, a commit, a pull
(merge) request.  Built from the remote URL; a remote on neither GitHub nor GitLab gets none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

ForgeKind = Literal["github", "gitlab"]


@dataclass(frozen=True)
class ForgeLinks:
    """The web address of a project and how its pages are addressed."""

    kind: ForgeKind
    url: str
    """``https://github.com/OWNER/NAME`` or ``https://gitlab.com/GROUP/PROJECT``."""

    def file(self, commit: str, path: str, line: int | None = None) -> str:
        """A file at a commit, scrolled to ``line``."""
        middle = "blob" if self.kind == "github" else "-/blob"
        anchor = f"#L{line}" if line else ""
        return f"{self.url}/{middle}/{commit}/{quote(path)}{anchor}"

    def commit(self, sha: str) -> str:
        """One commit."""
        return f"{self.url}/commit/{sha}" if self.kind == "github" else f"{self.url}/-/commit/{sha}"

    def change_request(self, number: int) -> str:
        """Pull request (GitHub) or merge request (GitLab) ``number``."""
        if self.kind == "github":
            return f"{self.url}/pull/{number}"
        return f"{self.url}/-/merge_requests/{number}"


def forge_links(remote_url: str | None) -> ForgeLinks | None:
    """The forge of ``remote_url`` (https, ssh or scp form); None for other hosts.  A host
    named like ``gitlab`` is GitLab, ``github`` GitHub (Enterprise included).  Only host and
    project path are kept, so credentials written into the URL never reach a link."""
    if not remote_url:
        return None
    from promoter.forge.gitlab_settings import parse_remote_url as parse_gitlab
    from promoter.github import parse_remote_url as parse_github

    github = parse_github(remote_url)
    if github is not None and "github" in github[0].lower():
        return ForgeLinks("github", f"https://{github[0].lower()}/{github[1]}")
    gitlab = parse_gitlab(remote_url)
    if gitlab is not None and "gitlab" in gitlab.host:
        return ForgeLinks("gitlab", f"https://{gitlab.host}/{gitlab.project}")
    return None
