"""SQA409: calls of model methods that read attributes by a run-time name run in run_sync."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from ..analysis import ObjKind
from ..analysis.project import qualname
from ..results import Kind
from ..rewrite.build import method_call
from ..rewrite.context import dotted
from ..rewrite.traversal import OwnScopeVisitor
from .base import Case, Rule


class NameReaderCalls(Rule):
    """`obj.to_dict()` where the model's method reads attributes by a name known only at run
    time (`getattr(self, key)` over its relationships: a serializer mixin).

    Nothing tells which relationships such a method reads, so no loader option can be proven,
    and an unloaded one loads implicitly, which fails under asyncio (MissingGreenlet). Inside
    `session.run_sync(...)` an implicit load works as it did in the sync program, also in the
    related objects the method reaches, so the call runs there:
    `await session.run_sync(lambda sync_session: obj.to_dict())` (an awaited receiver is
    handed in as the lambda's argument). The session is the one the receiver names, else the
    only one the function uses (a `scoped_session` registry is called for its session: the
    async registry does not proxy `run_sync`); with none or several, a TODO says what to
    wrap.
    """

    code = "SQA409"
    needs = frozenset({"async-functions", "async-objects"})
    summary = ("calls of model methods reading attributes by run-time name (serializers) → "
               "await session.run_sync(lambda ...: obj.method())")
    cases = (
        Case("""
            from sqlalchemy import ForeignKey
            from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


            class Base(DeclarativeBase):
                def to_dict(self) -> dict:
                    return {key: getattr(self, key) for key in self.__mapper__.attrs.keys()}


            class Author(Base):
                __tablename__ = "authors"
                id: Mapped[int] = mapped_column(primary_key=True)
                books: Mapped[list["Book"]] = relationship(back_populates="author")


            class Book(Base):
                __tablename__ = "books"
                id: Mapped[int] = mapped_column(primary_key=True)
                author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
                author: Mapped[Author] = relationship(back_populates="books")


            def show(session: Session, book_id: int) -> dict:
                book = session.get(Book, book_id)
                return book.to_dict()
        """, """
            from sqlalchemy import ForeignKey
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


            class Base(DeclarativeBase):
                # TODO(sqla-asyncify SQA401): to_dict() reads attributes by a name known only at run time (`getattr(self, ...)`): a relationship among them (Author.books, Book.author) loads implicitly under asyncio (MissingGreenlet): the calls the tool migrates run it inside run_sync (SQA409); elsewhere eager-load the ones it reads wherever these objects are loaded, or set lazy="selectin" on them
                def to_dict(self) -> dict:
                    return {key: getattr(self, key) for key in self.__mapper__.attrs.keys()}


            class Author(Base):
                __tablename__ = "authors"
                id: Mapped[int] = mapped_column(primary_key=True)
                books: Mapped[list["Book"]] = relationship(back_populates="author")


            class Book(Base):
                __tablename__ = "books"
                id: Mapped[int] = mapped_column(primary_key=True)
                author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
                author: Mapped[Author] = relationship(back_populates="books")


            async def show(session: AsyncSession, book_id: int) -> dict:
                book = await session.get(Book, book_id)
                return await session.run_sync(lambda sync_session: book.to_dict())
        """),  # noqa: E501
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.sessions: list[list[str]] = []  # per scope (the module first): sessions used

    def visit_Module(self, node: cst.Module) -> None:
        self.sessions.append(_Sessions.used(node.body, self.ctx) if self.ctx.plan.name_readers
                             else [])

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.sessions.append(_Sessions.used(node.body, self.ctx) if self.ctx.plan.name_readers
                             else [])

    def leave_FunctionDef(self, original: cst.FunctionDef,
                          updated: cst.FunctionDef) -> cst.FunctionDef:
        self.sessions.pop()
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        plan = self.ctx.plan
        if not (isinstance(updated, cst.Call) and isinstance(updated.func, cst.Attribute)
                and updated.func.attr.value in plan.name_readers) or self.ctx.lambdas or (
                self._in_model()):
            return updated
        method = updated.func.attr.value
        receiver = updated.func.value
        named = _Sessions.used(original.func.value, self.ctx)
        sessions = named or self.sessions[-1]
        if len(sessions) != 1 or any(m.findall(arg, m.Await()) for arg in updated.args):
            where = ("it names no session" if not sessions else
                     f"it uses several sessions ({', '.join(sessions)})" if len(sessions) > 1
                     else "an argument awaits")
            self.ctx.todo(self.code, f"{method}() reads attributes by a name known only at run "
                                     "time, so a relationship it reads may load implicitly "
                                     "(MissingGreenlet): run it with await "
                                     "session.run_sync(lambda sync_session: "
                                     f"obj.{method}(...)), which the tool cannot do here: {where}",
                          original)
            return updated
        session = self.ctx.run_sync_receiver(cst.parse_expression(sessions[0]))
        param = cst.Param(cst.Name(self.ctx.free_name("sync_session")))
        if m.findall(receiver, m.Await()):  # evaluated first, outside the lambda, as before
            obj = cst.Name(self.ctx.free_name("obj"))
            fn = cst.Lambda(params=cst.Parameters(params=[param, cst.Param(obj)]),
                            body=updated.with_changes(func=updated.func.with_changes(value=obj)))
            if isinstance(receiver, cst.Await):  # its parentheses were for `.method`
                receiver = receiver.with_changes(lpar=[], rpar=[])
            run = method_call(session, "run_sync", [cst.Arg(fn), cst.Arg(receiver)])
        else:
            fn = cst.Lambda(params=cst.Parameters(params=[param]), body=updated)
            run = method_call(session, "run_sync", [cst.Arg(fn)])
        awaited = self.ctx.await_(self.code, run, original, f"{method}()")
        if awaited is run:
            return updated  # (await_ left the TODO saying why it cannot await here)
        self.ctx.report(self.code, Kind.RUN_SYNC, f"{method}() reads attributes by a name known "
                                                  "only at run time: run inside run_sync, where "
                                                  "an implicit load works", original)
        return awaited

    def _in_model(self) -> bool:
        """Inside a method of a model or mixin: the serializer calling itself on related
        objects, which runs inside the caller's run_sync."""
        plan, ix = self.ctx.plan, self.ctx.ix
        owner = plan.owner_class(ix, self.ctx.scope)
        if owner is None or owner not in ix.classes:
            return False
        return qualname(ix, owner) in plan.mapped_classes or plan.is_model_base(ix, owner)


class _Sessions(OwnScopeVisitor):
    """Names (`session`, `self.session`) an expression or block reads that hold a session,
    in order of first use; not inside nested functions or classes."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.found: dict[str, None] = {}

    @classmethod
    def used(cls, node: cst.CSTNode | list, ctx) -> list[str]:
        visitor = cls(ctx)
        for part in node if isinstance(node, (list, tuple)) else [node]:
            visitor.walk(part)
        return list(visitor.found)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if self._session(node):
            node.value.visit(self)  # not the attribute's own name
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)  # not the keyword's name
        return False

    def visit_Name(self, node: cst.Name) -> bool:
        return self._session(node)

    def _session(self, node: cst.BaseExpression) -> bool:
        name = dotted(node)
        if name is not None and self.ctx.kind(node) is ObjKind.SESSION:
            self.found.setdefault(name, None)
            return False
        return True
