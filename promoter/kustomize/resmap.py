"""The objects of a build while patches apply: in order, found by id or by a target's name
without a scan of every object (kustomize's ``ResMap``)."""

from __future__ import annotations

from collections.abc import Iterable

from promoter.kustomize.resource import Resource, Selector

Key = tuple[str, str, str, str, str]


class ResMap:
    """A working list of objects: patches replace or delete them in place.

    The objects themselves stay immutable (``Resource.with_doc`` makes new ones); only this
    list and its indexes change.  An index may hold positions that no longer match (an
    object renamed or deleted since): every lookup checks its candidates again."""

    __slots__ = ("_by_key", "_by_name", "_items")

    def __init__(self, resources: Iterable[Resource]) -> None:
        self._items: list[Resource | None] = list(resources)
        self._by_key: dict[Key, set[int]] = {}
        self._by_name: dict[str, set[int]] = {}
        for position, resource in enumerate(self._items):
            assert resource is not None
            self._index(position, resource)

    def _index(self, position: int, resource: Resource) -> None:
        by_key, by_name = self._by_key, self._by_name
        for key in resource.keys:
            found = by_key.get(key)
            if found is None:
                by_key[key] = {position}
            else:
                found.add(position)
        for rid in resource.ids:
            found = by_name.get(rid.name)
            if found is None:
                by_name[rid.name] = {position}
            else:
                found.add(position)

    def resources(self) -> list[Resource]:
        """The objects left, in order."""
        return [r for r in self._items if r is not None]

    def __getitem__(self, position: int) -> Resource:
        found = self._items[position]
        assert found is not None
        return found

    def with_key(self, key: Key) -> list[int]:
        """Positions of the objects that have (or had) id ``key`` (``ResId.key``)."""
        items = self._items
        return sorted(
            p for p in self._by_key.get(key, ()) if (r := items[p]) is not None and key in r.keys
        )

    def selected(self, selector: Selector) -> list[int]:
        """Positions of the objects ``selector`` selects, in order."""
        items = self._items
        name = selector.literal_name
        candidates: Iterable[int] = (
            range(len(items)) if name is None else sorted(self._by_name.get(name, ()))
        )
        return [p for p in candidates if (r := items[p]) is not None and selector.matches(r)]

    def replace(self, position: int, resource: Resource) -> None:
        """Put ``resource`` (a new version of the object) at ``position``."""
        old = self._items[position]
        self._items[position] = resource
        if old is None or (old.ids is not resource.ids and old.ids != resource.ids):
            self._index(position, resource)

    def delete(self, position: int) -> None:
        """Drop the object at ``position`` (``$patch: delete``)."""
        self._items[position] = None
