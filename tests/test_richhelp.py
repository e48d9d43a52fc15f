"""``--help`` renders Typer's Rich help without importing Markdown and traceback support
(``cli.richhelp``, issue 15), and those names still work when something uses them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def run_python(code: str) -> str:
    """Run ``code`` in a fresh interpreter (nothing imported yet) and return its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "100", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
    )
    return done.stdout


def test_help_imports_no_markdown_or_traceback_support() -> None:
    """``pipelines --help`` and ``pipelines status --help`` print their panels and import
    none of the modules only Markdown help or pretty tracebacks need."""
    out = run_python(
        """
        import contextlib, io, json, sys
        from cli.main import pipelines_main
        shown = []
        for args in (["--help"], ["status", "--help"]):
            sys.argv = ["pipelines", *args]
            text = io.StringIO()
            with contextlib.redirect_stdout(text), contextlib.suppress(SystemExit):
                pipelines_main()
            shown.append(text.getvalue())
        heavy = [m for m in sys.modules if m.split(".")[0] in ("markdown_it", "pygments")
                 or m in ("rich.markdown", "rich.traceback")]
        print(json.dumps({"shown": shown, "heavy": heavy}))
        """
    )
    result = json.loads(out)
    assert result["heavy"] == []
    assert "─ Commands ─" in result["shown"][0]
    assert "Usage: pipelines status [OPTIONS] [PIPELINE...]" in result["shown"][1]


def test_deferred_names_build_richs_own_classes() -> None:
    """After the light import, ``typer.rich_utils.Markdown`` builds Rich's ``Markdown``,
    ``Traceback``'s class methods work, and importing the modules gives the real ones."""
    out = run_python(
        """
        import json, sys
        from cli.richhelp import import_rich_utils
        import_rich_utils()
        import typer.rich_utils as ru
        made = ru.Markdown("# title")
        import rich.markdown, rich.traceback
        try:
            raise ValueError("x")
        except ValueError as exc:
            tb = ru.Traceback.from_exception(type(exc), exc, exc.__traceback__)
        print(json.dumps([
            type(made) is rich.markdown.Markdown,
            type(tb) is rich.traceback.Traceback,
            hasattr(rich.markdown, "Heading"),
            sys.modules["rich.markdown"] is rich.markdown,
        ]))
        """
    )
    assert json.loads(out) == [True, True, True, True]
