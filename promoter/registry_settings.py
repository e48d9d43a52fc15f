"""The registry area of promoter.yaml: insecure hosts, digest pinning, tag policies.

.. code-block:: yaml

    registry:
      insecure: [registry.lan:5000]     # plain HTTP allowed (besides loopback)
    pipelines:
      - name: web
        pin: digest                     # promotions into every stage pin digests
        tags: {pattern: '^v(?P<v>.*)$', extract: '$v', order: semver}
        apps:
          podinfo: {tags: {pattern: '^\\d+$', order: numerical}}
        stages:
          - path: envs/prod
            pin: digest                 # or only into this stage

Values are checked when they are used (a mistake stops the command that needs them, not
``status``), each error at its line of promoter.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from promoter.config import CONFIG_FILE, Config, PipelineConfig, RegistryConfig, Setting
from promoter.errors import ManifestError, RepoError

if TYPE_CHECKING:  # the tag policies are imported when a setting needs one
    from promoter.registry.policy import TagPolicy

PIN_VALUES = ("digest", "tag")
_POLICY_KEYS = frozenset({"pattern", "extract", "order", "range"})


def insecure_hosts(config: Config, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Hosts that may be spoken to over plain HTTP: ``extra`` (``--insecure-registry``)
    and ``registry: {insecure: [...]}``."""
    found = list(extra)
    section = config.registry.registry
    if section is None:
        return tuple(dict.fromkeys(found))
    if not isinstance(section.value, Mapping):
        raise ManifestError(CONFIG_FILE, "'registry' must be a mapping", section.line)
    unknown = set(section.value) - {"insecure"}
    if unknown:
        raise ManifestError(
            CONFIG_FILE, f"registry: unknown key {sorted(unknown)[0]!r} (known: insecure)",
            section.line,
        )  # fmt: skip
    listed = section.value.get("insecure") or []
    if not isinstance(listed, list) or not all(isinstance(h, str) for h in listed):
        raise ManifestError(CONFIG_FILE, "registry.insecure must be a list of hosts", section.line)
    return tuple(dict.fromkeys([*found, *listed]))


def _pipelines(config: Config, name: str) -> list[PipelineConfig]:
    return [p for p in config.pipelines if p.name == name]


def pins_digest(config: Config, pipeline: str, stage: str) -> bool:
    """Whether promoter.yaml asks promotions into ``stage`` to pin digests (``pin: digest``
    on the stage, else on its pipeline)."""
    chosen: Setting | None = None
    for entry in _pipelines(config, pipeline):
        for stage_entry in entry.stages:
            if stage_entry.name == stage and stage_entry.registry.pin is not None:
                chosen = stage_entry.registry.pin
        if chosen is None and entry.registry.pin is not None:
            chosen = entry.registry.pin
    if chosen is None:
        return False
    if chosen.value not in PIN_VALUES:
        raise ManifestError(
            CONFIG_FILE, f"pin: expected one of {', '.join(PIN_VALUES)}, got {chosen.text!r}",
            chosen.line,
        )  # fmt: skip
    return chosen.value == "digest"


def tag_policy(config: Config, pipeline: str, app: str, name: str) -> TagPolicy:
    """The tag policy of app ``app`` (``Kind/name``; ``name`` alone also matches) in
    ``pipeline``: its ``apps`` entry's ``tags``, else the pipeline's ``tags``, else semver."""
    chosen: Setting | None = None
    for entry in _pipelines(config, pipeline):
        chosen = _app_tags(entry.registry, app, name) or entry.registry.tags or chosen
    if chosen is None:
        from promoter.registry.policy import TagPolicy

        return TagPolicy()
    return read_policy(chosen)


def _app_tags(registry: RegistryConfig, app: str, name: str) -> Setting | None:
    apps = registry.apps
    if apps is None:
        return None
    if not isinstance(apps.value, Mapping):
        raise ManifestError(CONFIG_FILE, "apps must be a mapping of app names", apps.line)
    for key in (app, name):
        entry = apps.value.get(key)
        if entry is None:
            continue
        if not isinstance(entry, Mapping) or set(entry) - {"tags"}:
            raise ManifestError(CONFIG_FILE, f"apps.{key}: expected {{tags: ...}}", apps.line)
        tags = entry.get("tags")
        line = getattr(entry, "line_of", lambda _: None)("tags") or apps.line
        return Setting(tags, None, line) if tags is not None else None
    return None


def read_policy(tags: Setting) -> TagPolicy:
    """A ``tags: {pattern, extract, order, range}`` setting as a ``TagPolicy``."""
    from promoter.registry.policy import ORDERS, TagPolicy

    value = tags.value
    if not isinstance(value, Mapping):
        raise ManifestError(CONFIG_FILE, "tags must be a mapping (pattern, order)", tags.line)
    unknown = set(value) - _POLICY_KEYS
    if unknown:
        known = ", ".join(sorted(_POLICY_KEYS))
        raise ManifestError(
            CONFIG_FILE, f"tags: unknown key {sorted(unknown)[0]!r} (known: {known})", tags.line
        )
    order = value.get("order", "semver")
    if order not in ORDERS:
        raise ManifestError(
            CONFIG_FILE, f"tags: order {order!r}: expected one of {', '.join(ORDERS)}", tags.line
        )

    def text(key: str) -> str | None:
        found = value.get(key)
        return None if found is None else str(found)

    try:
        return TagPolicy(text("pattern"), text("extract"), order, text("range"))
    except RepoError as exc:
        raise ManifestError(CONFIG_FILE, f"tags: {exc}", tags.line) from exc
