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
WRITERS = ("bot/services/", "bot/engine/rounds.py", "bot/engine/checkpoints.py", "bot/db/")
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


HELPERS = ("cogs.delivery", "cogs.utils")  # the Discord side's shared packages; everything else is a feature


def feature_of(module: str) -> str | None:
    """The cog (feature) a module of cogs/ belongs to, or None for the helper packages and the bot class."""
    parts = module.split(".")
    if not module.startswith("cogs.") or module.startswith(HELPERS) or module == "cogs.client":
        return None
    return ".".join(parts[:2])


def test_cogs_do_not_import_each_other() -> None:
    """Shared Discord code lives in cogs/delivery and cogs/utils; a cog importing another cog is a helper in
    the wrong place (a feature package may import its own private modules)."""
    graph = import_graph()
    problems = [f"{module} -> {target}" for module, targets in graph.items() if (own := feature_of(module))
                for target in targets if feature_of(target) not in (None, own) or target == "cogs.client"]
    assert problems == []


def test_the_discord_side_is_layered() -> None:
    """Delivery (how answers reach Discord) knows no glue and no feature; the glue knows no feature; at run
    time nothing of cogs/ imports the bot class (annotations under TYPE_CHECKING only)."""
    graph = import_graph()
    delivery = {m: t for m, t in graph.items() if m.startswith("cogs.delivery")}
    glue = {m: t for m, t in graph.items() if m.startswith("cogs.utils")}
    assert len(delivery) >= 10 and len(glue) >= 5, "the scan found too few modules"
    problems = [f"{m} -> {t}" for m, targets in delivery.items() for t in targets
                if t.startswith("cogs.") and not t.startswith("cogs.delivery")]
    problems += [f"{m} -> {t}" for m, targets in glue.items() for t in targets
                 if t.startswith("cogs.") and not t.startswith(HELPERS)]
    problems += [f"{m} -> cogs.client" for m, targets in graph.items() if "cogs.client" in targets and m != "bot.cli"]
    problems += [f"{m} -> {t}" for m, targets in graph.items() if m.startswith("bot") for t in targets
                 if t.startswith("cogs") and m != "bot.cli"]  # `moai run` launches the Discord side
    assert problems == []


def test_delivery_declares_its_surface() -> None:
    """Every module of the Discord side names what it offers (`__all__`), the delivery package first of all."""
    missing = [module_name(p) for p in sources("cogs/delivery") + sources("cogs/utils")
               if p.name != "__init__.py" and "__all__" not in p.read_text()]
    assert missing == []


def test_test_modules_share_helpers_not_each_other() -> None:
    """Shared test code lives in tests/helpers.py and the doubles, never in another test module."""
    importing = [p.name for p in sorted((ROOT / "tests").glob("test_*.py"))
                 if any(isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests.test_")
                        for node in ast.walk(ast.parse(p.read_text())))]
    assert importing == []


def test_py_typed_ships() -> None:
    """The packages say they are typed (PEP 561), and the build includes the marker."""
    assert (ROOT / "bot" / "py.typed").exists() and (ROOT / "cogs" / "py.typed").exists()
    assert '"bot" = ["py.typed"]' in (ROOT / "pyproject.toml").read_text()


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """A write outside the services and a model held by a cog are caught (the scans above are not empty)."""
    bad = tmp_path / "bad.py"
    bad.write_text("from bot.db.models import Message\n\nasync def f(d):\n    await Message.filter(id=1).delete()\n"
                   "    await d.save()\n")
    assert writes(bad) == ["4 .delete()", "5 .save()"]


def runtime_imports(path: Path) -> set[str]:
    """The project modules `path` imports when it runs: at module level or inside functions, but not under
    `if TYPE_CHECKING:` (annotations only). `from a import b` counts `a.b` where that is a module."""
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node.test)
                   for child in node.body for n in ast.walk(child)}
    found: set[str] = set()
    name = module_name(path) if path.is_relative_to(ROOT) else path.stem
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in ("bot", "cogs")}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports at run time (a package's import runs its __init__ too)."""
    paths = {module_name(p): p for p in sources("bot") + sources("cogs")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        edges = set()
        for target in runtime_imports(path):
            while target and target not in paths:  # `from bot.x import name`: the module is bot.x
                target = target.rpartition(".")[0]
            # Importing bot.a.b runs bot.a's __init__ first; a module's own packages are imported before it by
            # Python itself, so they are never a cycle of ours.
            while target:
                if target != name and not name.startswith(target + ".") and target in paths:
                    edges.add(target)
                target = target.rpartition(".")[0]
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each a runtime import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_runtime_import_cycle() -> None:
    """Read from the source (milliseconds): a module that imports, at run time, one that imports it back."""
    graph = import_graph()
    assert len(graph) > 50, "the scan found too few modules"
    assert cycles(graph) == []


def test_the_cycle_check_can_fail() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_type_only_imports_are_not_edges(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from typing import TYPE_CHECKING\nimport bot.config\nif TYPE_CHECKING:\n"
                      "    from cogs.client import MoaiBot\ndef f():\n    from bot.text import clean_text\n")
    assert runtime_imports(module) == {"bot.config", "bot.text", "bot.text.clean_text"}


def test_every_module_imports() -> None:
    """Every module imports in a fresh process (a missing name or a broken import fails here)."""
    names = [module_name(p) for p in sources("bot") + sources("cogs") if p.name != "__main__.py"]
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    result = subprocess.run([sys.executable, "-c", code, *names], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
