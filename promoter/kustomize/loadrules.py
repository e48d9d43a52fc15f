"""kustomize's load restrictions: where the files a kustomization names may be."""

from __future__ import annotations

import os

from promoter.tree import DiskSource, FileSource


def real_relative(source: FileSource, rel: str) -> str:
    """``rel`` with symlinks resolved, relative to the repository root; ``rel`` itself for
    a snapshot (a commit has no links to follow) or when a link leads out of the root."""
    if not isinstance(source, DiskSource):
        return rel
    root = str(source.root)
    real = os.path.realpath(os.path.join(root, rel) if rel else root)  # noqa: PTH118
    if real == root:
        return ""
    if real.startswith(root + os.sep):
        return real[len(root) + 1 :].replace(os.sep, "/")
    return rel
