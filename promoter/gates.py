"""Promotion gates from promoter.yaml: soak times and freeze windows.

.. code-block:: yaml

    pipelines:
      - name: web
        soak: 24h                  # a version must have been in a stage 24h before it moves on
        freeze:                    # no promotion into any stage of web during these windows
          - cron: "0 18 * * 5"     # every Friday 18:00 ...
            duration: 62h          # ... until Monday 08:00
            timezone: Europe/Berlin
        stages:
          - name: prod             # gates of one stage (with a path: also declares the stage)
            soak: 48h
            freeze:
              - from: 2026-12-20T00:00
                to: 2027-01-04T00:00
                timezone: Europe/Berlin
                reason: year-end freeze

``soak`` applies to the stage a version leaves (FROM), ``freeze`` to the stage it enters (TO).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from promoter._yaml import YMap
from promoter.config import CONFIG_FILE, Config, GateConfig, check_keys, item_line, read_config
from promoter.errors import ManifestError
from promoter.tree import FileSource

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def parse_duration(text: str) -> timedelta:
    """``90m``, ``24h``, ``2d``, ``1h30m``, ``1w`` -> a timedelta."""
    found = _DURATION.match(text.strip())
    if not text.strip() or found is None:
        raise ValueError(f"{text!r} is not a duration like 24h, 90m, 2d or 1h30m")
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in found.groups())
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)


_CRON_FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")


def _cron_field(text: str, low: int, high: int, what: str) -> frozenset[int]:
    """One cron field: ``*``, numbers, ranges ``a-b`` and steps ``/n``, comma-separated."""
    values: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        try:
            step = int(step_text) if slash else 1
            if base == "*":
                start, end = low, high
            elif "-" in base:
                first, last = base.split("-", 1)
                start, end = int(first), int(last)
            else:
                start = end = int(base)
                if slash:
                    end = high
        except ValueError as exc:
            raise ValueError(
                f"{what} field {text!r}: {part!r} is not a number, *, a range a-b or a step /n"
            ) from exc
        if step < 1:
            raise ValueError(f"{what} field {text!r}: the step must be at least 1")
        if start > end:
            raise ValueError(f"{what} field {text!r}: {part!r} is a backwards range")
        if start < low or end > high:
            raise ValueError(f"{what} field {text!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    """A five-field cron expression (minute hour day-of-month month day-of-week)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        """Parse ``text``; ``ValueError`` when malformed."""
        parts = text.split()
        if len(parts) != 5:
            raise ValueError(f"{text!r} needs five fields (minute hour day month weekday)")
        minutes, hours, days, months, weekdays = (
            _cron_field(p, *(_CRON_RANGES[i] if i < 4 else (0, 7)), _CRON_FIELDS[i])
            for i, p in enumerate(parts)
        )
        weekdays = frozenset(d % 7 for d in weekdays)  # 7 is Sunday too
        # cron's rule: a day field starting with "*" (also "*/2") does not restrict the day.
        return cls(
            minutes,
            hours,
            days,
            months,
            weekdays,
            any_day=parts[2].startswith("*"),
            any_weekday=parts[4].startswith("*"),
        )

    def matches(self, moment: datetime) -> bool:
        """Whether the minute of ``moment`` is one the expression names."""
        weekday = (moment.weekday() + 1) % 7  # cron: 0 = Sunday
        day_ok = moment.day in self.days
        weekday_ok = weekday in self.weekdays
        if self.any_day or self.any_weekday:
            calendar = day_ok and weekday_ok
        else:
            calendar = day_ok or weekday_ok  # cron's rule when both are restricted
        return (
            calendar
            and moment.minute in self.minutes
            and moment.hour in self.hours
            and moment.month in self.months
        )


@dataclass(frozen=True)
class FreezeWindow:
    """A time when promotions into a stage are refused."""

    zone: str
    start: datetime | None = None
    end: datetime | None = None
    cron: Cron | None = None
    duration: timedelta | None = None
    reason: str | None = None

    def active_until(self, now: datetime) -> datetime | None:
        """The end of the window that contains ``now``, or None when ``now`` is outside."""
        from zoneinfo import ZoneInfo  # only with a freeze window: keeps dry runs lean

        local = now.astimezone(ZoneInfo(self.zone))
        if self.start is not None and self.end is not None:
            return self.end if self.start <= local < self.end else None
        if self.cron is None or self.duration is None:
            return None
        moment = local.replace(second=0, microsecond=0)
        earliest = local - self.duration
        while moment > earliest:
            if self.cron.matches(moment):
                end = moment + self.duration
                return end if local < end else None
            moment -= timedelta(minutes=1)
        return None


@dataclass(frozen=True)
class StageGates:
    """The gates of one stage (pipeline-wide ones merged in)."""

    soak: timedelta | None = None
    freeze: tuple[FreezeWindow, ...] = ()
    healthy: bool | None = None
    """``healthy: true``: FROM must be in-sync in its cluster (``promoter.healthgate``)."""


@dataclass(frozen=True)
class Gates:
    """Every gate of a repository, by pipeline and stage."""

    pipelines: dict[str, StageGates] = field(default_factory=dict)
    stages: dict[tuple[str, str], StageGates] = field(default_factory=dict)

    def for_stage(self, pipeline: str, stage: str) -> StageGates:
        """A stage's gates: its own soak over the pipeline's, freezes of both."""
        wide = self.pipelines.get(pipeline, StageGates())
        own = self.stages.get((pipeline, stage), StageGates())
        soak = own.soak if own.soak is not None else wide.soak  # a stage's 0m lifts it
        healthy = own.healthy if own.healthy is not None else wide.healthy
        return StageGates(soak, wide.freeze + own.freeze, healthy)


