"""Mutation testing of the money and rating code: `python -m tests.mutation [--sample N] [--jobs J]`.

Each mutant changes one operator or constant in a target module (a comparison, arithmetic, a boolean
operator, a number, True/False, a `+=`); the module's tests run against it in a copy of the tree, and the
mutant is killed when they fail (or hang). What survives is printed with its line, to be killed by a
better test or explained as equivalent in README.md. An equivalent of mutmut, small enough to run in CI's
time on the four modules that decide who pays and who wins.
"""

from __future__ import annotations

import argparse
import ast
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each target and the tests that must notice a change in it (SQLite only: the logic is the same on both).
TARGETS: dict[str, list[str]] = {
    "bot/services/admission.py": ["tests/test_services.py", "tests/test_roundtable.py", "tests/test_mutants.py"],
    "bot/services/budget.py": ["tests/test_services.py", "tests/test_projects_usage.py", "tests/test_mutants.py"],
    "bot/services/ledger.py": ["tests/test_ledger.py", "tests/test_billing.py", "tests/test_mutants.py",
                               "tests/test_search.py"],
    "bot/search/pricing.py": ["tests/test_search.py", "tests/test_mutants.py"],
    "bot/forecasting/scores.py": ["tests/test_forecast_scores.py"],
    "bot/arena/ratings.py": ["tests/test_ratings.py", "tests/test_mutants.py"],
    "bot/arena/style.py": ["tests/test_ratings.py"],
}
TIMEOUT = 120.0

SWAPS: dict[type[ast.AST], type[ast.AST]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.And: ast.Or, ast.Or: ast.And,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
}


@dataclass(frozen=True)
class Mutant:
    path: str
    line: int
    what: str
    source: str  # the whole mutated module


def docstring_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            lines.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
    return lines


def points(tree: ast.Module) -> list[ast.AST]:
    """The nodes a mutant may change, in a fixed order: not docstrings, not annotations."""
    skip = docstring_lines(tree)
    annotations = {id(n) for node in ast.walk(tree) for field in ("annotation", "returns")
                   if (a := getattr(node, field, None)) is not None for n in ast.walk(a)}
    # Decorator arguments (dataclass(frozen=True, slots=True)) change no behaviour a test could see.
    decorators = {id(n) for node in ast.walk(tree) for d in getattr(node, "decorator_list", []) for n in ast.walk(d)}
    return [n for n in ast.walk(tree) if id(n) not in annotations | decorators
            and getattr(n, "lineno", 0) not in skip]


def mutants(path: str) -> Iterator[Mutant]:
    """Every single-point mutant of the module."""
    source = (ROOT / path).read_text()
    for index, node in enumerate(points(ast.parse(source))):
        for number, (what, _) in enumerate(_changes(node)):
            fresh = ast.parse(source)
            twin = points(fresh)[index]
            change = list(_changes(twin))[number][1]
            change(twin)  # type: ignore[operator]
            yield Mutant(path, getattr(node, "lineno", 0), what, ast.unparse(fresh))


def _changes(node: ast.AST) -> Iterator[tuple[str, object]]:
    if isinstance(node, ast.Compare):
        for position, op in enumerate(node.ops):
            if type(op) in SWAPS:
                new = SWAPS[type(op)]
                yield (f"{type(op).__name__} -> {new.__name__}",
                       lambda n, p=position, new=new: n.ops.__setitem__(p, new()))  # type: ignore[attr-defined]
    elif isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in SWAPS:
        new = SWAPS[type(node.op)]
        yield f"{type(node.op).__name__} -> {new.__name__}", lambda n, new=new: setattr(n, "op", new())
    elif isinstance(node, ast.BoolOp) and type(node.op) in SWAPS:
        new = SWAPS[type(node.op)]
        yield f"{type(node.op).__name__} -> {new.__name__}", lambda n, new=new: setattr(n, "op", new())
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "not x -> x", lambda n: setattr(n, "op", ast.UAdd())  # +bool(x) is x
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield f"{node.value} -> {not node.value}", lambda n: setattr(n, "value", not n.value)
    elif isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        yield f"{node.value!r} -> {node.value!r} + 1", lambda n: setattr(n, "value", n.value + 1)


def run_one(mutant: Mutant, workdir: Path) -> bool:
    """True when the tests kill the mutant."""
    target = workdir / mutant.path
    original = target.read_text()
    target.write_text(mutant.source)
    try:
        env = {**os.environ, "MOAI_TEST_DATABASES": "sqlite", "PYTHONDONTWRITEBYTECODE": "1"}
        result = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-n0", "-p", "no:randomly",
                                 "-p", "no:cacheprovider", "--durations=0", *TARGETS[mutant.path]], cwd=workdir,
                                env=env, capture_output=True, timeout=TIMEOUT, check=False)
        return result.returncode != 0
    except subprocess.TimeoutExpired:
        return True
    finally:
        target.write_text(original)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=int, default=0, help="mutants per module, chosen at random (0: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--module", action="append", help="only these targets")
    args = parser.parse_args()
    chosen: list[Mutant] = []
    rng = random.Random(args.seed)
    for path in args.module or list(TARGETS):
        found = list(mutants(path))
        chosen += rng.sample(found, min(args.sample, len(found))) if args.sample else found
    workdirs = []
    for number in range(args.jobs):
        copy = Path(tempfile.mkdtemp(prefix=f"moai-mutants-{number}-"))
        shutil.copytree(ROOT, copy, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.sqlite3*"))
        workdirs.append(copy)
    started = time.monotonic()
    free: queue.SimpleQueue[Path] = queue.SimpleQueue()  # a copy is lent to one mutant at a time
    for copy in workdirs:
        free.put(copy)

    def judge(mutant: Mutant) -> bool:
        workdir = free.get()
        try:
            return run_one(mutant, workdir)
        finally:
            free.put(workdir)

    with ThreadPoolExecutor(args.jobs) as pool:
        verdicts = list(pool.map(judge, chosen))
    for copy in workdirs:
        shutil.rmtree(copy, ignore_errors=True)
    survivors = [m for m, killed in zip(chosen, verdicts, strict=True) if not killed]
    for path in args.module or list(TARGETS):
        mine = [killed for m, killed in zip(chosen, verdicts, strict=True) if m.path == path]
        print(f"{path}: {sum(mine)}/{len(mine)} killed")
    for mutant in survivors:
        print(f"SURVIVED {mutant.path}:{mutant.line} {mutant.what}")
    score = 1 - len(survivors) / len(chosen) if chosen else 1.0
    print(f"{len(chosen) - len(survivors)}/{len(chosen)} killed ({score:.0%}) in {time.monotonic() - started:.0f} s")
    return 0 if score >= 0.85 else 1


if __name__ == "__main__":
    sys.exit(main())
