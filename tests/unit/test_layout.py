"""The folder tells which environment runs a module (issue 17, bot/__init__.py).

bot/core is imported by both Python environments, so it may import only the standard library,
PyYAML, sqlite-utils, packages pinned in both requirement files, and itself; an import guarded by
``except ImportError`` is an optional extra (lingua on the Rasa side). The web side never imports
the Rasa side (bot/nlu), neither directly nor through another bot module.
"""
import ast
import sys
from pathlib import Path

import pytest

from bot import PROJECT_ROOT

BOT = PROJECT_ROOT / "bot"
# Third-party modules the core may import: module name -> distribution pinned in both requirement files.
CORE_THIRD_PARTY = {"yaml": "PyYAML", "sqlite_utils": "sqlite-utils", "holidays": "holidays"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def guarded_by_import_error(handlers) -> bool:
    names = []
    for handler in handlers:
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        names += [kind.id for kind in kinds if isinstance(kind, ast.Name)]
    return "ImportError" in names or "ModuleNotFoundError" in names


def imports(source: str, module: str, is_package: bool = False):
    """(imported module name, optional) for every import in the source, relative ones resolved."""
    found = []

    def visit(node, optional):
        if isinstance(node, ast.Try):
            guarded = optional or guarded_by_import_error(node.handlers)
            for child in node.body:
                visit(child, guarded)
            for child in node.handlers + node.orelse + node.finalbody:
                visit(child, optional)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, optional) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".")
                package = package if is_package else package[:-1]
                base = ".".join(package[: len(package) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module
            for alias in node.names:
                # ``from bot.core import store`` imports the module bot.core.store
                found.append((f"{target}.{alias.name}" if is_module(f"{target}.{alias.name}") else target, optional))
        for child in ast.iter_child_nodes(node):
            visit(child, optional)

    visit(ast.parse(source), False)
    return found


def is_module(name: str) -> bool:
    path = PROJECT_ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def core_violations(source: str, module: str):
    bad = []
    for name, optional in imports(source, module):
        top = name.split(".")[0]
        if optional or top in sys.stdlib_module_names or top == "__future__" or top in CORE_THIRD_PARTY:
            continue
        if name == "bot" or name == "bot.core" or name.startswith("bot.core."):
            continue  # bot/__init__.py itself is standard library only (PROJECT_ROOT)
        bad.append(name)
    return bad


def core_files():
    return sorted((BOT / "core").rglob("*.py"))


def test_core_modules_are_found():
    names = {module_name(path) for path in core_files()}
    assert {"bot.core.store", "bot.core.routing", "bot.core.danger", "bot.core.textnorm"} <= names


@pytest.mark.parametrize("path", core_files(), ids=lambda path: path.name)
def test_core_imports_only_stdlib_yaml_sqlite_utils_and_core(path):
    assert core_violations(path.read_text(encoding="utf-8"), module_name(path)) == []


def test_bot_package_init_is_standard_library_only():
    source = (BOT / "__init__.py").read_text(encoding="utf-8")
    assert all(name.split(".")[0] in sys.stdlib_module_names or name == "__future__"
               for name, _ in imports(source, "bot", is_package=True))


def test_core_third_party_packages_are_pinned_in_both_environments():
    for requirements in ("rasa.txt", "web.txt"):
        pinned = {line.split("==")[0].strip().lower()
                  for line in (PROJECT_ROOT / "requirements" / requirements).read_text().splitlines()
                  if "==" in line and not line.lstrip().startswith("#")}
        assert {dist.lower() for dist in CORE_THIRD_PARTY.values()} <= pinned, requirements


def test_the_core_check_catches_what_it_should():
    source = (
        "import os\nimport yaml\nfrom bot import PROJECT_ROOT\nfrom bot.core.textnorm import normalize_text\n"
        "from . import fields\n"
        "try:\n    import lingua\nexcept ImportError:\n    lingua = None\n"
        "import requests\nfrom bot.web import texts\nfrom ..nlu import text_models\n"
        "def later():\n    import sklearn\n"
    )
    assert core_violations(source, "bot.core.example") == ["requests", "bot.web.texts", "bot.nlu.text_models", "sklearn"]


def bot_imports_closure(start):
    """Every bot module reachable from the start modules through imports (direct or nested)."""
    seen, todo = set(), list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = PROJECT_ROOT.joinpath(*name.split("."))
        package = (path / "__init__.py").is_file()
        file = path / "__init__.py" if package else path.with_suffix(".py")
        for imported, _ in imports(file.read_text(encoding="utf-8"), name, is_package=package):
            parts = imported.split(".")
            if parts[0] != "bot":
                continue
            # importing bot.a.b runs bot/__init__, bot/a/__init__ and bot/a/b
            todo.extend(".".join(parts[:i]) for i in range(1, len(parts) + 1) if is_module(".".join(parts[:i])))
    return seen


def test_web_side_never_imports_the_rasa_side():
    web = [module_name(path) for path in sorted((BOT / "web").rglob("*.py"))]
    assert len(web) > 10
    reached = bot_imports_closure(web)
    assert "bot.core.store" in reached  # the walk does follow imports
    assert sorted(name for name in reached if name == "bot.nlu" or name.startswith("bot.nlu.")) == []


def test_core_never_reaches_other_bot_folders():
    reached = bot_imports_closure([module_name(path) for path in core_files()])
    assert sorted(name for name in reached if name not in ("bot", "bot.core") and not name.startswith("bot.core.")) == []
