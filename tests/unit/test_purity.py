"""The pure-logic modules stay pure: no I/O, clock, global randomness or network imports."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BANNED_MODULES = frozenset(
    {"os", "sys", "time", "random", "socket", "subprocess", "asyncio", "grpc", "nats", "flask", "requests"}
)
# Reading the wall clock through datetime is as impure as importing time.
BANNED_CLOCK_CALLS = frozenset({"now", "utcnow", "today"})
CLOCK_OWNERS = frozenset({"datetime", "date"})

# The shared library's pure parts: its vocabulary and the regime engine.
PURE_SHARED_DIRS = ("synthmarket/domain", "synthmarket/engine")
PURE_SERVICE_DIRS = ("regime_svc", "options_svc", "equities_svc", "flow_svc")
# The service shells: where I/O is allowed to live.
SHELL_FILES = frozenset({"server.py", "service.py", "__main__.py", "metrics.py"})


@dataclass(frozen=True)
class Violation:
    line: int
    what: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}"


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _banned(module: str) -> bool:
    return module.split(".", 1)[0] in BANNED_MODULES


def scan_source(source: str) -> list[Violation]:
    """Every banned import and wall-clock call in ``source``."""
    found: list[Violation] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Violation(node.lineno, f"import {a.name}") for a in node.names if _banned(a.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and _banned(node.module):
                found.append(Violation(node.lineno, f"from {node.module} import ..."))
        elif isinstance(node, ast.Call):
            func = node.func
            name = _dotted(func)
            if name in ("__import__", "importlib.import_module") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and _banned(arg.value):
                    found.append(Violation(node.lineno, f"{name}({arg.value!r})"))
            if isinstance(func, ast.Attribute) and func.attr in BANNED_CLOCK_CALLS:
                owner = _dotted(func.value)
                if owner and owner.rsplit(".", 1)[-1] in CLOCK_OWNERS:
                    found.append(Violation(node.lineno, f"{owner}.{func.attr}()"))
            if name == "time.time":
                found.append(Violation(node.lineno, "time.time()"))
    return sorted(found, key=lambda v: (v.line, v.what))


def pure_modules(root: Path = ROOT) -> list[Path]:
    """The pure-logic files that exist right now (missing folders and files are fine)."""
    paths: list[Path] = []
    for folder in PURE_SHARED_DIRS:
        paths += sorted((root / folder).rglob("*.py"))
    for folder in PURE_SERVICE_DIRS:
        paths += [p for p in sorted((root / folder).rglob("*.py")) if p.name not in SHELL_FILES]
    return [p for p in paths if p.is_file()]


# -- the scanner itself ---------------------------------------------------------------------

SYNTHETIC_SOURCE = '''
import os
import numpy as np
import os.path as osp
from time import monotonic
from nats.js import api
from . import sibling
from synthmarket.domain import rng
import datetime as dt
import grpc.aio, json

def f(x):
    a = dt.datetime.now()
    b = datetime.utcnow()
    c = date.today()
    d = time.time()
    e = __import__("random")
    g = x.now()          # not a clock: owner is not datetime/date
    return dt.datetime.fromtimestamp(x)
'''


def test_scanner_reports_every_banned_import_and_clock_call():
    got = [str(v) for v in scan_source(SYNTHETIC_SOURCE)]
    assert got == [
        "line 2: import os",
        "line 4: import os.path",
        "line 5: from time import ...",
        "line 6: from nats.js import ...",
        "line 10: import grpc.aio",
        "line 13: dt.datetime.now()",
        "line 14: datetime.utcnow()",
        "line 15: date.today()",
        "line 16: time.time()",
        "line 17: __import__('random')",
    ], got


def test_scanner_accepts_a_pure_module():
    source = "import math\nimport datetime as dt\nfrom synthmarket.domain.rng import mix\n" \
             "def f(ts):\n    return dt.datetime.fromtimestamp(ts / 1000).date()\n"
    assert scan_source(source) == []


def test_module_list_skips_service_shells_and_missing_files(tmp_path):
    (tmp_path / "synthmarket" / "domain").mkdir(parents=True)
    (tmp_path / "synthmarket" / "domain" / "rng.py").write_text("")
    (tmp_path / "synthmarket" / "settings.py").write_text("import os\n")
    svc = tmp_path / "flow_svc"
    (svc / "sub").mkdir(parents=True)
    for name in ("rules.py", "server.py", "service.py", "__main__.py", "metrics.py", "sub/logic.py"):
        (svc / name).write_text("")
    names = sorted(str(p.relative_to(tmp_path)) for p in pure_modules(tmp_path))
    assert names == ["flow_svc/rules.py", "flow_svc/sub/logic.py", "synthmarket/domain/rng.py"]


# -- the real tree ----------------------------------------------------------------------------


def test_shared_pure_modules_exist():
    # The scan below would pass vacuously if the tree moved; the shared core is always there.
    present = {f"{p.parent.name}/{p.stem}" for p in pure_modules()}
    assert {"domain/control", "domain/calendar", "domain/rng", "engine/regime_engine", "options_svc/generator"} <= present


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_has_no_io(path: Path):
    violations = scan_source(path.read_text(encoding="utf-8"))
    assert not violations, f"{path.relative_to(ROOT)} must stay pure: " + "; ".join(map(str, violations))
