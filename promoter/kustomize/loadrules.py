"""kustomize's load restrictions: where the files a kustomization names may be."""

from __future__ import annotations

from promoter.tree import DiskSource, FileSource


def real_relative(source: FileSource, rel: str) -> str:
    """``rel`` with symlinks resolved, relative to the repository root; ``rel`` itself for
    a snapshot (a commit has no links to follow) or when a link leads out of the root."""
    if not isinstance(source, DiskSource):
        return rel
    return source.real_relative(rel)
