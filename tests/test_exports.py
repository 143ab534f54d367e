"""A module's `__all__` is its public face: what other packages import from it is listed there, and every name
listed exists (httpx's `test_exported_members`). Imports inside one package are free."""

from __future__ import annotations

import ast
import importlib
from collections import defaultdict
from pathlib import Path

import centralita

SRC = Path(centralita.__file__).resolve().parent


def _module(path: Path) -> str:
    return ".".join(path.relative_to(SRC.parent).with_suffix("").parts)


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cross_package_imports() -> dict[str, set[tuple[str, str]]]:
    """Module → (name, importing module) for every `from centralita.x.y import name` across packages."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        here = _module(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("centralita.")
                and _package(node.module) != _package(here)
            ):
                found[node.module] |= {(alias.name, here) for alias in node.names}
    return found


def test_what_other_packages_import_is_in_all() -> None:
    problems = []
    for module, names in sorted(_cross_package_imports().items()):
        imported = importlib.import_module(module)
        if hasattr(imported, "__path__"):  # a package: its modules are imported, each checked on its own
            continue
        public = getattr(imported, "__all__", None)
        if public is None:
            problems.append(f"{module} has no __all__ but {sorted({i for _n, i in names})} import from it")
            continue
        problems += [
            f"{who} imports {name} from {module}: not in its __all__" for name, who in names if name not in public
        ]
    assert not problems, "\n".join(problems)


def test_every_name_in_all_exists() -> None:
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "__main__.py" or "migrations" in path.parts:
            continue  # runs the CLI when imported; migrations are loaded by Alembic, not imported
        module = importlib.import_module(_module(path).removesuffix(".__init__"))
        for name in getattr(module, "__all__", ()):
            assert hasattr(module, name), f"{module.__name__}.__all__ lists {name}, which it does not define"
