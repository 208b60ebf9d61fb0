"""Tests take plain helpers from tests/support/, never a private name from a conftest file,
and the support package needs no conftest (so benchmarks can use it without pytest)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import ROOT

SOURCES = [*sorted((ROOT / "tests").rglob("*.py")), *sorted((ROOT / "bench").rglob("*.py"))]


def conftest_imports(path: Path) -> list[tuple[int, str]]:
    """(line, name) of every name `path` imports from a conftest module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "conftest":
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def test_no_test_imports_a_private_name_from_a_conftest():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in SOURCES
        for line, name in conftest_imports(path)
        if name.startswith("_")
    ]
    assert not offenders, (
        "Private names imported from a conftest; use the public helper in tests/support/ "
        "(e.g. tests.support.accounts.password_hash, tests.support.app.reset_database):\n"
        + "\n".join(offenders)
    )


def test_the_support_package_imports_no_conftest():
    support = sorted((ROOT / "tests" / "support").glob("*.py"))
    assert support
    offenders = [f"{p.name}:{line}" for p in support for line, _ in conftest_imports(p)]
    assert not offenders, offenders


def test_the_guard_sees_a_private_import(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text("from tests.conftest import _password_hash, login\n")
    assert conftest_imports(sample) == [(1, "_password_hash"), (1, "login")]
