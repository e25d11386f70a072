"""The architecture, checked: writes to discussion tables only through the services, cogs without the ORM
and without each other, and every module importable on its own (no import cycles).

The Discord ban on the core is ruff's (TID251 in pyproject.toml, cogs/ruff.toml); these are what ruff cannot say.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

from tortoise.models import Model

ROOT = Path(__file__).resolve().parent.parent
# Where rows may be written: the services, the round engine's own answer rows, and storage itself.
WRITERS = ("bot/services/", "bot/engine/rounds.py", "bot/db/")
WRITE_METHODS = {"create", "bulk_create", "bulk_update", "get_or_create", "update_or_create", "select_for_update",
                 "update", "delete", "save"}
INSTANCE_WRITES = {"save", "delete", "update_from_dict", "refresh_from_db"}
DISCORD_KEYWORDS = {"reason", "delay"}  # thread.delete(reason=...), message.delete(delay=...): Discord, not rows
FILE_KEYWORDS = {"format"}  # image.save(buffer, format="PNG"): Pillow writing bytes, not a row


def sources(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def model_names(tree: ast.Module) -> set[str]:
    """Names bound to ORM model classes by `from bot.db.models import ...` (enums are not models)."""
    models_module = importlib.import_module("bot.db.models")
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "bot.db.models":
            for alias in node.names:
                value = getattr(models_module, alias.name, None)
                if isinstance(value, type) and issubclass(value, Model):
                    names.add(alias.asname or alias.name)
    return names


def root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def writes(path: Path) -> list[str]:
    """`line .method()` for each ORM write: a write method on a model class, or a save/delete on anything."""
    tree = ast.parse(path.read_text())
    models = model_names(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        on_model = method in WRITE_METHODS and root_name(node.func.value) in models
        discord_call = method == "delete" and any(k.arg in DISCORD_KEYWORDS for k in node.keywords)
        file_call = method == "save" and any(k.arg in FILE_KEYWORDS for k in node.keywords)
        if on_model or (method in INSTANCE_WRITES and not discord_call and not file_call):
            found.append(f"{node.lineno} .{method}()")
    return found


def where(path: Path, found: list[str]) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line}" for line in found]


def test_rows_are_written_only_by_the_services() -> None:
    outside = [p for p in sources("bot") if not str(p.relative_to(ROOT)).startswith(WRITERS)]
    assert outside, "the scan found no files"
    assert [w for p in outside for w in where(p, writes(p))] == []


def test_cogs_hold_no_models_and_write_nothing() -> None:
    """Cogs may name model types in annotations (TYPE_CHECKING) but never hold one at run time."""
    problems = []
    for path in sources("cogs"):
        module = importlib.import_module(module_name(path))
        problems += [f"{path.relative_to(ROOT)}: {name}" for name, value in vars(module).items()
                     if isinstance(value, type) and issubclass(value, Model)]
        problems += where(path, writes(path))
    assert problems == []


def test_cogs_do_not_import_each_other() -> None:
    """Shared Discord helpers live in cogs/utils; a cog importing another cog is a helper in the wrong place."""
    problems = []
    for path in sorted((ROOT / "cogs").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cogs."):
                if not node.module.startswith("cogs.utils"):
                    problems.append(f"{path.name}: from {node.module}")
    assert problems == []


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """A write outside the services and a model held by a cog are caught (the scans above are not empty)."""
    bad = tmp_path / "bad.py"
    bad.write_text("from bot.db.models import Message\n\nasync def f(d):\n    await Message.filter(id=1).delete()\n"
                   "    await d.save()\n")
    assert writes(bad) == ["4 .delete()", "5 .save()"]


IMPORT_EACH = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.split('.')[0] in ('bot', 'cogs')]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as error:
        failed.append(f"{name}: {type(error).__name__}: {error}")
print("\\n".join(failed))
"""


def test_every_module_imports_first() -> None:
    """Each module imported first, in a process where nothing of ours is loaded yet: no import cycles."""
    names = [module_name(p) for p in sources("bot") + sources("cogs") if p.name != "__main__.py"]
    result = subprocess.run([sys.executable, "-c", IMPORT_EACH, *names], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
