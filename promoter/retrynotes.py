"""HTTP retries that say so: a ``urllib3`` ``Retry`` class (PyGithub's ``GithubRetry``, the
GitLab session's ``Retry``) whose every retry of a failed request is announced through
``promoter.progress`` (``GitHub: HTTP 502; retrying (1 of 3)``)."""

from __future__ import annotations

from typing import Any, TypeVar

from promoter import progress

_R = TypeVar("_R")


def announcing(base: type[_R], service: str) -> type[_R]:
    """A subclass of the ``Retry`` class ``base`` that announces each retry of a failure
    (an error or an HTTP 403/429/5xx answer; redirects are not failures)."""

    class Announcing(base):  # type: ignore[valid-type,misc]
        def increment(self, *args: Any, **kwargs: Any) -> Any:
            new = super().increment(*args, **kwargs)
            response = kwargs.get("response", args[2] if len(args) > 2 else None)
            error = kwargs.get("error", args[3] if len(args) > 3 else None)
            status = getattr(response, "status", None)
            if error is not None or (isinstance(status, int) and status >= 400):
                why = f"HTTP {status}" if error is None else type(error).__name__
                total = getattr(self, "total", None)
                count = len(getattr(new, "history", ()) or ())
                of = f" ({count} of {total})" if isinstance(total, int) else ""
                progress.retrying(f"{service}: {why}; retrying{of}")
            return new

    Announcing.__name__ = Announcing.__qualname__ = f"Announcing{base.__name__}"
    return Announcing
