"""Type stubs beside migrated modules: `pkg/mod.pyi` gets the signatures `pkg/mod.py` got.

A stub holds no code to migrate. What the module's rewrite changed in its signatures is
carried over, read from the module's text before and after (with `ast`, cheap): a function
or method made `async def` (its return annotation stays: an `async def` is annotated with
what its await gives), and a parameter, return or attribute annotation that changed
(`Session` → `AsyncSession`) where the stub spelt it as the module did, with the imports the
new annotation names, taken from the module. Where the stub spells it otherwise, or a name
cannot be imported, a TODO says what to change. Nothing else in the stub is touched.
"""

from __future__ import annotations

import ast
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from .results import FileResult, Finding, Kind
from .rewrite import imports
from .rewrite.imports import ImportChanges, ImportKey
from .sources import SourceFile
from .todo import todo_comment

STUB_SUFFIX = ".pyi"
RULE = "SQA300"  # the rule whose output (signatures) the stub follows


def is_stub(path: str) -> bool:
    return path.endswith(STUB_SUFFIX)


def stub_path(module_path: str) -> str:
    """Where the stub of the module at `module_path` sits (`pkg/mod.py` → `pkg/mod.pyi`)."""
    return os.path.splitext(module_path)[0] + STUB_SUFFIX


@dataclass(frozen=True)
class Signature:
    """What a stub repeats of a def or an annotated name: `async`, annotations (as
    `ast.unparse` spells them, so spacing does not count) and the line."""

    line: int
    is_async: bool = False
    returns: str | None = None
    params: tuple[tuple[str, str | None], ...] = ()


@dataclass
class Declarations:
    """A module's top-level and class-level defs and annotated names by qualified name
    (`Repo.get`); names declared twice (overloads, property setters) are ambiguous."""

    signatures: dict[str, Signature] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # where each name is first declared
    bound: set[str] = field(default_factory=set)  # names the module's top level binds
    imports: dict[str, ImportKey] = field(default_factory=dict)  # bound name → its import


def _text(node: ast.expr | None) -> str | None:
    return None if node is None else ast.unparse(node)


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[tuple[str, str | None], ...]:
    args = node.args
    every = [*args.posonlyargs, *args.args, *([args.vararg] if args.vararg else []),
             *args.kwonlyargs, *([args.kwarg] if args.kwarg else [])]
    return tuple((a.arg, _text(a.annotation)) for a in every)


def _walk(body: list[ast.stmt], prefix: str) -> Iterator[tuple[str, Signature]]:
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield prefix + node.name, Signature(
                node.lineno, isinstance(node, ast.AsyncFunctionDef), _text(node.returns),
                _parameters(node))
        elif isinstance(node, ast.ClassDef):
            yield from _walk(node.body, f"{prefix}{node.name}.")
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            yield prefix + node.target.id, Signature(node.lineno, returns=_text(node.annotation))


def _import_keys(node: ast.stmt) -> Iterator[tuple[str, ImportKey]]:
    if isinstance(node, ast.ImportFrom):
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            yield alias.asname or alias.name, (module, alias.name, alias.asname)
    elif isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.asname or alias.name.partition(".")[0], (alias.name, None, alias.asname)


def declarations(text: str) -> Declarations:
    """The declarations of a module or stub (raises SyntaxError, ValueError)."""
    tree = ast.parse(text)
    found = Declarations()
    named = list(_walk(tree.body, ""))
    counts = Counter(name for name, _ in named)
    found.signatures = {name: sig for name, sig in named if counts[name] == 1}
    for name, sig in reversed(named):
        found.lines[name] = sig.line
    for node in tree.body:
        for name, key in _import_keys(node):
            found.imports[name] = key
            found.bound.add(name)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.bound.add(node.name)
        for target in getattr(node, "targets", [getattr(node, "target", None)]):
            if isinstance(target, ast.Name):
                found.bound.add(target.id)
    return found


def _names(annotation: str) -> set[str]:
    """The names an annotation reads (`a.B[C]` reads `a` and `C`)."""
    return {n.id for n in ast.walk(ast.parse(annotation, mode="eval")) if isinstance(n, ast.Name)}


def _normal(node: cst.BaseExpression) -> str:
    return ast.unparse(ast.parse(cst.Module([]).code_for_node(node).strip(), mode="eval"))


