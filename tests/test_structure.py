"""The package's rooms: a folder per concern, imports that only go down, small modules.

A module may import from its own room (its subpackage, or itself at the top) and from the
rooms on the floors below; never from a room beside it or above it, and no chain of imports
comes back to where it started. Every import counts, those inside functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.project import ROOT

PACKAGE = ROOT / "src" / "reportpipe"
# From the top floor down; the README's layout table says what each room holds.
FLOORS = (
    ("cli",),
    ("orchestration", "ui"),
    ("pipeline", "demo"),
    ("outputs", "loading"),
    ("statistics",),
    ("intake", "validation"),
    ("warehouse",),
    ("contracts", "outline", "problems", "months"),
    ("offices",),
    ("settings", "untrusted"),
)
MAX_LINES = 400


def modules() -> dict[str, Path]:
    return {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
            for p in PACKAGE.rglob("*.py")}


def room(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "reportpipe"


def imports(path: Path) -> set[str]:
    """The reportpipe modules a file imports (a name imported from a package counts as its module if it is one)."""
    known, found = modules(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("reportpipe")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reportpipe"):
            found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module for a in node.names}
    return found


def test_every_room_is_on_a_floor_and_every_module_in_a_room():
    rooms = {room(m) for m in modules() if m != "reportpipe"}
    assert rooms == {r for floor in FLOORS for r in floor}


def test_imports_go_down_never_up_or_sideways():
    floor = {r: i for i, rooms in enumerate(FLOORS) for r in rooms}
    wrong = []
    for module, path in modules().items():
        for target in imports(path):
            if target == "reportpipe" or room(target) == room(module):
                continue
            if floor[room(target)] <= floor[room(module)]:
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_no_import_comes_back_to_where_it_started():
    graph = {m: {t for t in imports(p) if t in modules() and t != m} for m, p in modules().items()}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError(" → ".join(path[path.index(module):] + [module]))
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_no_module_is_longer_than_a_reader_can_hold():
    long = {m: n for m, p in modules().items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_test_module_imports_another():
    tests = ROOT / "tests"
    helpers = {p for p in tests.rglob("*.py") if not p.name.startswith("test_")}
    wrong = [f"{p.relative_to(ROOT)} imports {t}" for p in tests.rglob("test_*.py")
             for t in imports_of_tests(p) if (ROOT / (t.replace(".", "/") + ".py")) not in helpers]
    assert wrong == []


def imports_of_tests(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tests"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("tests")}
    return found
