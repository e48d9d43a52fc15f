"""Tests of promotion gates (promoter.gates): durations, cron, freeze windows across time
zones and DST, promoter.yaml loading and its mistakes, check_gates, and the gates as
``promote``/``rollback`` enforce them on real git histories (library and CLI)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from promoter.errors import GateClosed, ManifestError
from promoter.gates import (
    Cron,
    FreezeWindow,
    GateBlock,
    Gates,
    StageGates,
    check_gates,
    load_gates,
    parse_duration,
)
from promoter.publish import PromotionRequest, PublishOptions, promote
from promoter.tree import DiskSource
from tests.builders.git import GitOps, leftovers
from tests.builders.history import (
    HAND,
    commit,
    merge_pull_request,
    publish,
    replaced,
    seed,
)
from tests.fakes.github import FakeGitHub

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
TOKEN = "ghp_gatesSECRET0123456789"
STAGING_NGINX = "pipelines/web/staging/nginx-tag.yaml"
PROD_NGINX = "pipelines/web/prod/nginx-tag.yaml"
NGINX_TO_PROD = PromotionRequest(["nginx"], "staging", "prod", pipeline="web")

README_GATES = """\
pipelines:
  - name: web
    soak: 24h
    freeze:
      - cron: "0 18 * * 5"
        duration: 62h
        timezone: Europe/Berlin
    stages:
      - name: prod
        freeze:
          - from: "2026-12-20T00:00"
            to: "2027-01-04T00:00"
            timezone: Europe/Berlin
            reason: year-end
"""

WEEKEND = FreezeWindow("Europe/Berlin", cron=Cron.parse("0 18 * * 5"), duration=timedelta(hours=62))
YEAR_END = FreezeWindow(
    "Europe/Berlin",
    start=datetime(2026, 12, 20, tzinfo=BERLIN),
    end=datetime(2027, 1, 4, tzinfo=BERLIN),
    reason="year-end",
)

# HOME, TMPDIR and the git identity inside tmp_path (the ``temp`` fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("temp")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC moment."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# -- durations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("24h", timedelta(hours=24)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1w", timedelta(weeks=1)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        (" 45s ", timedelta(seconds=45)),
        ("0m", timedelta(0)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    """Weeks, days, hours, minutes and seconds, in that order, combine into one timedelta."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "  ", "24", "h", "24 hours", "-1h", "1.5h", "1m1h", "1H"])
def test_bad_durations(text: str) -> None:
    """Anything but unit-suffixed integers in w-d-h-m-s order is refused with the same hint."""
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert str(caught.value) == f"{text!r} is not a duration like 24h, 90m, 2d or 1h30m"


# -- cron ---------------------------------------------------------------------------------

EVERY_DAY = frozenset(range(1, 32))
EVERY_MONTH = frozenset(range(1, 13))
EVERY_WEEKDAY = frozenset(range(7))


