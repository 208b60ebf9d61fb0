"""Layers point one way (docs/architecture.md, "Layers"): the import-linter contracts in
.importlinter, and AST checks for what they cannot say."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.paths import ROOT

CONFIG = ROOT / ".importlinter"
PACKAGES = ("formservice", "forms", "worker")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    """`lint-imports` on the packages found in `cwd` (first on the path), with our contracts."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(cwd / ".importlinter"), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_tree_keeps_every_import_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


#: A module that imports against the layers, per contract it breaks: (file, its source).
PROBES = {
    "layers": ("formservice/documents/layer_probe.py", "from ..services import audit\n"),
    "forms": ("forms/layer_probe.py", "from formservice.services import meetings\n"),
    "documents": ("formservice/documents/probe_db.py", "from ..extensions import db\n"),
    "domain": ("formservice/domain/layer_probe.py", "from .. import clock\n"),
    "views": ("formservice/views/layer_probe.py", "from .. import queue\n"),
    "worker": ("worker/layer_probe.py", "from formservice.models import User\n"),
    "services": ("formservice/services/layer_probe.py", "from forms import login\n"),
    "only-the-factory-imports-views": (
        "formservice/mail_probe.py",
        "from .views import errors\n",
    ),
    "private-modules": (
        "formservice/services/private_probe.py",
        "from ..documents.uploads import _docx\n",
    ),
}


def test_a_module_importing_against_the_layers_breaks_its_contract(tmp_path: Path) -> None:
    """A copy of the tree with one module per contract that breaks it: every contract fails,
    naming the module."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=_no_caches)
    shutil.copy(CONFIG, tmp_path / ".importlinter")
    for path, source in PROBES.values():
        (tmp_path / path).write_text(source, encoding="utf-8")

    result = lint_imports(tmp_path)
    out = " ".join(result.stdout.split())  # rich wraps long lines
    assert result.returncode == 1, out + result.stderr
    assert f"0 kept, {len(PROBES)} broken" in out
    for path, _ in PROBES.values():
        module = path.removesuffix(".py").replace("/", ".")
        assert f"{module} ->" in out, module


def _no_caches(_folder: str, names: list[str]) -> set[str]:
    return {name for name in names if name == "__pycache__"}


# --- what import-linter cannot say --------------------------------------------------------


def sources(*folders: str) -> Iterator[tuple[str, str]]:
    """(module name, source) of every Python file under the folders."""
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # revisions are not modules (their names begin with a digit)
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            yield name, path.read_text(encoding="utf-8")


def private_imports(module: str, source: str) -> list[str]:
    """`from <module> import _name`: another of our modules' private name (a library's
    stubs may name a type only privately, such as gunicorn's atoms dictionary)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        ours = isinstance(node, ast.ImportFrom) and (
            node.level > 0 or (node.module or "").split(".")[0] in PACKAGES
        )
        if ours:
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{module}:{node.lineno} imports {alias.name}")
    return found


def commits_or_enqueues(module: str, source: str) -> list[str]:
    """A view that commits (`….commit()`) or imports the queue."""
    found = []
    for node in ast.walk(ast.parse(source)):
        call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if call and node.func.attr == "commit":
            found.append(f"{module}:{node.lineno} commits")
        if isinstance(node, ast.ImportFrom):
            names = {alias.name for alias in node.names}
            target = node.module or ""
            if target.endswith("queue") or (target in ("", "formservice") and "queue" in names):
                found.append(f"{module}:{node.lineno} imports the queue")
        if isinstance(node, ast.Import) and any(
            alias.name.startswith("formservice.queue") for alias in node.names
        ):
            found.append(f"{module}:{node.lineno} imports the queue")
    return found


def imports_the_app_package(module: str, source: str) -> list[str]:
    """`from .. import x` (or `from formservice import x`) in documents: the app package, whose
    `create_app` reaches every view."""
    found = []
    depth = module.count(".")  # formservice.documents.x: `..` is formservice
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            root = node.level >= depth and not node.module
            if root or node.module == "formservice" and node.level == 0:
                found.append(f"{module}:{node.lineno} imports the app package")
    return found


def imports_outside_domain(module: str, source: str) -> list[str]:
    """An import of ours that is not in formservice.domain (relative imports resolved)."""
    package = module.rsplit(".", 1)[0].split(".")
    found = []
    for node in ast.walk(ast.parse(source)):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            targets = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        for target in targets:
            ours = target.split(".")[0] in PACKAGES
            if ours and not (target + ".").startswith("formservice.domain."):
                found.append(f"{module}:{node.lineno} imports {target}")
    return found


Check = Callable[[str, str], list[str]]
CHECKS: dict[str, tuple[Check, tuple[str, ...], str, str]] = {
    # check, folders, a module name and a source it must flag
    "private names": (
        private_imports,
        PACKAGES,
        "formservice.services.closing",
        "from .deviations import Outcome, _summary\n",
    ),
    "views commit or enqueue": (
        commits_or_enqueues,
        ("formservice/views",),
        "formservice.views.statistics",
        "from ..extensions import db\n\ndef f():\n    db.session.commit()\n",
    ),
    "views import the queue": (
        commits_or_enqueues,
        ("formservice/views",),
        "formservice.views.bus_individ",
        "from .. import access, queue\n",
    ),
    "documents import the app package": (
        imports_the_app_package,
        ("formservice/documents",),
        "formservice.documents.docx",
        "from .. import ROOT\n",
    ),
    "domain imports outside the domain": (
        imports_outside_domain,
        ("formservice/domain",),
        "formservice.domain.sip",
        "from ..clock import today\n",
    ),
}


@pytest.mark.parametrize("name", CHECKS)
def test_the_tree_passes_the_ast_check(name: str) -> None:
    check, folders, _, _ = CHECKS[name]
    problems = [
        problem for module, source in sources(*folders) for problem in check(module, source)
    ]
    assert problems == []


@pytest.mark.parametrize("name", CHECKS)
def test_the_ast_check_flags_a_bad_import(name: str) -> None:
    check, _, module, bad = CHECKS[name]
    assert check(module, bad), f"{name}: not flagged"
