"""JSON6902 operations on missing paths: the native reader against ``kubectl kustomize``.

Each case patches a Service without annotations or labels; kubectl and the native builder
must agree on success or failure and, on success, on the whole rendered object.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from promoter.errors import PromoterError
from promoter.kustomize import Builder

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: proxy
spec:
  ports:
  - port: 80
  selector:
    app: proxy
"""

CASES: dict[str, list[dict[str, Any]]] = {
    "add-under-missing-annotations": [
        {"op": "add", "path": "/metadata/annotations/foo", "value": "x"}
    ],
    "add-two-levels-under-annotations": [
        {"op": "add", "path": "/metadata/annotations/a/b", "value": "x"}
    ],
    "add-whole-annotations": [{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}],
    "add-under-missing-labels": [{"op": "add", "path": "/metadata/labels/foo", "value": "x"}],
    "add-under-missing-spec-field": [{"op": "add", "path": "/spec/foo/bar", "value": "x"}],
    "add-escaped-slash": [{"op": "add", "path": "/metadata/annotations/a~1b", "value": "x"}],
    "add-escaped-tilde": [{"op": "add", "path": "/metadata/annotations/a~0b", "value": "x"}],
    "add-append-dash": [{"op": "add", "path": "/spec/ports/-", "value": {"port": 81}}],
    "add-index-out-of-range": [{"op": "add", "path": "/spec/ports/5", "value": {"port": 81}}],
    "add-negative-index": [{"op": "add", "path": "/spec/ports/-1", "value": {"port": 1}}],
    "replace-under-missing-annotations": [
        {"op": "replace", "path": "/metadata/annotations/foo", "value": "x"}
    ],
    "replace-missing-key": [{"op": "replace", "path": "/metadata/foo", "value": "x"}],
    "replace-dash": [{"op": "replace", "path": "/spec/ports/-", "value": {"port": 81}}],
    "replace-index-out-of-range": [{"op": "replace", "path": "/spec/ports/1", "value": 1}],
    "remove-missing-annotation": [{"op": "remove", "path": "/metadata/annotations/foo"}],
    "remove-missing-key": [{"op": "remove", "path": "/metadata/foo"}],
    "remove-missing-annotations": [{"op": "remove", "path": "/metadata/annotations"}],
    "remove-negative-index": [{"op": "remove", "path": "/spec/ports/-1"}],
    "move-from-missing": [{"op": "move", "from": "/metadata/annotations/foo", "path": "/spec/x"}],
    "move-to-missing-parent": [{"op": "move", "from": "/spec/selector", "path": "/spec/n/x"}],
    "copy-from-missing-key": [{"op": "copy", "from": "/metadata/foo", "path": "/spec/x"}],
    "test-missing-annotation-null": [
        {"op": "test", "path": "/metadata/annotations/foo", "value": None}
    ],
    "test-missing-annotation-value": [
        {"op": "test", "path": "/metadata/annotations/foo", "value": "x"}
    ],
}


def _write(root: Path, ops: list[dict[str, Any]]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "service.yaml").write_text(SERVICE, encoding="utf-8")
    patch = json.dumps(ops)
    (root / "kustomization.yaml").write_text(
        "resources: [service.yaml]\npatches:\n- target: {kind: Service, name: proxy}\n"
        f"  patch: '{patch}'\n",
        encoding="utf-8",
    )


def _kubectl(kubectl: str, root: Path) -> tuple[bool, Any]:
    done = subprocess.run(
        [kubectl, "kustomize", str(root)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return False, done.stderr
    return True, yaml.safe_load(done.stdout)


def _native(root: Path) -> tuple[bool, Any]:
    try:
        (resource,) = Builder(root).build("").resources
    except PromoterError as exc:
        return False, str(exc)
    return True, json.loads(json.dumps(resource.doc))


@pytest.mark.parametrize("case", sorted(CASES))
def test_json6902_on_missing_paths_like_kubectl(kubectl: str, tmp_path: Path, case: str) -> None:
    """The native reader succeeds or fails as kubectl does, and renders the same object."""
    _write(tmp_path, CASES[case])
    ok, expected = _kubectl(kubectl, tmp_path)
    native_ok, actual = _native(tmp_path)
    assert native_ok == ok, f"kubectl: {expected}\nnative: {actual}"
    if ok:
        assert actual == expected


def test_json6902_error_names_full_path_and_resource(tmp_path: Path) -> None:
    """A failing op names the whole path and the object as a user writes it."""
    _write(tmp_path, CASES["add-under-missing-labels"])
    ok, message = _native(tmp_path)
    assert not ok
    assert message == (
        "kustomization.yaml:4: JSON6902 patch on Service/proxy: add /metadata/labels/foo: "
        "path /metadata/labels does not exist"
    )


def test_json6902_error_names_namespace_when_set(tmp_path: Path) -> None:
    """An object with a namespace is named with it; one without never says ``[noNs]``."""
    _write(tmp_path, CASES["add-under-missing-spec-field"])
    text = SERVICE.replace("  name: proxy\n", "  name: proxy\n  namespace: web\n")
    (tmp_path / "service.yaml").write_text(text, encoding="utf-8")
    ok, message = _native(tmp_path)
    assert not ok
    assert "JSON6902 patch on Service/proxy in namespace web: add /spec/foo/bar: " in message
    assert "path /spec/foo does not exist" in message
    assert "[noNs]" not in message