@pytest.mark.parametrize(
    ("text", "minutes", "hours", "days", "months", "weekdays"),
    [
        (
            "*/15 9-17 * * 1-5",
            {0, 15, 30, 45},
            set(range(9, 18)),
            EVERY_DAY,
            EVERY_MONTH,
            {1, 2, 3, 4, 5},
        ),
        (
            "0,30 8,12-14 1,15 */3 *",
            {0, 30},
            {8, 12, 13, 14},
            {1, 15},
            {1, 4, 7, 10},
            EVERY_WEEKDAY,
        ),
        ("5/20 * * * 7", {5, 25, 45}, set(range(24)), EVERY_DAY, EVERY_MONTH, {0}),
        ("0 0 * * 5-7", {0}, {0}, EVERY_DAY, EVERY_MONTH, {5, 6, 0}),
        ("1-10/3 0 * 2 0,7", {1, 4, 7, 10}, {0}, EVERY_DAY, {2}, {0}),
    ],
    ids=["steps-ranges", "lists", "start-step-and-7", "range-to-7", "range-step"],
)
def test_cron_fields(
    text: str,
    minutes: set[int],
    hours: set[int],
    days: set[int],
    months: set[int],
    weekdays: set[int],
) -> None:
    """Ranges, steps (also from a start value), lists and 7 as Sunday give the right sets."""
    cron = Cron.parse(text)
    expected = tuple(frozenset(f) for f in (minutes, hours, days, months, weekdays))
    assert (cron.minutes, cron.hours, cron.days, cron.months, cron.weekdays) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 18 * *", "'0 18 * *' needs five fields (minute hour day month weekday)"),
        ("60 * * * *", "minute field '60' is outside 0-59"),
        ("* 24 * * *", "hour field '24' is outside 0-23"),
        ("* * 0 * *", "day-of-month field '0' is outside 1-31"),
        ("* * * 13 *", "month field '13' is outside 1-12"),
        ("* * * * 8", "day-of-week field '8' is outside 0-7"),
        ("*/0 * * * *", "minute field '*/0': the step must be at least 1"),
        ("0 17-9 * * *", "hour field '17-9': '17-9' is a backwards range"),
        (
            "0 18 * * FRI",
            "day-of-week field 'FRI': 'FRI' is not a number, *, a range a-b or a step /n",
        ),
        ("0,,5 * * * *", "minute field '0,,5': '' is not a number, *, a range a-b or a step /n"),
    ],
)
def test_bad_cron(text: str, message: str) -> None:
    """A malformed expression names the field and what is wrong with it."""
    with pytest.raises(ValueError) as caught:
        Cron.parse(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "moment", "expected"),
    [
        ("0 0 13 * 5", datetime(2026, 11, 6), True),  # a Friday, not the 13th
        ("0 0 13 * 5", datetime(2026, 10, 13), True),  # the 13th, a Tuesday
        ("0 0 13 * 5", datetime(2026, 11, 13), True),  # Friday the 13th
        ("0 0 13 * 5", datetime(2026, 11, 7), False),  # neither
        ("0 0 */2 * 5", datetime(2026, 11, 13), True),  # odd day and a Friday
        ("0 0 */2 * 5", datetime(2026, 11, 6), False),  # a Friday, but an even day
        ("0 0 */2 * 5", datetime(2026, 11, 1), False),  # odd day, but a Sunday
        ("0 0 * * 7", datetime(2026, 11, 8), True),  # 7 is Sunday
        ("0 0 * * 7", datetime(2026, 11, 9, 0, 0), False),
        ("30 2 * * *", datetime(2026, 11, 9, 2, 31), False),  # the minute must match
    ],
)
def test_cron_day_rule(text: str, moment: datetime, expected: bool) -> None:
    """Both day fields restricted: either may match; one starting with * (even */2): both."""
    assert Cron.parse(text).matches(moment) is expected


# -- freeze windows -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "until"),
    [
        # Spring forward (Sunday 29 March 2026, 02:00 CET -> 03:00 CEST).
        (utc(2026, 3, 27, 16, 59), None),  # Friday 17:59 CET
        (utc(2026, 3, 27, 17, 0), "2026-03-30T08:00:00+02:00"),  # Friday 18:00 CET
        (utc(2026, 3, 29, 1, 30), "2026-03-30T08:00:00+02:00"),  # Sunday 03:30 CEST
        (utc(2026, 3, 30, 5, 59), "2026-03-30T08:00:00+02:00"),  # Monday 07:59 CEST
        (utc(2026, 3, 30, 6, 0), None),  # Monday 08:00 CEST
        # Fall back (Sunday 25 October 2026, 03:00 CEST -> 02:00 CET).
        (utc(2026, 10, 23, 15, 59), None),  # Friday 17:59 CEST
        (utc(2026, 10, 23, 16, 0), "2026-10-26T08:00:00+01:00"),  # Friday 18:00 CEST
        (utc(2026, 10, 25, 0, 30), "2026-10-26T08:00:00+01:00"),  # Sunday 02:30 CEST
        (utc(2026, 10, 25, 1, 30), "2026-10-26T08:00:00+01:00"),  # Sunday 02:30 CET
        (utc(2026, 10, 26, 6, 59), "2026-10-26T08:00:00+01:00"),  # Monday 07:59 CET
        (utc(2026, 10, 26, 7, 0), None),  # Monday 08:00 CET
        # An ordinary weekday.
        (utc(2026, 11, 11, 12, 0), None),
    ],
)
def test_weekend_freeze_across_dst(now: datetime, until: str | None) -> None:
    """A Berlin "Friday 18:00 for 62h" freeze runs to Monday 08:00 local time on both DST
    weekends (62h on the wall clock, as the README's "to Monday 08:00" says)."""
    found = WEEKEND.active_until(now)
    assert (found.isoformat() if found else None) == until


