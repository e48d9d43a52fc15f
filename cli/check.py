"""``pipelines check``: validate the whole repository for CI.

Exit codes: 0 when no error remains (warnings and notices are printed), 1 when an error
remains (with ``--strict`` also a warning) or the repository cannot be checked at all, 2
bad usage.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.errors import EXIT_FAILED, handled
from cli.options import RepoOption, repo_root

if TYPE_CHECKING:
    from promoter.checks import CheckReport, Finding


class Output(str, Enum):
    """Output formats of ``check``."""

    text = "text"
    json = "json"
    github = "github"


def check(
    repo: RepoOption = None,
    output: Annotated[
        Output,
        typer.Option(
            "--output",
            "-o",
            help="text, json, or github (workflow annotations: ::error, ::warning, ::notice).",
        ),
    ] = Output.text,
    render: Annotated[
        bool,
        typer.Option(
            "--render",
            help="Also render every stage with kustomize and compare its versions.",
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Warnings fail the check too (exit 1), not only errors."),
    ] = False,
) -> None:
    """Validate every pipeline and stage of the repository (for CI); exit 1 when an error
    remains (with --strict, a warning too)."""
    with handled():
        import promoter

        root = repo_root(repo)
        try:
            report = promoter.check(root, render=render)
        except promoter.PromoterError as exc:
            if output is Output.github:
                print(f"::error::{_escape_data(str(exc))}", flush=True)
            raise
        findings = report.findings
        if output is Output.json:
            from cli.jsonout import json_text
            from promoter.serialize import check_dict

            sys.stdout.write(json_text(check_dict(findings, strict=strict)))
        elif output is Output.github:
            base = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd())
            for finding in findings:
                print(github_line(finding, root, base))
            print(summary(findings, _scope(report)))
        else:
            for finding in findings:
                print(text_line(finding))
            print(summary(findings, _scope(report)))
    if not report.passed(strict):
        raise typer.Exit(EXIT_FAILED)


def _scope(report: CheckReport) -> str:
    """What was checked: ``N pipelines, M stages`` (or the repository, when no pipeline
    could be discovered)."""
    if report.pipelines is None:
        return "the repository"
    return f"{_count(report.pipelines, 'pipeline')}, {_count(report.stages, 'stage')}"


def text_line(finding: Finding) -> str:
    """``file:line: severity [rule] message`` (the location left out when unknown)."""
    where = f"{finding.location}: " if finding.location else ""
    return f"{where}{finding.severity} [{finding.rule}] {_one_line(finding.message)}"


def github_line(finding: Finding, root: Path, base: Path) -> str:
    """A GitHub Actions ``::error``, ``::warning`` or ``::notice`` workflow command (by the
    finding's severity); ``file`` is made relative to ``base`` (the workspace) so
    annotations land on the right file when ``--repo`` is a subdir."""
    command = finding.severity
    message = _escape_data(f"[{finding.rule}] {finding.message}")
    if finding.file is None:
        return f"::{command}::{message}"
    props = f"file={_escape_property(_workspace_path(finding.file, root, base))}"
    if finding.line is not None:
        props += f",line={finding.line}"
    return f"::{command} {props}::{message}"


def summary(findings: tuple[Finding, ...], scope: str) -> str:
    """The last line of text and github output: how many findings of each severity and
    rule."""
    if not findings:
        return f"pipelines check: no findings ({scope})"
    by_rule = Counter(f.rule for f in findings)
    rules = ", ".join(f"{n} {rule}" for rule, n in sorted(by_rule.items()))
    by_severity = Counter(f.severity for f in findings)
    severities = ", ".join(
        _count(by_severity[s], s) for s in ("error", "warning", "notice") if by_severity[s]
    )
    return f"pipelines check: {_count(len(findings), 'finding')}: {severities} ({rules}) in {scope}"


def _workspace_path(file: str, root: Path, base: Path) -> str:
    try:
        return (root.resolve() / file).relative_to(base.resolve()).as_posix()
    except ValueError:
        return file


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