class _StubSync(cst.CSTTransformer):
    """Applies the module's signature changes to the stub's defs and annotated names."""

    def __init__(self, before: Declarations, after: Declarations, stub: Declarations,
                 module: FileResult) -> None:
        super().__init__()
        self.before, self.after, self.stub = before, after, stub
        self.module_name = os.path.basename(module.path)
        # the rule that changed the module's annotations on a line (Session: SQA003)
        self.codes = {f.line: f.code for f in reversed(module.kept_findings)
                      if f.kind is Kind.CHANGE and f.code != RULE}
        self.classes: list[str] = []
        self.findings: list[Finding] = []
        self.imports = ImportChanges()

    def _key(self, name: str) -> str:
        return ".".join([*self.classes, name])

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node.name.value)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.classes.pop()
        return updated

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a def's body holds no declarations of the module's interface

    def _changed(self, key: str) -> tuple[Signature, Signature] | None:
        old, new = self.before.signatures.get(key), self.after.signatures.get(key)
        if old is None or new is None:
            return None
        return (old, new) if (old.is_async, old.returns, old.params) != (
            new.is_async, new.returns, new.params) else None

    def _line(self, key: str) -> int:
        return self.stub.lines.get(key, 0)

    def _annotation(self, key: str, what: str, stub: cst.Annotation | None, old: str | None,
                    new: str | None) -> tuple[cst.Annotation | None, str | None]:
        """The stub's annotation after the module's `old` → `new`, or a TODO's message."""
        spelt = None if stub is None else _normal(stub.annotation)
        if stub is None or old == new or spelt == new:  # nothing to follow, or followed
            return stub, None
        if new is None or spelt != old:
            return stub, (f"{what} of {key} is `{new}` in {self.module_name} now; "
                          "change it here to match")
        missing = {name for name in _names(new) if name not in self.stub.bound
                   and name not in self.after.imports}
        if missing:
            return stub, (f"{what} of {key} is `{new}` in {self.module_name} now, naming "
                          f"{', '.join(sorted(missing))}, which this stub cannot import")
        for name in _names(new):
            if name not in self.stub.bound:
                self.imports.add[self.after.imports[name]] = None
        code = self.codes.get(self.before.signatures[key].line, RULE)
        self.findings.append(Finding(self._line(key), code, Kind.CHANGE,
                                     f"{what} of {key}: `{new}`, as in {self.module_name}"))
        return stub.with_changes(annotation=cst.parse_expression(new)), None

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef
                          ) -> cst.FunctionDef:
        key = self._key(original.name.value)
        changed = self._changed(key)
        if changed is None:
            return updated
        old, new = changed
        todos = []
        if new.is_async and not old.is_async and updated.asynchronous is None:
            updated = updated.with_changes(asynchronous=cst.Asynchronous())
            self.findings.append(Finding(self._line(key), RULE, Kind.CHANGE,
                                         f"def {key} → async def, as in {self.module_name}"))
        returns, todo = self._annotation(key, "the return annotation", updated.returns,
                                         old.returns, new.returns)
        todos += [todo] if todo else []
        old_params, new_params = dict(old.params), dict(new.params)
        params = updated.params
        for group in ("posonly_params", "params", "kwonly_params"):
            replaced = []
            for param in getattr(params, group):
                param, todo = self._param(key, param, old_params, new_params)
                todos += [todo] if todo else []
                replaced.append(param)
            params = params.with_changes(**{group: replaced})
        for star in ("star_arg", "star_kwarg"):
            param = getattr(params, star)
            if isinstance(param, cst.Param):
                param, todo = self._param(key, param, old_params, new_params)
                todos += [todo] if todo else []
                params = params.with_changes(**{star: param})
        updated = updated.with_changes(returns=returns, params=params)
        return self._with_todos(key, updated, todos)

    def _param(self, key: str, param: cst.Param, old: dict[str, str | None],
               new: dict[str, str | None]) -> tuple[cst.Param, str | None]:
        name = param.name.value
        if name not in old or name not in new:
            return param, None
        annotation, todo = self._annotation(key, f"parameter {name}", param.annotation,
                                            old[name], new[name])
        return param.with_changes(annotation=annotation), todo

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        statement = updated.body[0] if len(updated.body) == 1 else None
        if not (isinstance(statement, cst.AnnAssign) and isinstance(statement.target, cst.Name)):
            return updated
        key = self._key(statement.target.value)
        changed = self._changed(key)
        if changed is None:
            return updated
        annotation, todo = self._annotation(key, "the annotation", statement.annotation,
                                            changed[0].returns, changed[1].returns)
        updated = updated.with_changes(body=[statement.with_changes(annotation=annotation)])
        return self._with_todos(key, updated, [todo] if todo else [])

    def _with_todos(self, key: str, node: cst.FunctionDef | cst.SimpleStatementLine,
                    todos: list[str]) -> cst.FunctionDef | cst.SimpleStatementLine:
        if not todos:
            return node
        lines = [*node.leading_lines]
        for message in todos:
            if any(line.comment and line.comment.value == todo_comment(RULE, message)
                   for line in lines):
                continue  # a second run adds no marker again
            lines.append(cst.EmptyLine(comment=cst.Comment(todo_comment(RULE, message))))
            self.findings.append(Finding(self._line(key), RULE, Kind.TODO,
                                         todo_comment(RULE, message)))
        return node.with_changes(leading_lines=lines)


def migrate_stub(stub: SourceFile, module: FileResult) -> FileResult:
    """The stub's result for its module's: the module's signature changes carried over."""
    result = stub.new_result()
    if result.error is not None or module.error is not None or not module.changed:
        return result
    try:
        before, after = declarations(module.old_source), declarations(module.new_source)
        declared = declarations(stub.text)
        tree = cst.parse_module(stub.text)
    except (SyntaxError, ValueError, cst.ParserSyntaxError) as exc:
        result.error = f"cannot parse the stub ({exc}); left as it is"
        return result
    sync = _StubSync(before, after, declared, module)
    tree = tree.visit(sync)
    result.findings = sorted(sync.findings)
    result.new_source = imports.apply(tree, sync.imports) if sync.imports else tree.code
    return result
