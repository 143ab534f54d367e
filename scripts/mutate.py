"""Mutation testing of one module: small bugs made one at a time, each run against the tests that reach it.

    .venv/bin/python scripts/mutate.py src/centralita/access.py          # every mutant, 2 at a time
    .venv/bin/python scripts/mutate.py src/centralita/api/auth.py --list # the mutants, not run
    .venv/bin/python scripts/mutate.py src/centralita/access.py --only 12,40 --verbose

Mutations (on the module's AST): comparisons flipped (`==`/`!=`, `<`/`>=`, ..., `in`/`not in`, `is`/`is not`)
and moved across the boundary (`<`/`<=`); `and`/`or` swapped and each operand dropped; `not` removed;
`if`/`while`/ternary conditions negated; a function's return value replaced (`True`, `False`, `None`);
constants changed (numbers +1, 0 to 1, strings emptied, booleans flipped); arithmetic and `&`/`|`
swapped; one statement of a function body dropped; one argument of `or_`/`and_`/`where` dropped; one
element of a tuple, list or set literal dropped (not of a record inside one, nor a type's parameters).
Docstrings, messages (`_()` arguments), annotations, `__all__` and the `Served` alias are left alone.

How it runs: first the module's tests run once unmutated under a line tracer (this file is also the
pytest plugin that traces), which records which tests execute each line of the module; every test must
pass. Then each mutant is written into a private copy of the package (the worktree is never touched) and
run in a child forked from this process, which has imported the third-party libraries once: the child
puts the copy first on `sys.path` and runs only the tests that executed the mutated lines (`-x`: the
first failure kills it; a mutant of a line run at import or outside any test runs them all). A mutant
no test reaches survives without a run. Killed: a test failed (or the run timed out, or the module no
longer imports); survived: all passed.

The default tests per module are in `DEFAULT_TESTS` (SQLite only: `-k "not postgresql"`); `--tests` and
`-k` choose others. `--json FILE` writes every result.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "centralita"

DEFAULT_TESTS: dict[str, list[str]] = {
    "src/centralita/access.py": [
        "tests/test_access.py",
        "tests/api",
        "tests/dispatch/test_transfer_access.py",
        "tests/dispatch/test_live_state.py",
        "tests/test_access_mutants.py",
    ],
    "src/centralita/api/auth.py": [
        "tests/api/test_auth.py",
        "tests/test_access.py",
        "tests/api",
        "tests/api/test_auth_mutants.py",
    ],
}
DEFAULT_K = "not postgresql"
SKIPPED_NAMES = {"__all__", "Served"}  # the export list; a type alias
COMPARE_SWAPS: dict[type[ast.cmpop], list[type[ast.cmpop]]] = {
    ast.Eq: [ast.NotEq],
    ast.NotEq: [ast.Eq],
    ast.Lt: [ast.GtE, ast.LtE],
    ast.LtE: [ast.Gt, ast.Lt],
    ast.Gt: [ast.LtE, ast.GtE],
    ast.GtE: [ast.Lt, ast.Gt],
    ast.In: [ast.NotIn],
    ast.NotIn: [ast.In],
    ast.Is: [ast.IsNot],
    ast.IsNot: [ast.Is],
}
BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
}
DROPPABLE_ARGS = {"or_", "and_", "where"}


# --- mutants ------------------------------------------------------------------------------------------------


@dataclass
class Mutant:
    index: int
    line: int  # where the mutated node starts
    lines: tuple[int, int]  # the statement lines whose tests it runs
    kind: str
    what: str
    node: int  # position of the node in ast.walk order
    arg: Any = None
    at_import: bool = False  # outside any function body: run every test
    source: str = ""  # the mutated statement's first line, as mutated
    status: str = ""  # killed, survived, no-tests, timeout, error
    tests_run: int = 0
    seconds: float = 0.0
    killed_by: str = ""


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _op(op: ast.AST) -> str:
    return {
        ast.Eq: "==",
        ast.NotEq: "!=",
        ast.Lt: "<",
        ast.LtE: "<=",
        ast.Gt: ">",
        ast.GtE: ">=",
        ast.In: "in",
        ast.NotIn: "not in",
        ast.Is: "is",
        ast.IsNot: "is not",
        ast.And: "and",
        ast.Or: "or",
        ast.Add: "+",
        ast.Sub: "-",
        ast.Mult: "*",
        ast.Div: "/",
        ast.FloorDiv: "//",
        ast.BitAnd: "&",
        ast.BitOr: "|",
    }.get(type(op), type(op).__name__)


class _Context:
    """What the walk needs to know about each node: its parent, its statement, whether it is left alone."""

    def __init__(self, tree: ast.Module) -> None:
        self.parent: dict[int, ast.AST] = {}
        self.frozen: set[int] = set()  # ids of nodes never mutated (docstrings, messages, annotations)
        self.in_function: set[int] = set()
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parent[id(child)] = node
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in {"_", "ngettext"}:
                self._freeze_args(node)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                    if arg.annotation is not None:
                        self._freeze(arg.annotation)
                if node.returns is not None:
                    self._freeze(node.returns)
                for stmt in node.body:
                    for sub in ast.walk(stmt):
                        self.in_function.add(id(sub))
            if isinstance(node, ast.AnnAssign):
                self._freeze(node.annotation)
            if isinstance(node, ast.Assign) and any(_name(t) in SKIPPED_NAMES for t in node.targets):
                self._freeze(node)
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and _is_docstring(body[0]):
                self._freeze(body[0])
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                for deco in node.decorator_list:
                    self._freeze(deco)

    def _freeze(self, node: ast.AST) -> None:
        self.frozen.update(id(sub) for sub in ast.walk(node))

    def _freeze_args(self, call: ast.Call) -> None:
        for arg in call.args:
            self._freeze(arg)

    def statement(self, node: ast.AST) -> ast.stmt:
        while not isinstance(node, ast.stmt):
            node = self.parent[id(node)]
        return node


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _returns_bool(ctx: _Context, node: ast.AST) -> bool | None:
    """Whether the function around `node` is annotated `-> bool` (None: not in a function)."""
    cur: ast.AST | None = node
    while cur is not None and not isinstance(cur, ast.FunctionDef | ast.AsyncFunctionDef):
        cur = ctx.parent.get(id(cur))
    if cur is None:
        return None
    return isinstance(cur.returns, ast.Name) and cur.returns.id == "bool"


def find_mutants(tree: ast.Module) -> list[Mutant]:
    ctx = _Context(tree)
    found: list[Mutant] = []

    def add(pos: int, node: ast.AST, kind: str, what: str, arg: Any = None) -> None:
        stmt = ctx.statement(node)
        compound = isinstance(stmt, ast.If | ast.While | ast.For | ast.With | ast.Try | ast.FunctionDef)
        if kind == "drop-stmt":
            span = (stmt.lineno, stmt.lineno if compound else stmt.end_lineno or stmt.lineno)
        elif compound:
            span = (getattr(node, "lineno", stmt.lineno), getattr(node, "end_lineno", None) or stmt.lineno)
        else:
            span = (stmt.lineno, stmt.end_lineno or stmt.lineno)
        line = getattr(node, "lineno", stmt.lineno)
        at_import = id(node) not in ctx.in_function
        found.append(Mutant(len(found), line, span, kind, what, pos, arg, at_import))

    for pos, node in enumerate(ast.walk(tree)):
        if id(node) in ctx.frozen:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                for new in COMPARE_SWAPS.get(type(op), []):
                    add(pos, node, "compare", f"{_op(op)} -> {_op(new())}", (i, new))
        elif isinstance(node, ast.BoolOp):
            other = ast.Or if isinstance(node.op, ast.And) else ast.And
            add(pos, node, "boolop", f"{_op(node.op)} -> {_op(other())}")
            for i in range(len(node.values)):
                add(pos, node, "drop-operand", f"drop operand {i + 1} of {_op(node.op)}", i)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            add(pos, node, "not", "drop not")
        elif isinstance(node, ast.If | ast.While | ast.IfExp):
            add(pos, node, "negate", f"negate the {type(node).__name__.lower()} condition")
        elif isinstance(node, ast.Return) and node.value is not None:
            boolean = _returns_bool(ctx, node)
            options: list[bool | None] = [True, False] if boolean else [None]
            for result in options:
                if isinstance(node.value, ast.Constant) and node.value.value is result:
                    continue
                add(pos, node, "return", f"return {result}", result)
        elif isinstance(node, ast.Constant) and not isinstance(node.value, bytes):
            value: Any = node.value
            if isinstance(value, bool):
                add(pos, node, "constant", f"{value} -> {not value}", not value)
            elif isinstance(value, int | float):
                number = value + 1 if value != 0 else 1
                add(pos, node, "constant", f"{value!r} -> {number!r}", number)
            elif isinstance(value, str):
                new_s = "" if value else "XX"
                add(pos, node, "constant", f"{value!r} -> {new_s!r}", new_s)
        elif isinstance(node, ast.BinOp) and type(node.op) in BINOP_SWAPS:
            new_op = BINOP_SWAPS[type(node.op)]
            add(pos, node, "binop", f"{_op(node.op)} -> {_op(new_op())}", new_op)
        elif isinstance(node, ast.Call) and _name(node.func) in DROPPABLE_ARGS and len(node.args) >= 2:
            for i in range(len(node.args)):
                add(pos, node, "drop-arg", f"drop argument {i + 1} of {_name(node.func)}()", i)
        elif isinstance(node, ast.Tuple | ast.List | ast.Set) and len(node.elts) >= 2:
            parent = ctx.parent.get(id(node))
            if isinstance(parent, ast.Assign | ast.For | ast.comprehension) and node in _targets(parent):
                continue  # an unpacking target
            if isinstance(parent, ast.Subscript | ast.Tuple | ast.List):
                continue  # a type's parameters (`Annotated[...]`), a record in a list of records
            for i in range(len(node.elts)):
                add(pos, node, "drop-element", f"drop element {i + 1} of the {type(node).__name__.lower()}", i)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.If | ast.For | ast.While | ast.With):
            bodies = [("body", node.body)]
            if isinstance(node, ast.If | ast.For | ast.While) and node.orelse:
                bodies.append(("orelse", node.orelse))
            for name, body in bodies:
                for i, stmt in enumerate(body):
                    if id(stmt) in ctx.frozen or isinstance(stmt, ast.Pass) or _is_docstring(stmt):
                        continue
                    if isinstance(stmt, ast.Return):
                        continue  # its value is mutated instead
                    add(pos, stmt, "drop-stmt", f"drop `{ast.unparse(stmt).splitlines()[0]}`", (name, i))
    return found


def _targets(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, ast.For | ast.comprehension):
        return [node.target]
    return []


def apply(tree: ast.Module, mutant: Mutant) -> tuple[ast.Module, ast.AST]:
    """A mutated copy of the tree and the node that changed (for showing it)."""
    tree = copy.deepcopy(tree)
    node = list(ast.walk(tree))[mutant.node]
    shown: ast.AST = node
    kind, arg = mutant.kind, mutant.arg
    if kind == "compare":
        assert isinstance(node, ast.Compare)
        i, new = arg
        node.ops[i] = new()
    elif kind == "boolop":
        assert isinstance(node, ast.BoolOp)
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "drop-operand":
        assert isinstance(node, ast.BoolOp)
        del node.values[arg]
        if len(node.values) == 1:
            shown = _replace(tree, node, node.values[0])
    elif kind == "not":
        assert isinstance(node, ast.UnaryOp)
        shown = _replace(tree, node, node.operand)
    elif kind == "negate":
        assert isinstance(node, ast.If | ast.While | ast.IfExp)
        node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
    elif kind == "return":
        assert isinstance(node, ast.Return)
        node.value = ast.Constant(arg)
    elif kind == "constant":
        assert isinstance(node, ast.Constant)
        node.value = arg
    elif kind == "binop":
        assert isinstance(node, ast.BinOp)
        node.op = arg()
    elif kind == "drop-arg":
        assert isinstance(node, ast.Call)
        del node.args[arg]
    elif kind == "drop-element":
        assert isinstance(node, ast.Tuple | ast.List | ast.Set)
        del node.elts[arg]
    elif kind == "drop-stmt":
        name, i = arg
        body = getattr(node, name)
        del body[i]
        if not body:
            body.append(ast.Pass())
        shown = body[i] if i < len(body) else body[-1]
    else:
        raise ValueError(kind)
    ast.fix_missing_locations(tree)
    return tree, shown


def _replace(tree: ast.Module, old: ast.AST, new: ast.AST) -> ast.AST:
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, name, new)
                return new
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is old:
                        value[i] = new
                        return new
    raise ValueError("node not found")


def _show(tree: ast.Module, mutant: Mutant) -> str:
    mutated, node = apply(tree, mutant)
    ctx = _Context(mutated)
    try:
        stmt = ctx.statement(node) if id(node) in ctx.parent else node
    except KeyError:
        stmt = node
    text = ast.unparse(stmt)
    if mutant.kind == "drop-stmt":
        return "(statement dropped)"
    return text.splitlines()[0] if text else ""


# --- the tracer (this module as a pytest plugin: `-p mutate`) -----------------------------------------------

_TRACE_TARGET = os.environ.get("MUTATE_TRACE_FILE", "")
_trace_hits: dict[str, set[int]] = {}
_trace_current = "<import>"
_trace_outcomes: dict[str, str] = {}
_trace_seconds: dict[str, float] = {}


def _local_tracer(frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
    if event in ("line", "call"):
        _trace_hits.setdefault(_trace_current, set()).add(frame.f_lineno)
    return _local_tracer


def _global_tracer(frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
    if frame.f_code.co_filename == _TRACE_TARGET:
        _trace_hits.setdefault(_trace_current, set()).add(frame.f_lineno)
        return _local_tracer
    return None


if _TRACE_TARGET:
    sys.settrace(_global_tracer)
    threading.settrace(_global_tracer)

    import pytest

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
        global _trace_current
        _trace_current = item.nodeid
        try:
            return (yield)
        finally:
            _trace_current = "<between>"

    def pytest_runtest_logreport(report: pytest.TestReport) -> None:
        _trace_seconds[report.nodeid] = _trace_seconds.get(report.nodeid, 0.0) + report.duration
        if report.failed or (report.when == "call" and report.outcome != "passed"):
            _trace_outcomes[report.nodeid] = report.outcome
        elif report.when == "call":
            _trace_outcomes.setdefault(report.nodeid, "passed")

    def pytest_sessionfinish(session: pytest.Session) -> None:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        out = Path(os.environ["MUTATE_TRACE_OUT"]) / f"{worker}.json"
        hits = {k: sorted(v) for k, v in _trace_hits.items()}
        out.write_text(json.dumps({"hits": hits, "outcomes": _trace_outcomes, "seconds": _trace_seconds}))


# --- running ------------------------------------------------------------------------------------------------


def _pytest(args: list[str], env: dict[str, str], timeout: float | None) -> tuple[int, str, float]:
    started = time.monotonic()
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return -1, "timeout", time.monotonic() - started
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def trace(
    module: Path, tests: list[str], k: str, jobs: int
) -> tuple[dict[str, set[int]], list[str], dict[str, float], float]:
    """Run the tests once, unmutated and traced: the lines each test executes, the tests that pass, how
    long each took and the whole run."""
    with tempfile.TemporaryDirectory(prefix="mutate-trace-") as out:
        env = dict(os.environ, MUTATE_TRACE_FILE=str(module), MUTATE_TRACE_OUT=out)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "scripts"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        args = ["-p", "mutate", *(["-n", str(jobs)] if jobs > 1 else []), "-k", k, *tests]
        rc, output, seconds = _pytest(args, env, None)
        if rc != 0:
            sys.exit(f"the tests do not pass unmutated (exit {rc}):\n{output[-4000:]}")
        hits: dict[str, set[int]] = {}
        order: list[str] = []
        durations: dict[str, float] = {}
        for part in sorted(Path(out).glob("*.json")):
            data = json.loads(part.read_text())
            for test, lines in data["hits"].items():
                hits.setdefault(test, set()).update(lines)
            order.extend(t for t, outcome in data["outcomes"].items() if outcome == "passed")
            durations.update(data["seconds"])
    order = list(dict.fromkeys(order))  # with xdist the controller reports every test too
    if not order:
        sys.exit("no test ran: check --tests and -k")
    return hits, order, durations, seconds


def _order_tests(tests: list[str], paths: list[str], durations: dict[str, float]) -> list[str]:
    """The first path's tests and those of `*_mutants.py` files first (the rules' own tests), then the
    quickest first: a mutant stops at its first failing test."""

    def rank(nodeid: str) -> tuple[int, float, str]:
        first = nodeid.startswith(paths[0]) or nodeid.split("::")[0].endswith("_mutants.py")
        return (0 if first else 1), durations.get(nodeid, 0.0), nodeid

    return sorted(tests, key=rank)


def run(args: argparse.Namespace) -> int:
    module = (ROOT / args.module).resolve()
    relative = str(module.relative_to(ROOT))
    tree = ast.parse(module.read_text(), filename=str(module))
    mutants = find_mutants(tree)
    for m in mutants:
        m.source = _show(tree, m)
    if args.only:
        wanted = {int(x) for x in args.only.split(",")}
        mutants = [m for m in mutants if m.index in wanted]
    if args.list:
        for m in mutants:
            print(f"#{m.index:<4} L{m.line:<4} {m.kind:<13} {m.what}   | {m.source}")
        print(f"{len(mutants)} mutants")
        return 0
    tests = args.tests or [t for t in DEFAULT_TESTS.get(relative, ["tests"]) if (ROOT / t).exists()]
    print(f"tracing {len(tests)} test paths on the unmutated {relative} ...", flush=True)
    hits, passed, durations, seconds = trace(module, tests, args.k, args.jobs)
    passed = _order_tests(passed, tests, durations)
    print(f"{len(passed)} tests pass in {seconds:.0f} s; {len(mutants)} mutants", flush=True)
    timeout = max(60.0, seconds * args.timeout_factor)

    workdir = Path(tempfile.mkdtemp(prefix="mutate-"))
    free: list[Path] = []
    for i in range(args.jobs):
        slot = workdir / f"slot{i}" / "src"
        shutil.copytree(PACKAGE, slot / "centralita", ignore=shutil.ignore_patterns("__pycache__"))
        free.append(slot)
    inside = module.relative_to(ROOT / "src")
    probe = subprocess.run(
        [sys.executable, "-c", f"import {'.'.join(inside.with_suffix('').parts)} as m; print(m.__file__)"],
        env=dict(os.environ, PYTHONPATH=str(free[0])),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not probe.startswith(str(workdir)):
        sys.exit(f"the tests would import {probe}, not the mutated copy: is the package installed non-editable?")

    # lines run outside any test (at import, like `require("agent")` in a module-level alias): every test
    outside = hits.get("<import>", set()) | hits.get("<between>", set())
    for m in mutants:
        m.at_import = m.at_import or bool(_lines(m) & outside)
        chosen = passed if m.at_import else [t for t in passed if _lines(m) & hits.get(t, set())]
        m.tests_run = len(chosen)
        if not chosen:
            m.status = "no-tests"
    _preload()
    counts: dict[str, int] = {}
    pending = [m for m in mutants if m.status != "no-tests"]
    running: dict[int, tuple[Mutant, Path, Path, float]] = {}
    mark = {"killed": "killed  ", "timeout": "killed/T", "survived": "SURVIVED", "no-tests": "NO TESTS"}

    def report(m: Mutant) -> None:
        counts[m.status] = counts.get(m.status, 0) + 1
        print(
            f"{mark.get(m.status, 'ERROR   ')} #{m.index:<4} L{m.line:<4} {m.what}   | {m.source}"
            f"   [{m.tests_run} tests, {m.seconds:.0f} s]",
            flush=True,
        )

    for m in mutants:
        if m.status == "no-tests":
            report(m)
    try:
        while pending or running:
            while pending and free:
                m, slot = pending.pop(0), free.pop()
                chosen = passed if m.at_import else [t for t in passed if _lines(m) & hits.get(t, set())]
                mutated, _node = apply(tree, m)
                (slot / inside).write_text(ast.unparse(mutated) + "\n")
                out = slot.parent / f"out-{m.index}.txt"
                pid = os.fork()
                if pid == 0:  # the child: import the mutated package from the slot and run the tests
                    _child(slot, chosen, out)
                running[pid] = (m, slot, out, time.monotonic())
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                for child, (m, _slot, _out, started) in running.items():
                    if m.status != "timeout" and time.monotonic() - started > timeout:
                        with contextlib.suppress(ProcessLookupError):
                            os.killpg(child, signal.SIGKILL)
                        m.status = "timeout"
                time.sleep(0.1)
                continue
            m, slot, out, started = running.pop(pid)
            m.seconds = time.monotonic() - started
            shutil.copyfile(module, slot / inside)
            free.append(slot)
            output = out.read_text(errors="replace")
            out.unlink()
            rc = os.waitstatus_to_exitcode(status)
            if m.status == "timeout":
                pass
            elif rc == 0:
                m.status = "survived"
            elif rc in (1, 2, 3, 4):  # tests failed, or interrupted, or the package no longer imports
                m.status = "killed"
                failed = [ln for ln in output.splitlines() if ln.startswith(("FAILED", "ERROR"))]
                m.killed_by = failed[0] if failed else output.strip().splitlines()[-1] if output.strip() else ""
            else:
                m.status = "error"
                m.killed_by = output[-500:]
            if args.verbose and m.status != "killed":
                print(output[-3000:])
            report(m)
    finally:
        for child in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child, signal.SIGKILL)
        shutil.rmtree(workdir, ignore_errors=True)
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    alive = counts.get("survived", 0) + counts.get("no-tests", 0)
    print(f"\n{relative}: {len(mutants)} mutants, {killed} killed, {alive} survived ({counts})")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(m) for m in mutants], indent=1, default=str) + "\n")
    return 1 if alive or counts.get("error") else 0


def _lines(m: Mutant) -> set[int]:
    return set(range(m.lines[0], m.lines[1] + 1))


PRELOAD = (
    "pytest",
    "xdist",
    "hypothesis",
    "fastapi",
    "fastapi.testclient",
    "starlette.testclient",
    "pydantic",
    "sqlalchemy",
    "sqlalchemy.orm",
    "alembic",
    "argon2",
    "psycopg",
    "redis",
    "phonenumbers",
    "typer",
    "rich",
    "httpx2",
    "ruamel.yaml",
    "sortedcontainers",
    "websockets",
)


def _preload() -> None:
    """Import the third-party libraries once, before forking: each child then imports only our package."""
    import importlib

    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    assert not any(name == "centralita" or name.startswith("centralita.") for name in sys.modules)


def _child(slot: Path, tests: list[str], out: Path) -> None:
    try:
        os.setsid()
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        sys.path.insert(0, str(slot))
        sys.dont_write_bytecode = True
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
        os.environ["PYTHONPATH"] = str(slot)  # for any process a test starts
        os.chdir(ROOT)
        import pytest

        # plugins imported before the fork (hypothesis's, anyio's) cannot have their asserts rewritten: fine
        quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
        rc = int(pytest.main(["-q", "-p", "no:cacheprovider", "-p", "no:xdist", *quiet, "-x", *tests]))
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        rc = 99  # the child itself failed: an error, not a kill
    os._exit(rc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("module", help="the module to mutate, e.g. src/centralita/access.py")
    parser.add_argument("--tests", nargs="*", help="test paths (default: DEFAULT_TESTS for the module)")
    parser.add_argument("-k", default=DEFAULT_K, help=f"pytest -k expression (default: {DEFAULT_K!r})")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--only", help="comma-separated mutant numbers (from --list)")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--timeout-factor", type=float, default=4.0, help="per mutant, × the traced run's time")
    parser.add_argument("--json", help="write every result to this file")
    parser.add_argument("--verbose", action="store_true", help="print the test output of mutants not killed")
    return run(parser.parse_args())


if __name__ == "__main__" and not _TRACE_TARGET:
    sys.exit(main())