@dataclass(frozen=True)
class GateBlock:
    """A gate that stops a promotion, and until when."""

    gate: str
    message: str
    until: datetime | None


def load_gates(source: FileSource) -> Gates:
    """The gates declared in ``promoter.yaml`` (none when the file does not exist)."""
    return gates_of(read_config(source))


def gates_of(config: Config) -> Gates:
    """The gates of a read promoter.yaml; a malformed gate is a ``ManifestError``."""
    pipelines: dict[str, StageGates] = {}
    stages: dict[tuple[str, str], StageGates] = {}
    for pipeline in config.pipelines:
        pipeline.check()
        pipelines[pipeline.name] = _stage_gates(pipeline.gates)
        for stage in pipeline.stages:
            if stage.name is None:
                continue
            stage.check()
            stages[(pipeline.name, stage.name)] = _stage_gates(stage.gates)
    return Gates(pipelines, stages)


_WINDOW_KEYS = frozenset({"cron", "duration", "from", "to", "timezone", "reason"})


def _stage_gates(config: GateConfig) -> StageGates:
    soak = None
    if config.soak is not None:
        try:
            soak = parse_duration(str(config.soak.text))
        except ValueError as exc:
            raise ManifestError(CONFIG_FILE, f"soak: {exc}", config.soak.line) from exc
    windows: list[FreezeWindow] = []
    if config.freeze is not None:
        raw = config.freeze.value
        if not isinstance(raw, list):
            raise ManifestError(CONFIG_FILE, "freeze must be a list of windows", config.freeze.line)
        for index, item in enumerate(raw):
            windows.append(_window(item, item_line(raw, index)))
    healthy = None
    if config.healthy is not None:
        if not isinstance(config.healthy.value, bool):
            raise ManifestError(CONFIG_FILE, "healthy must be true or false", config.healthy.line)
        healthy = config.healthy.value
    return StageGates(soak, tuple(windows), healthy)


def _window(item: object, line: int | None) -> FreezeWindow:
    """One freeze window; a mistake is reported at the line of the key that holds it."""
    if not isinstance(item, YMap):
        raise ManifestError(CONFIG_FILE, "a freeze window must be a mapping", line)
    check_keys(item, _WINDOW_KEYS, "freeze window")

    def fail(message: str, key: str | None = None) -> ManifestError:
        at = (item.line_of(key) if key else None) or line
        return ManifestError(CONFIG_FILE, f"freeze window: {message}", at)

    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    zone = str(item.get("timezone") or "UTC")
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise fail(f"unknown time zone {zone!r}", "timezone") from exc
    reason = str(item["reason"]) if item.get("reason") is not None else None
    if item.get("cron") is not None:
        if item.get("from") is not None or item.get("to") is not None:
            raise fail("give either cron + duration or from + to, not both")
        if item.get("duration") is None:
            raise fail("a cron window needs a duration", "cron")
        try:
            cron = Cron.parse(str(item["cron"]))
        except ValueError as exc:
            raise fail(f"cron: {exc}", "cron") from exc
        try:
            duration = parse_duration(str(item.raw("duration")))
        except ValueError as exc:
            raise fail(f"duration: {exc}", "duration") from exc
        if not duration:
            raise fail("the duration of a cron window must be longer than 0", "duration")
        return FreezeWindow(zone, cron=cron, duration=duration, reason=reason)
    if item.get("from") is None or item.get("to") is None:
        raise fail("a freeze window needs cron + duration, or from + to")
    moments = []
    for key in ("from", "to"):
        try:
            moments.append(_moment(key, str(item.raw(key)), tz))
        except ValueError as exc:
            raise fail(str(exc), key) from exc
    start, end = moments
    if end <= start:
        raise fail(f"'to' ({end.isoformat()}) must come after 'from' ({start.isoformat()})", "to")
    return FreezeWindow(zone, start=start, end=end, reason=reason)


def _moment(key: str, text: str, tz: ZoneInfo) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace(" ", "T"))
    except ValueError as exc:
        raise ValueError(f"{key!r} {text!r} is not a date like 2026-12-20T00:00") from exc
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def check_gates(
    gates: Gates,
    pipeline: str,
    source: str,
    target: str,
    arrivals: dict[str, datetime | None],
    now: datetime | None = None,
) -> list[GateBlock]:
    """What stops promoting into ``target`` now: freezes of ``target``, and for each app
    the soak of ``source`` counted from ``arrivals[app]`` (when its version got there).
    ``now`` without a time zone is UTC."""
    moment = now or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    blocks: list[GateBlock] = []
    for window in gates.for_stage(pipeline, target).freeze:
        until = window.active_until(moment)
        if until is not None:
            why = f" ({window.reason})" if window.reason else ""
            blocks.append(
                GateBlock(
                    "freeze",
                    f"stage {target} of pipeline {pipeline} is frozen{why} until "
                    f"{until.isoformat(timespec='minutes')}",
                    until,
                )
            )
    soak = gates.for_stage(pipeline, source).soak
    if soak:
        for app, arrived in arrivals.items():
            if arrived is None:
                blocks.append(
                    GateBlock(
                        "soak",
                        f"{app}: cannot tell since when it runs in {source} "
                        "(no git history); the soak gate needs it",
                        None,
                    )
                )
                continue
            ready = arrived + soak
            if ready > moment:
                blocks.append(
                    GateBlock(
                        "soak",
                        f"{app} has soaked in {source} for {_human(moment - arrived)} of "
                        f"{_human(soak)}; it may move on at {ready.isoformat(timespec='minutes')}",
                        ready,
                    )
                )
    return blocks


def _human(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return "".join(parts) or "0m"
