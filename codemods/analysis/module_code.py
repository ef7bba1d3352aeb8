"""Whether a module's top-level code runs only when the module is run as a script: then
the work there can move into an `async def main()` (SQA307), and the calls it makes are
calls made in a function (run_sync can wrap them)."""

from __future__ import annotations

from ..index import CALL, ModuleIndex
from .project import Project

# Web frameworks whose application modules keep their top-level code as it is (FastAPI
# starts up differently; Flask and Pyramid stay synchronous).
_WEB_FRAMEWORKS = frozenset({"flask", "flask_sqlalchemy", "pyramid"})


def importer(project: Project, ix: ModuleIndex) -> str | None:
    """What imports this module, running its top-level code: project modules, the package,
    pytest, Alembic (None: nothing does)."""
    file = ix.path.replace("\\", "/").rpartition("/")[2]
    if file == "__init__.py":
        return "any module of the package"
    if file == "conftest.py" or file.startswith("test_") or file.endswith("_test.py"):
        return "pytest"
    if ix.runs_under_alembic:
        return "Alembic"
    importers = project.importers(ix.module)
    return ", ".join(f"`{m}`" for m in importers[:3]) + (" …" if importers[3:] else "") \
        if importers else None


def web_application(project: Project, ix: ModuleIndex) -> bool:
    """A web application module (it imports Flask or Pyramid, or builds a FastAPI app)."""
    if any(q.partition(".")[0] in _WEB_FRAMEWORKS for q in ix.imports.values()):
        return True
    return any(b.origin == CALL and project.qualify(ix, b.targets[0]) == "fastapi.FastAPI"
               for b in ix.bindings.get("", ()))


def runs_as_script(project: Project, ix: ModuleIndex) -> bool:
    """Top-level work here may move into `async def main()`: nothing imports the module
    and it is no web application."""
    return importer(project, ix) is None and not web_application(project, ix)
