"""JSON6902 operation values read as kustomize reads them (YAML 1.1), keeping their place."""

from __future__ import annotations

import pytest

from promoter._yaml import YMap, parse_text
from promoter.kustomize.scalars import yaml11_op_value


@pytest.mark.parametrize(
    ("written", "value", "node"),
    [
        ("yes", True, ("tag:yaml.org,2002:bool", "true", None)),
        ("off", False, ("tag:yaml.org,2002:bool", "false", None)),
        ("2024-05-01", "2024-05-01", ("tag:yaml.org,2002:str", "2024-05-01", '"')),
    ],
)
def test_an_op_value_is_read_as_yaml_1_1_where_it_is_written(
    written: str, value: object, node: tuple[str, str, str | None]
) -> None:
    """A plain ``yes``, ``off`` or date becomes what YAML 1.1 reads, at the same place."""
    ops = parse_text(f"- op: add\n  path: /a\n  value: {written}\n", "k.yaml", "json6902")[0]
    op = ops[0]
    assert isinstance(op, YMap)
    found, prov = yaml11_op_value(op["value"], op.origin("value"))
    assert prov is not None
    assert (value, ("k.yaml", 3, 9, "json6902"), node) == (
        found,
        (prov.file, prov.line, prov.column, prov.mech),
        (prov.node.tag, prov.node.value, prov.node.style),
    )
