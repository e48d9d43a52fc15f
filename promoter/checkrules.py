"""The rules of ``pipelines check``: a stable id, a default severity, what each one finds.

A finding's ``Problem.code`` is its rule id (``RULES``).  Severities are ``error`` (fails
the check), ``warning`` (fails it only with ``--strict``) and ``notice`` (never fails it);
common, legitimate practices (commit-SHA tags, automation in several stages) are warnings
or notices, broken things (a stage that does not build, a patch that targets nothing, a
malformed gate or marker, a name with control characters) are errors.

``promoter.yaml`` changes a rule's severity, or turns it off::

    check:
      rules:
        version-unordered: off       # unquoted: YAML 1.1 readers see false, which works too
        marker-in-later-stage: error

Problems the library reports elsewhere (``Problem.code``, see ``promoter.problems``) become
findings of the rule ``rule_for`` names: a code that is a rule id is that rule, a code of
``LIBRARY_CODES`` maps to its rule, and a generic code (``CONTEXT_CODES``: ``manifest``,
``kustomize``, ``error``) takes the rule of the check that met it.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from promoter._yaml import YMap
from promoter.config import CONFIG_FILE, Config, check_keys
from promoter.errors import ManifestError

Severity = Literal["error", "warning", "notice"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "notice")
"""Most severe first."""

OFF = "off"
"""What turns a rule off in promoter.yaml (an unquoted ``off``, or ``false``)."""


@dataclass(frozen=True)
class Rule:
    """One check: its stable ``id``, its default ``severity``, a one-line ``description``
    and an ``example`` of what it reports."""

    id: str
    severity: Severity
    description: str
    example: str


RULES: tuple[Rule, ...] = (
    Rule(
        "no-pipelines",
        "error",
        "no pipeline is labelled or declared in promoter.yaml",
        "a repository without any `pipelines.weave.works/name` label",
    ),
    Rule(
        "config-invalid",
        "error",
        "promoter.yaml cannot be read or has a mistake (including its `check` section)",
        "`stagez:` in a pipeline entry; `check: {rules: {versoin-unordered: off}}`",
    ),
    Rule(
        "manifest-invalid",
        "error",
        "a YAML file the pipelines are discovered from cannot be read or parsed",
        "a Flux Kustomization with a tab in its indentation",
    ),
    Rule(
        "label-invalid",
        "error",
        "a `pipelines.weave.works/*` label that cannot be used",
        "`pipelines.weave.works/stage: second` (not an integer)",
    ),
    Rule(
        "label-without-pipeline",
        "warning",
        "a stage label without a pipeline name label: the object is no stage",
        '`pipelines.weave.works/stage: "2"` without `pipelines.weave.works/name`',
    ),
    Rule(
        "label-ignored",
        "warning",
        "a labelled stage of a pipeline that promoter.yaml declares without its path",
        "`clusters/prod.yaml` labels `demo/prod`; promoter.yaml lists only `demo/dev`",
    ),
    Rule(
        "label-order-conflict",
        "warning",
        "stage labels order stages differently from promoter.yaml (which wins)",
        "labels say prod before dev, promoter.yaml lists dev first",
    ),
    Rule(
        "stage-path-invalid",
        "error",
        "a stage path that does not exist, is not a directory or leaves the repository",
        "`spec.path: ./demo/nowhere`",
    ),
    Rule(
        "duplicate-stage",
        "error",
        "two stages of one pipeline have the same name",
        "two Flux Kustomizations of pipeline `demo` both pointing at a `prod` directory",
    ),
    Rule(
        "name-invalid",
        "error",
        "a pipeline or stage name with control characters",
        '`name: "web\\u001b[31m"` in promoter.yaml',
    ),
    Rule(
        "stage-unbuildable",
        "error",
        "the stage cannot be built (a missing file, a patch that matches no object, a cycle)",
        "`patches: [{path: tag.yaml}]` where tag.yaml does not exist",
    ),
    Rule(
        "unsupported",
        "notice",
        "the native reader cannot follow a feature; status and promote render the stage",
        "a remote resource `https://github.com/org/repo//deploy?ref=v1`",
    ),
    Rule(
        "patch-targets-nothing",
        "error",
        "a patch `target` selects no object, so kustomize silently applies nothing",
        "`target: {kind: Deployment, name: other}` with no Deployment `other`",
    ),
    Rule(
        "shared-override",
        "warning",
        "a version override in a file several stages read: promoting one moves the others",
        "an `images:` entry in a component both dev and prod include",
    ),
    Rule(
        "marker-malformed",
        "error",
        "a Flux `$imagepolicy` setter marker that Flux cannot use",
        '`# {"$imagepolicy": "flux-system/app"}` (no namespace)',
    ),
    Rule(
        "marker-suffix-mismatch",
        "error",
        "a setter marker whose suffix makes Flux write the wrong part of the image",
        '`newTag: 1.1.0 # {"$imagepolicy": "flux-system:app"}` (needs `:tag`)',
    ),
    Rule(
        "marker-in-later-stage",
        "warning",
        "a setter marker in a stage after the first: image automation moves it, not a promotion",
        "a `$imagepolicy` marker on the image of stage prod",
    ),
    Rule(
        "version-floating",
        "warning",
        "no version is pinned: an image without a tag or tagged `latest`, a chart without one",
        "`image: example.com/app:latest`",
    ),
    Rule(
        "version-unordered",
        "notice",
        "a version without an order (a commit SHA, a branch name): no newer or older",
        "`image: example.com/app:main-64308f39`",
    ),
    Rule(
        "render-failed",
        "error",
        "with `--render`: kustomize cannot render the stage",
        "a stage whose kustomization.yaml names a resource that does not exist",
    ),
    Rule(
        "render-mismatch",
        "error",
        "with `--render`: kustomize renders other versions than the native reader reads",
        "native reads `app=example.com/app:1.0.0`, kustomize renders `:1.0.1`",
    ),
    Rule(
        "render-unavailable",
        "error",
        "with `--render`: neither kustomize nor kubectl is on PATH",
        "`pipelines check --render` on a runner without kubectl",
    ),
    Rule(
        "gate-invalid",
        "error",
        "a gate in promoter.yaml is malformed",
        "`soak: 24x`; a freeze window with `cron` but no `duration`",
    ),
    Rule(
        "gate-unknown-target",
        "error",
        "a gate names a pipeline or stage that does not exist",
        "gates for stage `prdo` of pipeline `demo`",
    ),
)
"""Every rule, in the order the checks run (the README's table lists them in this order)."""

BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in RULES}

