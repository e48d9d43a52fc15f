"""The rule table of ``pipelines check`` is complete: every code the library can emit and
every rule the checks report has a rule, and the README lists exactly these rules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import promoter.problems
from promoter.checkrules import BY_ID, CONTEXT_CODES, LIBRARY_CODES, RULES, rule_for

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LIBRARY = PROJECT_ROOT / "promoter"
CHECKS = LIBRARY / "checks.py"
README = PROJECT_ROOT / "README.md"

_CODE_LITERAL = re.compile(r"""\bcode(?:\s*:\s*[\w\[\]]+)?\s*=\s*["']([^"']+)["']""")
_CODE_NAME = re.compile(r"\bcode\s*=\s*([A-Z][A-Z0-9_]*)\b")
_DOC_CODE = re.compile(r"``([a-z][a-z0-9-]*)``")

NOT_YET_EMITTED = frozenset({"name-invalid"})
"""Rules whose code the library does not emit yet (names with control characters get a code
of their own in a parallel change); listing them here never hides a missing rule."""


def library_sources() -> dict[Path, str]:
    """Every module of the library, by path."""
    return {path: path.read_text(encoding="utf-8") for path in sorted(LIBRARY.rglob("*.py"))}


def constant_value(name: str, sources: dict[Path, str]) -> str:
    """The string a module-level constant ``name`` of the library holds."""
    pattern = re.compile(rf"""^{name}(?:\s*:\s*[\w\[\]]+)?\s*=\s*["']([^"']+)["']""", re.M)
    for text in sources.values():
        found = pattern.search(text)
        if found is not None:
            return found.group(1)
    raise AssertionError(f"constant {name} used as a Problem code is not a string literal")


def emitted_codes() -> set[str]:
    """Every ``Problem.code`` the library can emit: literals given as ``code=``, class
    codes (``code: ClassVar[str] = ...``), constants given as ``code=NAME``, the default,
    and the codes promoter.problems documents."""
    sources = library_sources()
    codes: set[str] = set()
    for text in sources.values():
        codes.update(_CODE_LITERAL.findall(text))
        codes.update(constant_value(name, sources) for name in _CODE_NAME.findall(text))
    doc = promoter.problems.__doc__ or ""
    documented = doc[doc.index("Codes:") :]
    codes.update(_DOC_CODE.findall(documented))
    return codes


def test_the_scan_finds_the_known_codes() -> None:
    """The source scan sees the codes the library is known to emit (it is not blind)."""
    expected = {"manifest", "kustomize", "label", "stage-path", "duplicate-stage"}
    assert expected <= emitted_codes()
    assert {"unsupported", "error"} <= emitted_codes()


def test_every_library_code_has_a_rule() -> None:
    """Every code the library can emit is a rule id, maps to one, or is a generic code that
    takes the rule of the check meeting it."""
    unmapped = sorted(
        code
        for code in emitted_codes()
        if code not in BY_ID and code not in LIBRARY_CODES and code not in CONTEXT_CODES
    )
    nothing: list[str] = []
    assert nothing == unmapped


def test_library_codes_map_to_rules() -> None:
    """``LIBRARY_CODES`` and ``rule_for`` only ever name rules of the table."""
    assert set(LIBRARY_CODES.values()) <= set(BY_ID)
    assert not set(LIBRARY_CODES) & set(BY_ID)
    assert not CONTEXT_CODES & set(BY_ID)
    for code in emitted_codes():
        assert rule_for(code, "stage-unbuildable") in BY_ID, code
    assert rule_for("kustomize", "stage-unbuildable") == "stage-unbuildable"
    assert rule_for("label", "manifest-invalid") == "label-invalid"
    assert rule_for("duplicate-stage", "manifest-invalid") == "duplicate-stage"
    assert rule_for("name-invalid", "config-invalid") == "name-invalid"


def _rule_expressions(tree: ast.Module) -> list[tuple[ast.expr, ast.FunctionDef | None]]:
    """The expressions checks.py passes as a rule: ``findings.add(file, line, RULE, ...)``,
    ``findings.add_problem(problem, RULE, ...)``, ``rule_for(code, RULE)`` and the first item
    of what ``_marker_finding`` returns, with the function they are in."""
    found: list[tuple[ast.expr, ast.FunctionDef | None]] = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Call):
                callee = node.func
                name = (
                    callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
                )
                position = {"add": 2, "add_problem": 1, "rule_for": 1}.get(name)
                if position is not None and len(node.args) > position:
                    found.append((node.args[position], function))
            if (
                function.name == "_marker_finding"
                and isinstance(node, ast.Return)
                and isinstance(node.value, ast.Tuple)
            ):
                found.append((node.value.elts[0], function))
    return found


def _constants(
    expr: ast.expr, function: ast.FunctionDef | None, functions: dict[str, ast.FunctionDef]
) -> set[str]:
    """The string constants ``expr`` can be: literals, both arms of ``a if c else b``,
    what a local name is assigned, what a local function called returns."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return _constants(expr.body, function, functions) | _constants(
            expr.orelse, function, functions
        )
    if isinstance(expr, ast.Name) and function is not None:
        values: set[str] = set()
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == expr.id for t in node.targets
            ):
                values |= _constants(node.value, function, functions)
        return values
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        callee = functions.get(expr.func.id)
        if callee is not None:
            returns: set[str] = set()
            for node in ast.walk(callee):
                if isinstance(node, ast.Return) and node.value is not None:
                    returns |= _constants(node.value, callee, functions)
            return returns
    return set()


def reported_rules() -> set[str]:
    """Every rule id checks.py can report directly."""
    tree = ast.parse(CHECKS.read_text(encoding="utf-8"))
    functions = {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
    rules: set[str] = set()
    for expr, function in _rule_expressions(tree):
        rules |= _constants(expr, function, functions)
    return rules


def test_every_rule_checks_report_is_in_the_table() -> None:
    """Every rule id checks.py reports is a rule of the table (so it has a severity)."""
    reported = reported_rules()
    assert {"patch-targets-nothing", "version-unordered", "marker-in-later-stage"} <= reported
    unknown = sorted(reported - set(BY_ID))
    nothing: list[str] = []
    assert nothing == unknown


def test_every_rule_of_the_table_can_be_reported() -> None:
    """Every rule of the table is reported by a check or reached from a library code."""
    reachable = reported_rules() | {rule_for(code, "") for code in emitted_codes()}
    unreachable = sorted(set(BY_ID) - reachable - NOT_YET_EMITTED)
    nothing: list[str] = []
    assert nothing == unreachable


def readme_rules() -> list[tuple[str, str, str, str]]:
    """(id, default severity, description, example) of each row of the README's rule table
    (the table under the ``pipelines check`` heading whose first column is ``rule id``)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### `pipelines check") :]
    section = section[: section.index("\n## ")]
    table = section[section.index("| rule id |") :]
    rows = []
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == 4, line
        rows.append((cells[0].strip("`"), cells[1], cells[2], cells[3]))
    return rows


def test_readme_lists_every_rule() -> None:
    """The README's table lists every rule, in order, with its id, default severity,
    description and example exactly as the rule table has them."""
    expected = [(r.id, r.severity, r.description, r.example) for r in RULES]
    assert expected == readme_rules()


def test_checks_rules_tuple_is_the_table() -> None:
    """``promoter.checks.RULES`` (the rule ids) follows the rule table."""
    from promoter.checks import RULES as CHECK_RULES

    assert tuple(r.id for r in RULES) == CHECK_RULES