@pytest.mark.parametrize(
    ("now", "until"),
    [
        (utc(2026, 12, 19, 22, 59), None),  # 23:59 in Berlin
        (utc(2026, 12, 19, 23, 0), "2027-01-04T00:00:00+01:00"),  # midnight in Berlin
        (utc(2027, 1, 3, 22, 59), "2027-01-04T00:00:00+01:00"),
        (utc(2027, 1, 3, 23, 0), None),
    ],
)
def test_date_range_with_timezone(now: datetime, until: str | None) -> None:
    """A from/to window is read in its time zone and includes its start, not its end."""
    found = YEAR_END.active_until(now)
    assert (found.isoformat() if found else None) == until


def test_cron_window_in_utc_by_default(tmp_path: Path) -> None:
    """A window without a timezone is in UTC."""
    write_config(
        tmp_path,
        "pipelines:\n  - name: web\n    freeze:\n      - {cron: '0 9 * * *', duration: 1h}\n",
    )
    (window,) = load_gates(DiskSource(tmp_path)).for_stage("web", "prod").freeze
    assert window.zone == "UTC"
    assert window.active_until(utc(2026, 11, 11, 9, 59)) == utc(2026, 11, 11, 10, 0)
    assert window.active_until(utc(2026, 11, 11, 10, 0)) is None


# -- loading promoter.yaml ----------------------------------------------------------------


def write_config(root: Path, text: str) -> None:
    """Write ``root/promoter.yaml``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "promoter.yaml").write_text(text, encoding="utf-8")


def test_load_readme_gates(tmp_path: Path) -> None:
    """The README's example loads into the pipeline's soak and weekend freeze and prod's
    year-end freeze; a stage gets the pipeline's gates plus its own."""
    write_config(tmp_path, README_GATES)
    gates = load_gates(DiskSource(tmp_path))
    assert gates == Gates(
        {"web": StageGates(timedelta(hours=24), (WEEKEND,))},
        {("web", "prod"): StageGates(None, (YEAR_END,))},
    )
    assert gates.for_stage("web", "prod") == StageGates(timedelta(hours=24), (WEEKEND, YEAR_END))
    assert gates.for_stage("web", "staging") == StageGates(timedelta(hours=24), (WEEKEND,))
    assert gates.for_stage("platform", "prod") == StageGates()


def test_stage_soak_overrides_pipeline_soak(tmp_path: Path) -> None:
    """A stage's own soak wins over its pipeline's, and ``0m`` lifts it for that stage."""
    write_config(
        tmp_path,
        "pipelines:\n  - name: web\n    soak: 24h\n    stages:\n"
        "      - {name: dev, soak: 0m}\n      - {name: staging, soak: 48h}\n",
    )
    gates = load_gates(DiskSource(tmp_path))
    assert gates.for_stage("web", "dev").soak == timedelta(0)
    assert gates.for_stage("web", "staging").soak == timedelta(hours=48)
    assert gates.for_stage("web", "prod").soak == timedelta(hours=24)
    assert check_gates(gates, "web", "dev", "staging", {"Deployment/nginx": None}) == []