LIBRARY_CODES: Mapping[str, str] = {
    "label": "label-invalid",
    "stage-path": "stage-path-invalid",
}
"""``Problem.code`` values of the library that are not rule ids, and their rule."""

CONTEXT_CODES = frozenset({"manifest", "kustomize", "error"})
"""Generic ``Problem.code`` values: a finding of one takes the rule of the check that met it
(a ``kustomize`` error while building a stage is ``stage-unbuildable``, in promoter.yaml
``config-invalid``)."""


def rule_for(code: str, default: str) -> str:
    """The rule of a library problem with ``code`` met by the check whose rule is
    ``default``."""
    if code in BY_ID:
        return code
    return LIBRARY_CODES.get(code, default)


def default_severity(rule: str) -> Severity:
    """A rule's default severity (``error`` for an id this table does not know)."""
    known = BY_ID.get(rule)
    return known.severity if known is not None else "error"


@dataclass(frozen=True)
class RuleSettings:
    """The severity of every rule after promoter.yaml's ``check.rules``; None is off."""

    overrides: Mapping[str, Severity | None] = field(default_factory=dict)

    def severity(self, rule: str) -> Severity | None:
        """The severity findings of ``rule`` get, None when the rule is off."""
        if rule in self.overrides:
            return self.overrides[rule]
        return default_severity(rule)


def rule_settings(config: Config) -> RuleSettings:
    """The ``check:`` section of a read promoter.yaml; a mistake in it is a
    ``ManifestError`` naming promoter.yaml and the line."""
    section = config.check.section
    if section is None:
        return RuleSettings()
    if not isinstance(section.value, YMap):
        raise ManifestError(
            CONFIG_FILE,
            "check must be a mapping: check: {rules: {RULE: off|notice|warning|error}}",
            section.line,
        )
    check_keys(section.value, frozenset({"rules"}), "check")
    rules = section.value.get("rules")
    if rules is None:
        return RuleSettings()
    if not isinstance(rules, YMap):
        raise ManifestError(
            CONFIG_FILE,
            "check.rules must be a mapping of rule ids to off, notice, warning or error",
            section.value.line_of("rules"),
        )
    overrides: dict[str, Severity | None] = {}
    for key, value in rules.items():
        rule = str(key)
        line = rules.line_of(key)
        if rule not in BY_ID:
            raise ManifestError(
                CONFIG_FILE, f"check.rules: unknown rule {rule!r}{_hint(rule)}", line
            )
        overrides[rule] = _severity(rule, value, rules.raw(key), line)
    return RuleSettings(overrides)


def _severity(rule: str, value: object, text: str | None, line: int | None) -> Severity | None:
    """``off`` (or ``false``, what YAML 1.1 makes of an unquoted ``off``/``no``) or a
    severity, in any letter case."""
    if value is False:
        return None
    word = str(value).strip().lower() if isinstance(value, str) else None
    if word in (OFF, "false", "no"):
        return None
    for severity in SEVERITIES:
        if word == severity:
            return severity
    written = text if text is not None else str(value)
    raise ManifestError(
        CONFIG_FILE,
        f"check.rules.{rule}: {written!r} is not off, notice, warning or error",
        line,
    )


def _hint(rule: str) -> str:
    close = difflib.get_close_matches(rule, list(BY_ID), n=3, cutoff=0.6)
    if close:
        return f"; did you mean {', '.join(close)}?"
    return " (the rules are listed in the README, pipelines check)"
