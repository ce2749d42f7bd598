"""Module boundaries in bench/: no module imports another's private names."""

from __future__ import annotations

import ast
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench"


def test_no_private_name_is_imported_from_another_module() -> None:
    reach_ins = []
    for path in sorted(BENCH.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                reach_ins += [
                    f"{path.relative_to(BENCH.parent)}:{node.lineno}: {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
    assert not reach_ins, "private names imported across modules:\n" + "\n".join(reach_ins)