def test_declared_stage_without_name_gets_gates_by_path(tmp_path: Path) -> None:
    """A stage declared in promoter.yaml by path alone has its gates under its directory name."""
    write_config(
        tmp_path,
        "pipelines:\n  - name: web\n    stages:\n"
        "      - {path: pipelines/web/dev}\n      - {path: ./pipelines/web/prod/, soak: 2h}\n",
    )
    gates = load_gates(DiskSource(tmp_path))
    assert gates.stages == {
        ("web", "dev"): StageGates(),
        ("web", "prod"): StageGates(timedelta(hours=2)),
    }


def test_no_config_no_gates(tmp_path: Path) -> None:
    """Without promoter.yaml (or with an empty one) there are no gates."""
    assert load_gates(DiskSource(tmp_path)) == Gates()
    write_config(tmp_path, "")
    assert load_gates(DiskSource(tmp_path)) == Gates()


WEB_FREEZE = "pipelines:\n  - name: web\n    freeze:\n"

CORRUPT = [
    (
        "pipelines:\n  - name: web\n    soak: 24 hours\n",
        "promoter.yaml:3: soak: '24 hours' is not a duration like 24h, 90m, 2d or 1h30m",
    ),
    (
        WEB_FREEZE + "      - cron: '0 18 * * 5'\n        duration: 2 days\n",
        "promoter.yaml:5: freeze window: duration: '2 days' is not a duration like 24h, 90m, "
        "2d or 1h30m",
    ),
    (
        WEB_FREEZE + "      - duration: 62h\n        cron: '0 18 * * FRI'\n",
        "promoter.yaml:5: freeze window: cron: day-of-week field 'FRI': 'FRI' is not a number, "
        "*, a range a-b or a step /n",
    ),
    (
        "pipelines:\n  - name: web\n    freeze:\n      - cron: '0 18 * 5'\n        duration: 62h\n",
        "promoter.yaml:4: freeze window: cron: '0 18 * 5' needs five fields (minute hour day "
        "month weekday)",
    ),
    (
        WEB_FREEZE
        + "      - cron: '0 18 * * 5'\n        duration: 62h\n        timezone: Europe/Berlni\n",
        "promoter.yaml:6: freeze window: unknown time zone 'Europe/Berlni'",
    ),
    (
        "pipelines:\n  - name: web\n    stages:\n      - name: prod\n        freeze:\n"
        "          - from: 2027-01-04T00:00\n            to: 2026-12-20T00:00\n"
        "            timezone: Europe/Berlin\n",
        "promoter.yaml:7: freeze window: 'to' (2026-12-20T00:00:00+01:00) must come after "
        "'from' (2027-01-04T00:00:00+01:00)",
    ),
    (
        "pipelines:\n  - name: web\n    freeze:\n      - {from: '2026-13-01', to: '2027-01-01'}\n",
        "promoter.yaml:4: freeze window: 'from' '2026-13-01' is not a date like 2026-12-20T00:00",
    ),
    (
        "pipelines:\n  - name: web\n    freeze:\n      - cron: '0 18 * * 5'\n",
        "promoter.yaml:4: freeze window: a cron window needs a duration",
    ),
    (
        "pipelines:\n  - name: web\n    freeze:\n      - {cron: '0 18 * * 5', duration: 0h}\n",
        "promoter.yaml:4: freeze window: the duration of a cron window must be longer than 0",
    ),
    (
        "pipelines:\n  - name: web\n    freeze:\n      - {cron: '0 18 * * 5', duration: 1h, "
        "from: '2026-12-20', to: '2027-01-01'}\n",
        "promoter.yaml:4: freeze window: give either cron + duration or from + to, not both",
    ),
    (
        "pipelines:\n  - name: web\n    freeze:\n      - {reason: holidays}\n",
        "promoter.yaml:4: freeze window: a freeze window needs cron + duration, or from + to",
    ),
    (
        WEB_FREEZE
        + "      - cron: '0 18 * * 5'\n        duration: 62h\n        tz: Europe/Berlin\n",
        "promoter.yaml:6: freeze window: unknown key 'tz' (known: cron, duration, from, reason, "
        "timezone, to)",
    ),
    (
        "pipelines:\n  - name: web\n    freeze:\n      cron: '0 18 * * 5'\n",
        "promoter.yaml:4: freeze must be a list of windows",
    ),
    (
        "pipelines:\n  - name: web\n    freeze:\n      - weekends\n",
        "promoter.yaml:4: a freeze window must be a mapping",
    ),
    (
        "pipelines:\n  - name: web\n    soak: 1h\n    frezee: []\n",
        "promoter.yaml:4: pipeline 'web': unknown key 'frezee' (known: apps, context, flux, "
        "freeze, healthy, name, pin, soak, stages, tags)",
    ),
    (
        "pipelines:\n  - name: web\n    stages:\n      - name: prod\n        soak: 1h\n"
        "        frezee: []\n",
        "promoter.yaml:6: stage 'prod' of pipeline 'web': unknown key 'frezee' (known: context, "
        "flux, freeze, healthy, name, order, path, pin, soak)",
    ),
]


