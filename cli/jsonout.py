"""The one way every command prints JSON (``-o json``), as the README's "JSON output" says:
one document and a newline; indented by two spaces when stdout is a terminal, one compact
line when it is not (``| jq .`` indents it), as the ``gh`` CLI does; keys in snake_case in
a fixed order; ASCII (other characters as ``\\u`` escapes)."""

from __future__ import annotations

import sys


def json_text(data: object) -> str:
    """``data`` as the commands print it to the current stdout."""
    from promoter.serialize import to_json

    return to_json(data, indent=2 if _interactive() else None)


def write_json(data: object) -> None:
    """Print ``data`` on stdout as every command does."""
    sys.stdout.write(json_text(data))


def _interactive() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def write_bytes(data: bytes) -> None:
    """Write a document already serialized as ASCII (``status -o json`` from its parts) to
    stdout as it is."""
    binary = getattr(sys.stdout, "buffer", None)
    if binary is None:  # a text-only stream (tests)
        sys.stdout.write(data.decode())
    else:
        sys.stdout.flush()
        binary.write(data)
        binary.flush()
