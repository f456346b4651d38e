"""What the judge needs to grade a problem, from the dataset alone: the tests, their prelude, and the candidate's names.

HumanEval: the prelude is the prompt (imports, and helpers such as ``poly`` or ``encode_cyclic`` that the tests
call: the judge's own trusted copies, never the candidate's), the tests are ``check``, called on the entry point.

MBPP: the tests are the asserts (after the setup code). The names they call that the reference solution defines
become calls to the candidate. Two shapes need an adapter, found from the reference solution and the tests:
- classes the tests construct (tasks 367 and 927 build ``Node`` trees, 601 ``Pair`` lists): the judge records the
  constructor arguments and the attributes the tests set, and the candidate's own class builds the object on its
  side (the ``new`` tag of :mod:`envs.code.wire`);
- a module the tests use but only the reference solution imports (596: ``sys.getsizeof``): the judge imports its
  own copy.
Nothing is excluded: :func:`mbpp_adapters` lists the tasks that use each adapter.
"""

from __future__ import annotations

import ast
import builtins
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TestSpec:
    """The trusted material of one problem, as the judge receives it."""

    __test__ = False  # not a pytest test class

    prelude: str  # run first, in the judge: the HumanEval prompt; the imports an MBPP test relies on
    tests: str  # run next, with the candidate's names bound to stubs
    call: str  # run last ("check(entry_point)" for HumanEval), or ""
    remote: tuple[str, ...]  # names that stand for the candidate's functions
    classes: tuple[str, ...] = ()  # names of classes the candidate defines and the tests construct

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def humaneval_spec(row: Mapping[str, Any]) -> TestSpec:
    entry = row["entry_point"]
    return TestSpec(prelude=row["prompt"], tests=row["test"], call=f"check({entry})", remote=(entry,))


def mbpp_spec(row: Mapping[str, Any], entry_point: str) -> TestSpec:
    tests = f"{row['test_setup_code']}\n" + "\n".join(row["test_list"])
    used = _loaded_names(tests) - _bound_names(tests)
    with warnings.catch_warnings():  # some reference solutions have invalid escapes ("\d" in a plain string)
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        reference = ast.parse(row["code"])
    functions = {n.name for n in reference.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    classes = {n.name for n in reference.body if isinstance(n, ast.ClassDef)}
    imports = [
        ast.unparse(node)
        for node in reference.body
        if isinstance(node, ast.Import | ast.ImportFrom) and _imported_names(node) & (used - set(dir(builtins)))
    ]
    return TestSpec(
        prelude="".join(f"{line}\n" for line in imports),
        tests=tests.strip(),
        call="",
        remote=tuple(sorted((functions & used) | {entry_point})),
        classes=tuple(sorted(classes & used)),
    )


def mbpp_adapters(rows: Mapping[int, Mapping[str, Any]], entry_points: Mapping[int, str]) -> dict[str, list[int]]:
    """The MBPP tasks that need each adapter (see the module doc)."""
    specs = {task_id: mbpp_spec(row, entry_points[task_id]) for task_id, row in rows.items()}
    return {
        "classes built on the candidate's side": sorted(t for t, s in specs.items() if s.classes),
        "modules imported by the judge": sorted(t for t, s in specs.items() if s.prelude),
    }


def _loaded_names(source: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _bound_names(source: str) -> set[str]:
    tree = ast.parse(source)
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    imported = {
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in _imported_names(node)
    }
    return stored | imported


def _imported_names(node: ast.Import | ast.ImportFrom) -> set[str]:
    return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