CORRUPT_IDS = [
    "soak-duration",
    "window-duration",
    "cron-name",
    "cron-fields",
    "timezone",
    "to-before-from",
    "bad-date",
    "cron-without-duration",
    "zero-duration",
    "cron-and-range",
    "no-kind",
    "window-key",
    "freeze-not-list",
    "window-not-mapping",
    "pipeline-key",
    "stage-key",
]


@pytest.mark.parametrize(("text", "message"), CORRUPT, ids=CORRUPT_IDS)
def test_corrupt_gates(tmp_path: Path, text: str, message: str) -> None:
    """Every mistake in a gate is one ManifestError naming the line of the key at fault."""
    write_config(tmp_path, text)
    with pytest.raises(ManifestError) as caught:
        load_gates(DiskSource(tmp_path))
    assert str(caught.value) == message


# -- check_gates --------------------------------------------------------------------------

README = Gates(
    {"web": StageGates(timedelta(hours=24), (WEEKEND,))},
    {("web", "prod"): StageGates(None, (YEAR_END,))},
)
NGINX = "Deployment/nginx"


def test_soak_not_yet_over() -> None:
    """A version that arrived 2h30m ago in a 24h-soak stage may move on 21h30m later."""
    now = utc(2026, 11, 11, 12, 0)
    blocks = check_gates(
        README, "web", "staging", "prod", {NGINX: now - timedelta(hours=2, minutes=30)}, now
    )
    assert blocks == [
        GateBlock(
            "soak",
            "Deployment/nginx has soaked in staging for 2h30m of 1d; it may move on at "
            "2026-11-12T09:30+00:00",
            utc(2026, 11, 12, 9, 30),
        )
    ]


def test_naive_now_is_utc() -> None:
    """A ``now`` without a time zone is taken as UTC."""
    arrived = utc(2026, 11, 11, 11, 0)
    assert check_gates(
        README, "web", "staging", "prod", {NGINX: arrived}, datetime(2026, 11, 11, 12, 0)
    ) == [
        GateBlock(
            "soak",
            "Deployment/nginx has soaked in staging for 1h of 1d; it may move on at "
            "2026-11-12T11:00+00:00",
            utc(2026, 11, 12, 11, 0),
        )
    ]


def test_soak_over_exactly_at_its_end() -> None:
    """At exactly arrival + soak the version may move; nothing else stops it on a Wednesday."""
    now = utc(2026, 11, 11, 12, 0)
    assert (
        check_gates(README, "web", "staging", "prod", {NGINX: now - timedelta(hours=24)}, now) == []
    )


def test_soak_without_arrival() -> None:
    """When history cannot tell since when a version runs, the soak gate stops it."""
    blocks = check_gates(README, "web", "staging", "prod", {NGINX: None}, utc(2026, 11, 11))
    assert blocks == [
        GateBlock(
            "soak",
            "Deployment/nginx: cannot tell since when it runs in staging (no git history); "
            "the soak gate needs it",
            None,
        )
    ]


