"""The lazy import of the official ``kubernetes`` client, installed by the ``cluster`` extra.

Commands that do not read a cluster never import it (it costs a few hundred milliseconds);
a missing extra becomes one line that says how to install it.
"""

from __future__ import annotations

from types import ModuleType

from promoter.errors import ClusterError

EXTRA_MISSING = "cluster features need the extra: pip install 'kustomize-promoter[cluster]'"


def load() -> ModuleType:
    """The ``kubernetes`` package with its client, config and watch modules imported."""
    try:
        import kubernetes.client
        import kubernetes.config
        import kubernetes.watch
    except ImportError as exc:
        raise ClusterError(EXTRA_MISSING) from exc
    return kubernetes


def require() -> None:
    """Raise the one-line ClusterError when the ``cluster`` extra is not installed."""
    load()
