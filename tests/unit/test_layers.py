"""The layer contracts (import-linter, `[tool.importlinter]` in pyproject.toml) hold on the tree,
and `lint-imports` (run by scripts/lint, so by CI) fails when an import breaks one.

Each broken case edits a copy of the package's Python files in a temporary folder and runs
the checker there, so the working tree is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# A dev tool (scripts/install --dev); scripts/lint runs it too, and fails where it is missing.
pytest.importorskip("importlinter", reason="import-linter is not installed: scripts/install --dev")

ROOT = Path(__file__).resolve().parents[2]
# What the `lint-imports` script runs; started from this interpreter so no PATH is needed.
LINT_IMPORTS = (
    "import sys; from importlinter.cli import lint_imports_command; "
    "sys.exit(lint_imports_command())"
)


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run the contracts of `root`/pyproject.toml over the package in `root`/src."""
    path = os.pathsep.join(p for p in (str(root / "src"), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


_NOT_CODE = ("__pycache__", "static", "templates", "locale")


def _not_python(folder: str, names: list[str]) -> list[str]:
    """What the copy leaves out: files that are not Python, and folders without any."""
    files = [n for n in names if not n.endswith(".py") and not (Path(folder) / n).is_dir()]
    return files + [n for n in names if n in _NOT_CODE]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the package's Python files and of pyproject.toml."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "src" / "safeclass", tmp_path / "src" / "safeclass", ignore=_not_python)
    return tmp_path


def add_import(tree: Path, module: str, line: str) -> None:
    """Put `line` among the imports of `module` (after `from __future__ import annotations`)."""
    path = tree / "src" / Path(*module.split(".")).with_suffix(".py")
    source = path.read_text()
    marker = "from __future__ import annotations\n"
    assert marker in source
    path.write_text(source.replace(marker, marker + line + "\n", 1))


def test_the_tree_keeps_every_layer_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_event_loop_in_core_fails_the_check(tree: Path):
    add_import(tree, "safeclass.core.names", "import asyncio")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "safeclass.core.names -> asyncio" in result.stdout


def test_core_reaching_for_the_app_fails_the_check(tree: Path):
    add_import(tree, "safeclass.core.timers", "from safeclass.app import clock")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "safeclass.core.timers -> safeclass.app.clock" in result.stdout


def test_a_page_that_runs_its_own_sql_fails_the_check(tree: Path):
    add_import(tree, "safeclass.web.health", "from safeclass.adapters.store import tables")
    add_import(tree, "safeclass.web.class_page", "import sqlalchemy")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "safeclass.web.health -> safeclass.adapters.store.tables" in result.stdout
    assert "safeclass.web.class_page -> sqlalchemy" in result.stdout


def test_a_new_import_of_an_adapter_in_app_fails_the_check(tree: Path):
    add_import(tree, "safeclass.app.staff_roles", "from safeclass.adapters.store import tables")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "safeclass.app.staff_roles -> safeclass.adapters.store.tables" in result.stdout


def test_an_ignored_import_that_nothing_makes_fails_the_check(tree: Path):
    """The app's contract ignores no import; one added for an import that no module makes (say,
    left behind when the import moved behind a port) fails the check, so none can linger."""
    path = tree / "pyproject.toml"
    config = path.read_text()
    contract = 'id = "app-without-adapters"\n'
    assert config.count(contract) == 1 and "ignore_imports =" not in config
    stale = "safeclass.app.staff_roles -> safeclass.adapters.store.tables"
    path.write_text(config.replace(contract, f'{contract}ignore_imports = ["{stale}"]\n'))
    result = lint_imports(tree)
    assert result.returncode != 0
    assert f"No matches for ignored import {stale}" in " ".join(result.stdout.split())