def test_pipeline_freeze_applies_to_every_stage() -> None:
    """On a Saturday the pipeline-wide weekend freeze closes staging and prod alike."""
    now = utc(2026, 11, 14, 10, 0)
    for target in ("staging", "prod"):
        assert check_gates(README, "web", "dev", target, {}, now) == [
            GateBlock(
                "freeze",
                f"stage {target} of pipeline web is frozen until 2026-11-16T08:00+01:00",
                datetime(2026, 11, 16, 8, 0, tzinfo=BERLIN),
            )
        ]


def test_every_gate_is_reported() -> None:
    """On Saturday 26 December both freezes of prod and the soak of staging stop a move."""
    now = utc(2026, 12, 26, 10, 0)
    blocks = check_gates(README, "web", "staging", "prod", {NGINX: now - timedelta(hours=1)}, now)
    assert blocks == [
        GateBlock(
            "freeze",
            "stage prod of pipeline web is frozen until 2026-12-28T08:00+01:00",
            datetime(2026, 12, 28, 8, 0, tzinfo=BERLIN),
        ),
        GateBlock(
            "freeze",
            "stage prod of pipeline web is frozen (year-end) until 2027-01-04T00:00+01:00",
            datetime(2027, 1, 4, tzinfo=BERLIN),
        ),
        GateBlock(
            "soak",
            "Deployment/nginx has soaked in staging for 1h of 1d; it may move on at "
            "2026-12-27T09:00+00:00",
            utc(2026, 12, 27, 9, 0),
        ),
    ]


def test_stage_freeze_does_not_close_other_stages() -> None:
    """The year-end freeze of prod leaves staging open (on a weekday)."""
    now = utc(2026, 12, 23, 10, 0)
    assert check_gates(README, "web", "dev", "staging", {NGINX: now - timedelta(days=2)}, now) == []


# -- gates in promote and rollback, on real git histories ---------------------------------


def iso(moment: datetime) -> str:
    """A date git takes (seconds, with offset)."""
    return moment.replace(microsecond=0).isoformat()


def freeze_around_now(reason: str = "incident") -> tuple[str, str]:
    """A prod freeze from yesterday to tomorrow (Berlin time), and its end as reported."""
    now = datetime.now(BERLIN).replace(second=0, microsecond=0)
    start, end = now - timedelta(days=1), now + timedelta(days=1)
    config = (
        "pipelines:\n  - name: web\n    stages:\n      - name: prod\n        freeze:\n"
        f"          - from: '{start.strftime('%Y-%m-%dT%H:%M')}'\n"
        f"            to: '{end.strftime('%Y-%m-%dT%H:%M')}'\n"
        "            timezone: Europe/Berlin\n"
        f"            reason: {reason}\n"
    )
    return config, end.isoformat(timespec="minutes")


def gated(root: Path, config: str, *, arrival: datetime) -> GitOps:
    """The example repo seeded ten days ago, ``config`` as promoter.yaml nine days ago, and
    nginx 1.22.1 put into web/staging by hand at ``arrival``."""
    now = datetime.now(UTC)
    ops = seed(root, when=iso(now - timedelta(days=10)))
    commit(ops, {"promoter.yaml": config}, "gates", iso(now - timedelta(days=9)), HAND)
    bump = replaced(ops, STAGING_NGINX, "nginx:1.22.0", "nginx:1.22.1")
    commit(ops, bump, "nginx 1.22.1 in staging", iso(arrival), HAND)
    return ops


SOAK_24H = "pipelines:\n  - name: web\n    stages:\n      - name: staging\n        soak: 24h\n"


def pull_env(gh: FakeGitHub) -> dict[str, str]:
    """The process environment plus what points promote at the fake."""
    return {
        **os.environ,
        "GITHUB_API_URL": gh.url,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": "acme/gitops",
        "PROMOTER_GITHUB_BACKOFF": "0",
    }


