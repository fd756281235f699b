"""The import contracts in pyproject.toml hold on the tree, and break when an arrow runs the wrong way."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("synthmarket", "synthmarket_cli", "regime_svc", "options_svc", "equities_svc", "flow_svc",
            "admin_gateway", "webui")
MAX_PRODUCT_MODULE_LINES = 400


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
                          cwd=tree, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("tree")
    shutil.copy(ROOT / "pyproject.toml", tree)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__", "static"))
    return tree


def test_the_tree_keeps_every_contract(tree_copy: Path):
    done = lint_imports(tree_copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("synthmarket/domain/universe.py", "import regime_svc.server", "synthmarket is not allowed to import regime_svc"),
    ("synthmarket/infra/tasks.py", "import synthmarket_cli.status",
     "synthmarket is not allowed to import synthmarket_cli"),
    ("options_svc/service.py", "import flow_svc.rules", "options_svc is not allowed to import flow_svc"),
    ("webui/app.py", "import synthmarket_cli.simulate", "webui is not allowed to import synthmarket_cli"),
    ("options_svc/pricing.py", "import asyncio", "options_svc.pricing is not allowed to import asyncio"),
    ("synthmarket/engine/paths.py", "import time", "synthmarket.engine is not allowed to import time"),
    ("flow_svc/rules.py", "import nats", "flow_svc.rules is not allowed to import nats"),
    ("equities_svc/sizes.py", "import grpc", "equities_svc.sizes is not allowed to import grpc"),
])
def test_an_arrow_the_wrong_way_breaks_a_contract(tree_copy: Path, module: str, line: str, broken: str):
    path = tree_copy / module
    original = path.read_text()
    path.write_text(original + f"\n{line}\n")
    try:
        done = lint_imports(tree_copy)
    finally:
        path.write_text(original)
    assert done.returncode != 0
    assert broken in done.stdout, done.stdout


def test_no_product_module_is_longer_than_the_limit():
    long = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "v1" in path.relative_to(ROOT).parts:   # generated stubs
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_PRODUCT_MODULE_LINES:
                long[str(path.relative_to(ROOT))] = lines
    assert not long, f"modules over {MAX_PRODUCT_MODULE_LINES} lines: {long}"
