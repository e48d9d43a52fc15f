"""The working list of a build's objects (``ResMap``) and patch target selectors: what the
index finds is what a scan of every object finds."""

from __future__ import annotations

from typing import Any

import pytest

from promoter._yaml import YMap, parse_text
from promoter.kustomize.resmap import ResMap
from promoter.kustomize.resource import Resource, Selector, id_of, matches_selector


def _resources(text: str) -> list[Resource]:
    return [Resource.from_doc(d) for d in parse_text(text, "r.yaml") if isinstance(d, YMap)]


OBJECTS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {tier: front}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-canary, namespace: shop}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: db.main}
"""


def _renamed(resource: Resource, name: str) -> Resource:
    doc = resource.doc.evolve()
    meta = doc["metadata"].evolve()
    meta["name"] = name
    doc["metadata"] = meta
    return resource.with_doc(doc)


@pytest.mark.parametrize(
    "target",
    [
        {"kind": "Deployment"},
        {"name": "web"},
        {"name": "web.*"},
        {"name": "db.main"},
        {"name": "db.mai."},
        {"name": "(unclosed"},
        {"kind": "Deployment", "namespace": "default"},
        {"group": "apps", "version": "v1", "name": "web-canary"},
        {"labelSelector": "tier=front"},
        {"kind": "Service", "name": "web", "namespace": "def.*"},
        {"name": ""},
        {},
    ],
)
def test_selected_is_what_a_scan_selects(target: dict[str, Any]) -> None:
    """Selecting through the name index finds the objects a test of each one finds."""
    resources = _resources(OBJECTS)
    expected = [i for i, r in enumerate(resources) if matches_selector(r, target)]
    assert expected == ResMap(resources).selected(Selector(target))


def test_renamed_object_is_found_by_either_name() -> None:
    """An object renamed in place is selected by its original and its new name, and found
    by each id it has had."""
    resources = _resources(OBJECTS)
    acc = ResMap(resources)
    acc.replace(0, _renamed(resources[0], "shop-web"))
    assert acc.selected(Selector({"kind": "Deployment", "name": "shop-web"})) == [0]
    assert acc.selected(Selector({"kind": "Deployment", "name": "web"})) == [0]
    assert acc.with_key(id_of(resources[0].doc).key) == [0]
    assert acc.with_key(acc[0].id.key) == [0]


def test_key_without_namespace_matches_default() -> None:
    """An id without namespace finds an object in ``default`` (kustomize's id equality)."""
    resources = _resources(OBJECTS)
    service = resources[1].id._replace(namespace="")
    assert ResMap(resources).with_key(service.key) == [1]


def test_deleted_object_is_gone() -> None:
    """A deleted object is neither found nor listed; the others keep their order."""
    resources = _resources(OBJECTS)
    acc = ResMap(resources)
    acc.delete(1)
    assert acc.with_key(resources[1].id.key) == []
    assert acc.selected(Selector({"kind": "Service"})) == []
    assert [resources[0], resources[2], resources[3]] == acc.resources()


def test_stale_name_is_not_selected() -> None:
    """A name an object had only between two renames selects it no more."""
    resources = _resources(OBJECTS)
    acc = ResMap(resources)
    acc.replace(2, _renamed(resources[2], "interim"))
    acc.replace(2, Resource(acc[2].doc, (acc[2].ids[0], _renamed(acc[2], "final").id)))
    assert acc.selected(Selector({"name": "interim"})) == []
    assert acc.selected(Selector({"name": "final"})) == [2]