def test_promote_refused_by_freeze(tmp_path: Path, temp: Path) -> None:
    """A freeze of prod stops promote before anything is committed, saying until when."""
    config, until = freeze_around_now()
    ops = gated(tmp_path, config, arrival=datetime.now(UTC) - timedelta(days=3))
    with FakeGitHub(ops.remote, token=TOKEN) as gh:
        with pytest.raises(GateClosed) as caught:
            promote(ops.work, NGINX_TO_PROD, env=pull_env(gh))
        assert gh.pulls == {}
    assert str(caught.value) == (
        f"stage prod of pipeline web is frozen (incident) until {until} (--ignore-gates overrides)"
    )
    assert ops.remote_branches() == ["main"]
    assert ops.local_branches() == ["main"]
    assert leftovers(temp) == []


def test_ignore_gates_says_so_in_the_pull_request(tmp_path: Path) -> None:
    """With ignore_gates the promotion goes ahead and its pull request names the gate."""
    config, until = freeze_around_now()
    ops = gated(tmp_path, config, arrival=datetime.now(UTC) - timedelta(days=3))
    with FakeGitHub(ops.remote, token=TOKEN) as gh:
        result = promote(
            ops.work, NGINX_TO_PROD, PublishOptions(ignore_gates=True), env=pull_env(gh)
        )
        (pull,) = gh.pulls.values()
    note = (
        f"Gate overridden with --ignore-gates: stage prod of pipeline web is frozen "
        f"(incident) until {until}"
    )
    assert result.plan.notes == (note,)
    assert f"> **Note:** {note}" in (pull.body or "").splitlines()
    assert ops.remote_file("promote/web/prod/nginx-1.22.1", PROD_NGINX).splitlines()[-1] == (
        "          image: nginx:1.22.1"
    )


def test_soak_counts_from_the_commit_that_put_the_version_there(tmp_path: Path) -> None:
    """2h30m after nginx 1.22.1 reached staging a 24h soak stops it (later staging commits
    do not restart the clock); with 2h it may go."""
    now = datetime.now(UTC).replace(microsecond=0)
    arrival = now - timedelta(hours=2, minutes=30)
    ops = gated(tmp_path, SOAK_24H, arrival=arrival)
    shop = replaced(
        ops, "pipelines/web/staging/kustomization.yaml", "newTag: 1.4.0", "newTag: 1.4.1", 2
    )
    commit(ops, shop, "shop 1.4.1 in staging", iso(now - timedelta(minutes=5)), HAND)
    with pytest.raises(GateClosed) as caught:
        promote(ops.work, NGINX_TO_PROD, PublishOptions(push=False))
    ready = (arrival + timedelta(hours=24)).isoformat(timespec="minutes")
    assert str(caught.value) == (
        f"Deployment/nginx has soaked in staging for 2h30m of 1d; it may move on at {ready} "
        "(--ignore-gates overrides)"
    )
    config = SOAK_24H.replace("24h", "2h")
    commit(ops, {"promoter.yaml": config}, "shorter soak", iso(now - timedelta(minutes=1)), HAND)
    result = promote(ops.work, NGINX_TO_PROD, PublishOptions(push=False))
    assert (result.branch, result.plan.notes) == ("promote/web/prod/nginx-1.22.1", ())


def test_soak_counts_from_the_merge_not_the_branch_commit(tmp_path: Path) -> None:
    """A promotion committed 30h ago but merged 2h ago has soaked 2h in staging."""
    now = datetime.now(UTC).replace(microsecond=0)
    ops = gated(tmp_path, SOAK_24H, arrival=now - timedelta(days=5))
    to_staging = PromotionRequest(["nginx"], "dev", "staging", pipeline="web")
    pushed = publish(ops.work, to_staging, iso(now - timedelta(hours=30)))
    merged_at = now - timedelta(hours=2)
    merge_pull_request(ops, pushed, 21, iso(merged_at))
    with pytest.raises(GateClosed) as caught:
        promote(ops.work, NGINX_TO_PROD, PublishOptions(push=False))
    ready = (merged_at + timedelta(hours=24)).isoformat(timespec="minutes")
    assert str(caught.value) == (
        f"Deployment/nginx has soaked in staging for 2h of 1d; it may move on at {ready} "
        "(--ignore-gates overrides)"
    )


