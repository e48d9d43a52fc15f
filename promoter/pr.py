"""Pull request and commit texts for a promotion."""

from __future__ import annotations

import hashlib
import re

from promoter.names import clean_line, one_line
from promoter.promotion import PlanKind, PromotionPlan

DEFAULT_LABELS: dict[PlanKind, tuple[str, ...]] = {
    "promote": ("promotion",),
    "rollback": ("rollback",),
}
"""The pull request labels of a change when none are given, by the plan's kind."""

BODY_LIMIT = 65_536
"""GitHub refuses pull request bodies longer than this many characters."""
BRANCH_LIMIT = 120


def branch_name(plan: PromotionPlan) -> str:
    """``promote/<pipeline>/<to>/<app>-<version>`` (several apps joined by ``+``),
    sanitised for git and capped in length (a hash keeps capped names unique)."""
    apps = "+".join(f"{m.name}-{m.new_version}" for m in plan.moves)
    raw = f"{plan.kind}/{plan.pipeline}/{plan.target.name}/{apps}"
    clean = re.sub(r"[^A-Za-z0-9._/+-]+", "-", raw)
    clean = re.sub(r"\.{2,}", ".", clean)
    clean = "/".join(_component(part) for part in clean.split("/") if part)
    if len(clean) > BRANCH_LIMIT:
        digest = hashlib.sha1(raw.encode()).hexdigest()[:10]
        clean = clean[: BRANCH_LIMIT - 11].rstrip("./-") + "-" + digest
    return clean


def labels(plan: PromotionPlan, chosen: tuple[str, ...] | None) -> tuple[str, ...]:
    """The labels given, or the default ones of the plan's kind."""
    return chosen if chosen is not None else DEFAULT_LABELS[plan.kind]


def _component(part: str) -> str:
    """One ``/``-separated piece of a ref name: no leading or trailing dot, not ``.lock``."""
    part = part.strip(".-")
    if part.endswith(".lock"):
        part = part[: -len(".lock")] + "-lock"
    return part or "x"


def commit_message(plan: PromotionPlan) -> str:
    """The title, one line per app, and the ``Promoted-*`` trailers."""
    lines = [plan.title, ""]
    for move in plan.moves:
        lines.append(f"{move.key}: {move.old_version or 'none'} -> {move.new_version}")
    lines += [
        "",
        f"Promoted-Pipeline: {plan.pipeline}",
        f"Promoted-From: {plan.source.name}",
        f"Promoted-To: {plan.target.name}",
    ]
    if plan.origin_commit:
        lines.append(f"Rollback-Of-Commit: {plan.origin_commit}")
    for move in plan.moves:
        lines.append(f"Promoted-App: {move.key}")
        lines.append(f"Promoted-Version: {move.new_version}")
    # No name can add a line (a forged trailer) or a control character (issue 11).
    return "\n".join(clean_line(line) for line in lines) + "\n"


def pull_request_title(plan: PromotionPlan) -> str:
    """The plan's title on one line, without control characters."""
    return one_line(plan.title)


def pull_request_body(plan: PromotionPlan, base: str, base_commit: str) -> str:
    """What moves where, the exact edits, and the rendered diff (collapsed, size-capped)."""
    if plan.kind == "rollback":
        origin = f" from commit `{plan.origin_commit}`" if plan.origin_commit else ""
        intro = (
            f"Rolls back stage `{plan.target.name}` of pipeline **{plan.pipeline}** to the "
            f"version it ran before{origin}."
        )
    else:
        intro = (
            f"Promotes pipeline **{plan.pipeline}** from `{plan.source.name}` to "
            f"`{plan.target.name}`."
        )
    lines = [
        intro,
        "",
        "| App | From | To | Version |",
        "| --- | --- | --- | --- |",
    ]
    for move in plan.moves:
        lines.append(
            f"| `{move.key}` | {plan.source.name} | {plan.target.name} | "
            f"`{move.old_version or 'none'}` → `{move.new_version}` |"
        )
    lines += ["", f"Source: `{base}` at `{base_commit}`, stage `{plan.source.path}`.", ""]
    lines.append("Edits:")
    for change in plan.changes:
        what = change.container or "chart version"
        where = f"{change.file}:{change.line}" if change.line else change.file
        lines.append(
            f"- `{where}` ({change.how}): {change.app} {what} `{change.old}` → `{change.new}`"
        )
    if plan.notes:
        lines += ["", *(f"> **Note:** {note}" for note in plan.notes)]
    if plan.changelog is not None:
        lines += ["", *plan.changelog.lines()]
    lines += [
        "",
        f"<!-- kustomize-promoter: {plan.pipeline} {plan.source.name} -> {plan.target.name} -->",
    ]
    body = "\n".join(clean_line(line) for line in lines) + "\n"
    if len(body) > BODY_LIMIT:
        note = "\n... (cut to fit GitHub's size limit)\n"
        return body[: BODY_LIMIT - len(note)].rsplit("\n", 1)[0] + note
    if plan.rendered_diff:
        body += _details(plan.rendered_diff, plan.target.name, BODY_LIMIT - len(body))
    return body


def _details(diff: str, stage: str, room: int) -> str:
    # A fence longer than any run of backticks in the diff, so the diff cannot close it.
    fence = "`" * max([3, *(len(run) + 1 for run in re.findall(r"`+", diff))])
    head = f"\n<details><summary>Rendered diff of {stage} (kustomize)</summary>\n\n{fence}diff\n"
    tail = f"{fence}\n</details>\n"
    cut_note = "... (diff cut to fit GitHub's size limit)\n"
    space = room - len(head) - len(tail) - len(cut_note) - 1
    if space <= 0:
        return ""
    if len(diff) > space:
        diff = diff[:space].rsplit("\n", 1)[0] + "\n" + cut_note
    elif not diff.endswith("\n"):
        diff += "\n"
    return head + diff + tail


def custom_title(plan: PromotionPlan, title: str | None) -> str:
    """``title`` (``--title``) on one line when given and not blank, else the plan's."""
    chosen = one_line(title or "")
    return chosen or pull_request_title(plan)


def body_with_extra(body: str, extra: str | None) -> str:
    """``body`` followed by the user's text (``--body-file``), control characters replaced
    and the whole capped at GitHub's size limit (the end of the user's text is cut)."""
    if extra is None or not extra.strip():
        return body
    text = "\n".join(clean_line(line) for line in extra.strip("\n").splitlines()) + "\n"
    combined = f"{body}\n{text}"
    if len(combined) <= BODY_LIMIT:
        return combined
    note = "\n... (cut to fit GitHub's size limit)\n"
    return combined[: BODY_LIMIT - len(note)] + note
