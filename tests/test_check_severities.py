"""``pipelines check`` severities: defaults, promoter.yaml's ``check.rules``, ``--strict``,
exit codes, GitHub annotation levels and the JSON fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.check import github_line, text_line
from promoter.checkrules import BY_ID, RULES, SEVERITIES, default_severity
from promoter.checks import Finding, check
from promoter.problems import Problem
from tests.test_checks import deployment, invoke, make_repo, sync

SHA = "example.com/app:64308f39a1b2"
"""A commit-SHA tag: no version order (``version-unordered``)."""
LATEST = "example.com/app:latest"
"""No pinned version (``version-floating``)."""
MARKER = ' # {"$imagepolicy": "flux-system/app"}'
"""A setter marker without a namespace (``marker-malformed``)."""


def rules_of(root: Path) -> list[tuple[str, str]]:
    """(rule, severity) of every finding of the repository at ``root``."""
    return [(f.rule, f.severity) for f in check(root).findings]


def repo_with(tmp_path: Path, prod_image: str, config: str | None = None, dev: str = "") -> Path:
    """The two-stage test repo with ``prod_image`` in prod, a dev image comment ``dev`` and
    ``config`` as promoter.yaml."""
    files = {"demo/prod/deployment.yaml": deployment(prod_image)}
    if dev:
        files["demo/dev/deployment.yaml"] = deployment("example.com/app:1.1.0", dev)
    if config is not None:
        files["promoter.yaml"] = config
    return make_repo(tmp_path, files)


def rules_config(body: str) -> str:
    """A promoter.yaml whose ``check.rules`` are ``body`` (indented lines ``id: value``)."""
    return "check:\n  rules:\n" + "".join(f"    {line}\n" for line in body.splitlines())


# -- the rule table ------------------------------------------------------------------------


def test_rule_ids_are_unique_kebab_case_with_a_severity() -> None:
    """Every rule has a unique kebab-case id, a known severity, and a one-line description
    and example."""
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert rule.id.replace("-", "").isalpha() and rule.id == rule.id.lower(), rule
        assert rule.severity in SEVERITIES, rule
        assert rule.description and "\n" not in rule.description, rule
        assert rule.example and "\n" not in rule.example, rule
        assert "|" not in rule.description + rule.example, rule  # a README table cell


@pytest.mark.parametrize(
    "rule",
    [
        "stage-unbuildable",
        "render-failed",
        "patch-targets-nothing",
        "gate-invalid",
        "name-invalid",
        "marker-malformed",
        "config-invalid",
    ],
)
def test_broken_things_are_errors(rule: str) -> None:
    """A stage that does not build or render, a patch that targets nothing, a malformed
    gate or marker and a name with control characters are errors by default."""
    assert default_severity(rule) == "error"


@pytest.mark.parametrize(
    ("rule", "severity"),
    [
        ("version-unordered", "notice"),
        ("unsupported", "notice"),
        ("version-floating", "warning"),
        ("marker-in-later-stage", "warning"),
        ("shared-override", "warning"),
    ],
)
def test_common_practices_are_warnings_or_notices(rule: str, severity: str) -> None:
    """Commit-SHA tags, ``latest``, automation in later stages, shared overrides and what
    the native reader cannot follow do not fail a check by default."""
    assert default_severity(rule) == severity


def test_unknown_rule_defaults_to_error() -> None:
    """A rule id the table does not know (a code added without a rule) is an error."""
    assert "no-such-rule" not in BY_ID
    assert default_severity("no-such-rule") == "error"


# -- defaults on repositories --------------------------------------------------------------


def test_commit_sha_tag_is_a_notice_and_passes(tmp_path: Path) -> None:
    """A commit-SHA tag is a ``version-unordered`` notice: printed, exit 0."""
    repo = repo_with(tmp_path, SHA)
    assert rules_of(repo) == [("version-unordered", "notice")]
    result = invoke("check", "--repo", str(repo))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("demo/prod/deployment.yaml:10: notice [version-unordered] ")
    assert lines[-1] == (
        "pipelines check: 1 finding: 1 notice (1 version-unordered) in 1 pipeline, 2 stages"
    )


def test_latest_is_a_warning_and_passes(tmp_path: Path) -> None:
    """``latest`` is a ``version-floating`` warning: exit 0 without ``--strict``."""
    repo = repo_with(tmp_path, LATEST)
    assert rules_of(repo) == [("version-floating", "warning")]
    assert invoke("check", "--repo", str(repo)).exit_code == 0


def test_a_name_with_control_characters_is_an_error(tmp_path: Path) -> None:
    """A stage name with an escape character in promoter.yaml is an error finding at its
    line (``name-invalid`` once names carry their own code, ``config-invalid`` before)."""
    config = 'pipelines:\n  - name: demo\n    stages:\n      - {name: "d\\eev", path: demo/dev}\n'
    findings = check(repo_with(tmp_path, "example.com/app:1.0.0", config)).findings
    assert [(f.file, f.line, f.severity) for f in findings] == [("promoter.yaml", 4, "error")]
    assert findings[0].rule in ("name-invalid", "config-invalid")


def test_a_label_with_control_characters_is_an_error(tmp_path: Path) -> None:
    """A pipeline label with an escape character is an error finding."""
    bad = sync("dev").replace(
        "pipelines.weave.works/name: demo", 'pipelines.weave.works/name: "d\\emo"'
    )
    findings = check(make_repo(tmp_path, {"clusters/dev.yaml": bad})).findings
    assert [(f.file, f.severity) for f in findings] == [("clusters/dev.yaml", "error")]
    assert findings[0].rule in ("name-invalid", "label-invalid")


# -- promoter.yaml overrides ---------------------------------------------------------------


@pytest.mark.parametrize("off", ["off", "Off", '"off"', "false", "no"])
def test_a_rule_turned_off_reports_nothing(tmp_path: Path, off: str) -> None:
    """``off`` (unquoted, quoted, any case) and ``false``, what YAML 1.1 readers make of an
    unquoted ``off``, turn a rule off."""
    repo = repo_with(tmp_path, SHA, rules_config(f"version-unordered: {off}"))
    assert rules_of(repo) == []
    result = invoke("check", "--repo", str(repo))
    assert (result.exit_code, result.stdout) == (
        0,
        "pipelines check: no findings (1 pipeline, 2 stages)\n",
    )


def test_a_rule_raised_to_error_fails(tmp_path: Path) -> None:
    """``version-unordered: error`` makes a commit-SHA tag fail the check."""
    repo = repo_with(tmp_path, SHA, rules_config("version-unordered: error"))
    assert rules_of(repo) == [("version-unordered", "error")]
    assert invoke("check", "--repo", str(repo)).exit_code == 1


def test_an_error_lowered_to_warning_passes(tmp_path: Path) -> None:
    """A malformed marker lowered to ``warning`` no longer fails without ``--strict``."""
    config = rules_config("marker-malformed: Warning")
    repo = repo_with(tmp_path, "example.com/app:1.0.0", config, dev=MARKER)
    assert rules_of(repo) == [("marker-malformed", "warning")]
    assert invoke("check", "--repo", str(repo)).exit_code == 0
    assert invoke("check", "--repo", str(repo), "--strict").exit_code == 1


def test_overrides_apply_only_to_their_rule(tmp_path: Path) -> None:
    """Turning one rule off leaves the others at their defaults."""
    config = rules_config("version-floating: off")
    repo = repo_with(tmp_path, SHA, config, dev=MARKER)
    assert rules_of(repo) == [("marker-malformed", "error"), ("version-unordered", "notice")]


@pytest.mark.parametrize(
    ("config", "line", "message"),
    [
        (
            rules_config("version-unordered: off\nversoin-unordered: off"),
            4,
            "check.rules: unknown rule 'versoin-unordered'; did you mean version-unordered?",
        ),
        (
            rules_config("version-unordered: fatal"),
            3,
            "check.rules.version-unordered: 'fatal' is not off, notice, warning or error",
        ),
        (
            rules_config("version-unordered: on"),
            3,
            "check.rules.version-unordered: 'on' is not off, notice, warning or error",
        ),
        (
            "check:\n  rulez: {}\n",
            2,
            "check: unknown key 'rulez' (known: rules)",
        ),
        (
            "check:\n  rules: [version-unordered]\n",
            2,
            "check.rules must be a mapping of rule ids to off, notice, warning or error",
        ),
        (
            "check: strict\n",
            1,
            "check must be a mapping: check: {rules: {RULE: off|notice|warning|error}}",
        ),
    ],
)
def test_a_mistake_in_check_rules_is_a_config_error(
    tmp_path: Path, config: str, line: int, message: str
) -> None:
    """An unknown rule id, an unknown severity or a malformed ``check`` section is one
    ``config-invalid`` error naming promoter.yaml and the line; the rules keep their
    defaults."""
    repo = repo_with(tmp_path, SHA, config)
    findings = check(repo).findings
    assert [(f.file, f.line, f.rule, f.severity, f.message) for f in findings] == [
        ("demo/prod/deployment.yaml", 10, "version-unordered", "notice", findings[0].message),
        ("promoter.yaml", line, "config-invalid", "error", message),
    ]
    result = invoke("check", "--repo", str(repo))
    assert result.exit_code == 1
    expected = f"promoter.yaml:{line}: error [config-invalid] {message}"
    assert result.stdout.splitlines()[1] == expected


def test_check_section_with_declared_pipelines(tmp_path: Path) -> None:
    """``check`` sits beside ``pipelines`` in promoter.yaml; both are read."""
    config = (
        "pipelines:\n"
        "  - name: demo\n"
        "    stages:\n"
        "      - path: demo/dev\n"
        "      - path: demo/prod\n"
        "check:\n"
        "  rules:\n"
        "    version-floating: error\n"
    )
    repo = repo_with(tmp_path, LATEST, config)
    assert rules_of(repo) == [("version-floating", "error")]


def test_a_broken_promoter_yaml_keeps_default_severities(tmp_path: Path) -> None:
    """When promoter.yaml cannot be read at all, its one finding is a ``config-invalid``
    error and the check section is not read."""
    config = (
        "pipelines:\n  - name: demo\n    stagez: []\ncheck:\n  rules:\n    config-invalid: off\n"
    )
    findings = check(repo_with(tmp_path, SHA, config)).findings
    assert [(f.file, f.line, f.rule, f.severity) for f in findings] == [
        ("promoter.yaml", 3, "config-invalid", "error")
    ]


# -- --strict and exit codes ---------------------------------------------------------------


def test_strict_fails_on_warnings(tmp_path: Path) -> None:
    """With ``--strict`` a warning fails the check (exit 1); without it, exit 0."""
    repo = repo_with(tmp_path, LATEST)
    assert invoke("check", "--repo", str(repo)).exit_code == 0
    assert invoke("check", "--repo", str(repo), "--strict").exit_code == 1


def test_strict_ignores_notices(tmp_path: Path) -> None:
    """Notices never fail the check, not even with ``--strict``."""
    repo = repo_with(tmp_path, SHA)
    result = invoke("check", "--repo", str(repo), "--strict")
    assert result.exit_code == 0
    assert "notice [version-unordered]" in result.stdout


@pytest.mark.parametrize(
    ("prod", "dev", "strict", "code"),
    [
        ("example.com/app:1.0.0", "", False, 0),
        (SHA, "", False, 0),
        (LATEST, "", False, 0),
        (LATEST, "", True, 1),
        ("example.com/app:1.0.0", MARKER, False, 1),
        ("example.com/app:1.0.0", MARKER, True, 1),
    ],
)
def test_exit_codes(tmp_path: Path, prod: str, dev: str, strict: bool, code: int) -> None:
    """Exit 0 without errors (and, with ``--strict``, without warnings), 1 otherwise."""
    repo = repo_with(tmp_path, prod, dev=dev)
    args = ["check", "--repo", str(repo), *(["--strict"] if strict else [])]
    for output in ("text", "json", "github"):
        assert invoke(*args, "-o", output).exit_code == code, output


def test_exit_code_of_a_missing_repository_and_bad_usage(tmp_path: Path) -> None:
    """A repository that cannot be checked exits 1; an unknown output format exits 2."""
    assert invoke("check", "--repo", str(tmp_path / "missing")).exit_code == 1
    assert invoke("check", "--repo", str(tmp_path), "-o", "xml").exit_code == 2


def test_report_passed_and_counts(tmp_path: Path) -> None:
    """``CheckReport.passed`` is the exit verdict; ``count`` counts findings by severity."""
    report = check(repo_with(tmp_path, LATEST, dev=MARKER))
    assert (report.count("error"), report.count("warning"), report.count("notice")) == (1, 1, 0)
    assert (report.ok, report.passed(), report.passed(strict=True)) == (False, False, False)
    warned = check(repo_with(tmp_path / "w", LATEST))
    assert (warned.ok, warned.passed(), warned.passed(strict=True)) == (False, True, False)


# -- outputs -------------------------------------------------------------------------------


def test_github_annotation_levels(tmp_path: Path) -> None:
    """``-o github`` prints ``::error``, ``::warning`` and ``::notice`` by severity."""
    repo = repo_with(tmp_path, SHA, dev=MARKER)
    (tmp_path / "demo/prod/deployment.yaml").write_text(
        deployment(SHA) + "---\n" + deployment(LATEST, name="cache"), encoding="utf-8"
    )
    result = invoke(
        "check", "--repo", str(repo), "-o", "github", env={"GITHUB_WORKSPACE": str(tmp_path)}
    )
    commands = [line.split(" ", 1)[0].split("::")[1] for line in result.stdout.splitlines()[:-1]]
    assert result.exit_code == 1
    assert sorted(commands) == ["error", "notice", "warning"]
    by_rule = {
        line.split("::")[2].split("]")[0][1:]: line for line in result.stdout.splitlines()[:-1]
    }
    assert by_rule["marker-malformed"].startswith("::error file=demo/dev/deployment.yaml,line=10::")
    assert by_rule["version-floating"].startswith(
        "::warning file=demo/prod/deployment.yaml,line=21::"
    )
    assert by_rule["version-unordered"].startswith(
        "::notice file=demo/prod/deployment.yaml,line=10::"
    )


@pytest.mark.parametrize("severity", SEVERITIES)
def test_github_line_escapes_at_every_level(tmp_path: Path, severity: str) -> None:
    """Every annotation level escapes ``%`` and newlines in the message and ``:``/``,`` in
    the file property the same way."""
    bare = Finding(Problem("100% broken\nreally", code="render-failed"), severity)  # type: ignore[arg-type]
    assert github_line(bare, tmp_path, tmp_path) == (
        f"::{severity}::[render-failed] 100%25 broken%0Areally"
    )
    odd = Finding(Problem("m\r", "a,b:c.yaml", 3, code="marker-malformed"), severity)  # type: ignore[arg-type]
    assert github_line(odd, tmp_path, tmp_path) == (
        f"::{severity} file=a%2Cb%3Ac.yaml,line=3::[marker-malformed] m%0D"
    )


def test_text_line_names_the_severity() -> None:
    """A text line is ``file:line: severity [rule] message``; without a place it starts
    with the severity."""
    placed = Finding(Problem("m", "a.yaml", 2, code="version-floating"), "warning")
    assert text_line(placed) == "a.yaml:2: warning [version-floating] m"
    bare = Finding(Problem("m", code="render-unavailable"), "error")
    assert text_line(bare) == "error [render-unavailable] m"


def test_json_carries_id_and_severity(tmp_path: Path) -> None:
    """``-o json`` gives each finding ``id`` and ``severity`` beside ``file``, ``line``,
    ``rule`` and ``message``; ``ok`` is the verdict, ``counts`` the findings per severity."""
    repo = repo_with(tmp_path, SHA, dev=MARKER)
    result = invoke("check", "--repo", str(repo), "-o", "json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    assert [
        {k: f[k] for k in ("file", "line", "rule", "id", "severity")} for f in data["findings"]
    ] == [
        {
            "file": "demo/dev/deployment.yaml",
            "line": 10,
            "rule": "marker-malformed",
            "id": "marker-malformed",
            "severity": "error",
        },
        {
            "file": "demo/prod/deployment.yaml",
            "line": 10,
            "rule": "version-unordered",
            "id": "version-unordered",
            "severity": "notice",
        },
    ]
    assert all(isinstance(f["message"], str) and f["message"] for f in data["findings"])
    assert (data["ok"], data["counts"], data["strict"]) == (
        False,
        {"error": 1, "warning": 0, "notice": 1},
        False,
    )


def test_json_ok_follows_strict(tmp_path: Path) -> None:
    """With only a warning, JSON ``ok`` is true, and false with ``--strict``."""
    repo = repo_with(tmp_path, LATEST)
    relaxed = json.loads(invoke("check", "--repo", str(repo), "-o", "json").stdout)
    strict = json.loads(invoke("check", "--repo", str(repo), "-o", "json", "--strict").stdout)
    assert (relaxed["ok"], relaxed["strict"]) == (True, False)
    assert (strict["ok"], strict["strict"]) == (False, True)
    assert relaxed["findings"][0]["severity"] == "warning"