def invoke(ops: GitOps, *args: str) -> Result:
    """``pipelines ARGS --repo <the user's clone>``."""
    return CliRunner().invoke(app, [*args, "--repo", str(ops.work)])


def assert_one_error_line(result: Result, message: str) -> None:
    """Exit 1, nothing on stdout, exactly ``error: message`` on stderr."""
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {message}\n")


def test_cli_promote_says_which_gate_and_until_when(tmp_path: Path) -> None:
    """``pipelines promote`` into a frozen stage fails with one line; --ignore-gates goes
    ahead and prints the overridden gate."""
    config, until = freeze_around_now("release train")
    ops = gated(tmp_path, config, arrival=datetime.now(UTC) - timedelta(days=3))
    before = ops.git("status", "--porcelain")
    args = ("promote", "nginx", "staging", "prod", "-p", "web", "--dry-run")
    assert_one_error_line(
        invoke(ops, *args),
        f"stage prod of pipeline web is frozen (release train) until {until} "
        "(--ignore-gates overrides)",
    )
    result = invoke(ops, *args, "--ignore-gates")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "pipeline web: staging -> prod",
        "  Deployment/nginx: 1.21.6 -> 1.22.1",
        "    nginx: 1.21.6 -> 1.22.1  pipelines/web/prod/nginx-tag.yaml:10 (in-place)",
        "  note: Gate overridden with --ignore-gates: stage prod of pipeline web is frozen "
        f"(release train) until {until}",
    ]
    assert ops.git("status", "--porcelain") == before


def test_cli_soak_through_history(tmp_path: Path) -> None:
    """``pipelines promote`` reads the soak's start from the clone's history."""
    now = datetime.now(UTC).replace(microsecond=0)
    arrival = now - timedelta(hours=3, seconds=30)
    ops = gated(tmp_path, SOAK_24H, arrival=arrival)
    ready = (arrival + timedelta(hours=24)).isoformat(timespec="minutes")
    assert_one_error_line(
        invoke(ops, "promote", "nginx", "staging", "prod", "-p", "web", "--dry-run"),
        f"Deployment/nginx has soaked in staging for 3h of 1d; it may move on at {ready} "
        "(--ignore-gates overrides)",
    )


def test_cli_rollback_respects_freeze(tmp_path: Path) -> None:
    """A rollback into a frozen stage is refused like a promotion."""
    config, until = freeze_around_now()
    now = datetime.now(UTC)
    ops = gated(tmp_path, config, arrival=now - timedelta(days=3))
    bump = replaced(ops, PROD_NGINX, "nginx:1.21.6", "nginx:1.22.1")
    commit(ops, bump, "nginx 1.22.1 in prod", iso(now - timedelta(days=2)), HAND)
    args = ("rollback", "nginx", "prod", "-p", "web", "--previous", "--dry-run")
    assert_one_error_line(
        invoke(ops, *args),
        f"stage prod of pipeline web is frozen (incident) until {until} (--ignore-gates overrides)",
    )
    result = invoke(ops, *args, "--ignore-gates")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1:2] == ["  Deployment/nginx: 1.22.1 -> 1.21.6"]


@pytest.mark.parametrize(
    ("text", "message"),
    [CORRUPT[0], CORRUPT[2], CORRUPT[4], CORRUPT[5]],
    ids=["bad-duration", "bad-cron", "unknown-timezone", "to-before-from"],
)
def test_cli_corrupt_gate_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    """A corrupt gate stops ``pipelines promote`` with the loader's one line."""
    ops = gated(tmp_path, text, arrival=datetime.now(UTC) - timedelta(days=3))
    assert_one_error_line(
        invoke(ops, "promote", "nginx", "staging", "prod", "-p", "web", "--dry-run"), message
    )
