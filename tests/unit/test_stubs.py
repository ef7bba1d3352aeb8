"""`.pyi` stubs follow their module's signatures (issue 15, item 24)."""

from __future__ import annotations

from test_cli import SYNC

from codemods import Config, FileResult, Kind, migrate_source
from codemods.engine import migrate_sources
from codemods.sources import SourceFile
from codemods.stubs import migrate_stub
from codemods.todo import TODO_PREFIX

# the test_cli module (first_user, main), and a class whose method queries
MODULE = SYNC + '''

class Repo:
    session: Session

    def __init__(self, session: Session) -> None:
        self.session = session

    def names(self) -> list[str]:
        return [u.name for u in self.session.query(User).all()]

    def size(self) -> int:
        return 3
'''
STUB = '''\
# A hand-written stub.
from typing import overload

from sqlalchemy.orm import DeclarativeBase, Mapped, Session

class User(DeclarativeBase):
    id: Mapped[int]

def first_user(session: Session) -> User | None: ...

class Repo:
    session: Session
    def __init__(self, session: Session) -> None: ...
    @overload
    def names(self) -> list[str]: ...
    @overload
    def names(self, limit: int) -> list[str]: ...
    def size(self) -> int: ...
'''
EXPECTED = '''\
# A hand-written stub.
from typing import overload

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, Session

class User(DeclarativeBase):
    id: Mapped[int]

async def first_user(session: AsyncSession) -> User | None: ...

class Repo:
    session: AsyncSession
    def __init__(self, session: AsyncSession) -> None: ...
    @overload
    async def names(self) -> list[str]: ...
    @overload
    async def names(self, limit: int) -> list[str]: ...
    def size(self) -> int: ...
'''


def _stub_result(stub: str, module: str = MODULE, config: Config | None = None):
    results = migrate_sources([SourceFile.from_text("pkg/repo.py", module),
                               SourceFile.from_text("pkg/repo.pyi", stub)], config)
    return results[1]


def test_a_stub_gets_the_async_defs_and_annotations_of_its_module() -> None:
    result = _stub_result(STUB)
    assert result.error is None
    assert result.new_source == EXPECTED
    assert {(f.line, f.code) for f in result.findings} == {
        (9, "SQA300"), (9, "SQA003"), (12, "SQA003"), (13, "SQA003"), (15, "SQA300")}
    assert all(f.kind is Kind.CHANGE for f in result.findings)


def test_a_migrated_module_leaves_its_stub_as_it_is() -> None:
    migrated = migrate_source(MODULE).new_source
    assert _stub_result(EXPECTED, migrated).new_source == EXPECTED
    assert not _stub_result(STUB, MODULE, Config(target="sync")).changed


def test_an_annotation_spelt_otherwise_gets_a_todo_not_a_guess() -> None:
    stub = STUB.replace("def first_user(session: Session)", 'def first_user(session: "Session")')
    result = _stub_result(stub)
    assert "async def first_user(session: \"Session\") -> User | None" in result.new_source
    todos = [f for f in result.findings if f.kind is Kind.TODO]
    assert len(todos) == 1 and "parameter session of first_user is `AsyncSession`" in (
        todos[0].message)
    assert result.new_source.count(TODO_PREFIX) == 1
    module = migrate_source(MODULE, "pkg/repo.py")
    again = migrate_stub(SourceFile.from_text("pkg/repo.pyi", result.new_source), module)
    assert again.new_source.count(TODO_PREFIX) == 1  # no second marker


def test_a_name_the_stub_cannot_import_gets_a_todo() -> None:
    module = FileResult(path="pkg/repo.py",
                        old_source="class Local: ...\ndef get() -> int:\n    return 1\n",
                        new_source="class Local: ...\nasync def get() -> Local:\n    return 1\n")
    stub = migrate_stub(SourceFile.from_text("pkg/repo.pyi", "def get() -> int: ...\n"), module)
    assert stub.new_source == (
        "# TODO(sqla-asyncify SQA300): the return annotation of get is `Local` in repo.py now, "
        "naming Local, which this stub cannot import\nasync def get() -> int: ...\n")


def test_a_stub_that_does_not_parse_fails_alone() -> None:
    result = _stub_result("def broken(:\n")
    assert result.error is not None and "cannot parse the stub" in result.error
    assert result.new_source == "def broken(:\n"


def test_a_stub_without_its_module_in_the_run_is_unchanged() -> None:
    [result] = migrate_sources([SourceFile.from_text("pkg/repo.pyi", STUB)])
    assert not result.changed and result.error is None
