"""The package's layers (docs/DESIGN.md): each module imports only stages below it, no circles,
no private names across modules.  Read from the source with `ast`, so every import counts,
including those inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: stage of each module, from the data's path: text -> atoms -> bytes -> LMDB -> plan/bindings
#: -> evaluation -> services -> CLI.  A module may import its own stage or lower ones.
STAGES: dict[str, int] = {
    "errors": 0, "printable": 0, "atoms": 0, "tokens": 0,
    "parser": 1, "grammar": 1, "modtext": 1, "asciitext": 1,
    "encoding": 2, "keys": 2, "layout": 2, "transcode": 2, "bulk": 2, "interchange": 2, "pload": 2, "trieorder": 2,
    "env": 3, "writer": 3, "store": 3, "loading": 3, "check": 3,
    "bindings": 4, "unify": 4, "pattern": 4, "plan": 4, "query": 4, "spaces": 4,
    "interp": 5,
    "batch": 6, "parallel": 6, "dask": 6, "runner": 6, "repl": 6, "space": 6, "hyperon": 6, "progress": 6,
    "migrations": 6,
    "cli": 7,
    "": 6,  # the package facade, mettadb/__init__.py (re-exports; the CLI uses it)
}


def _modules() -> dict[str, Path]:
    out = {}
    for folder, dotted in (("mettadb", "mettadb"), ("cli", "mettadb.cli"), ("migrations", "mettadb.migrations")):
        for p in sorted((ROOT / folder).rglob("*.py")):
            rel = p.relative_to(ROOT / folder).with_suffix("")
            parts = [x for x in rel.parts if x != "__init__"]
            out[".".join([dotted, *parts])] = p
    return out


MODULES = _modules()


def _stage(module: str) -> int:
    rest = module.split(".")[1:]
    return STAGES[rest[0] if rest else ""]


def _imports(module: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import of a mettadb module."""
    pkg = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("mettadb"):
                continue
            names = [a.name for a in node.names]
            # `from . import env` imports the module mettadb.env
            subs = [n for n in names if f"{target}.{n}" in MODULES]
            for n in subs:
                out.append((f"{target}.{n}", [], node.lineno))
            rest = [n for n in names if n not in subs]
            if rest or not subs:
                out.append((target, rest, node.lineno))
        elif isinstance(node, ast.Import):
            out.extend((a.name, [], node.lineno) for a in node.names if a.name.startswith("mettadb"))
    return out


def test_the_stage_table_names_every_module():
    assert {m.split(".")[1] if "." in m else "" for m in MODULES} <= set(STAGES)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_stages(module):
    mine = _stage(module)
    bad = [f"line {line}: {target} (stage {_stage(target)})" for target, _names, line in _imports(module, MODULES[module])
           if target != module and not target.startswith(module + ".") and _stage(target) > mine]
    assert not bad, f"{module} (stage {mine}) imports from above: {bad}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_names_cross_modules(module):
    bad = [f"line {line}: {n} from {target}" for target, names, line in _imports(module, MODULES[module])
           if target != module for n in names if n.startswith("_")]
    assert not bad, bad


def test_no_import_circles():
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        deps = set()
        for target, _names, _line in _imports(module, path):
            if target == module or target.startswith(module + ".") or module.startswith(target + "."):
                continue  # a package and its own submodules
            deps.add(target)
        graph[module] = deps & set(MODULES)
    # Tarjan-free check: a module may not reach itself
    for start in graph:
        seen: set[str] = set()
        stack = list(graph[start])
        while stack:
            m = stack.pop()
            assert m != start, f"import circle through {start}"
            if m not in seen:
                seen.add(m)
                stack.extend(graph.get(m, ()))


def test_the_checker_sees_a_violation(tmp_path):
    """The rules above can fail: a made-up module importing upward is caught."""
    p = tmp_path / "fake.py"
    p.write_text("from .interp import _private\n", encoding="utf-8")
    imports = _imports("mettadb.store_fake", p)
    assert imports == [("mettadb.interp", ["_private"], 1)]
    assert _stage("mettadb.interp") > _stage("mettadb.store")
