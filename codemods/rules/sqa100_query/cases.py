"""SQA100's executable before/after cases."""

from __future__ import annotations

from ..base import USERS_AND_ADDRESSES, Case

CASES = (
        Case("""
            from sqlalchemy.orm import Session

            from models import User


            def first_named(session: Session, name: str) -> User | None:
                return session.query(User).filter(User.name == name).order_by(User.id).first()


            def names(session: Session) -> list[str]:
                return session.query(User.name).order_by(User.name).all()


            def by_id(session: Session, user_id: int) -> User | None:
                return session.query(User).get(user_id)
        """, """
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            from models import User


            async def first_named(session: AsyncSession, name: str) -> User | None:
                return (await session.scalars(select(User).where(User.name == name).order_by(User.id).limit(1))).first()


            async def names(session: AsyncSession) -> list[str]:
                return (await session.execute(select(User.name).order_by(User.name))).all()


            async def by_id(session: AsyncSession, user_id: int) -> User | None:
                return await session.get(User, user_id)
        """, models=USERS_AND_ADDRESSES),  # noqa: E501
        Case("""
            from sqlalchemy.orm import Session

            from models import User


            def count_named(session: Session, name: str) -> int:
                return session.query(User).filter_by(name=name).count()
        """, """
            from sqlalchemy import func, select
            from sqlalchemy.orm import Session

            from models import User


            def count_named(session: Session, name: str) -> int:
                return session.scalar(select(func.count()).select_from(select(User).where(User.name == name).subquery()))
        """, models=USERS_AND_ADDRESSES, target="sync"),  # noqa: E501
        Case("""
            from flask import Flask
            from flask_sqlalchemy import SQLAlchemy

            app = Flask(__name__)
            db = SQLAlchemy(app)


            class Recipe(db.Model):
                id = db.Column(db.Integer, primary_key=True)


            def recipes():
                return [recipe.id for recipe in Recipe.query.order_by(Recipe.id)]
        """, """
            from flask import Flask
            from flask_sqlalchemy import SQLAlchemy

            app = Flask(__name__)
            db = SQLAlchemy(app)


            class Recipe(db.Model):
                id = db.Column(db.Integer, primary_key=True)


            def recipes():
                # TODO(sqla-asyncify SQA100): Flask-SQLAlchemy has no asyncio support: this query stays synchronous on db.session; --target sync moves it to select(), or move this data layer off Flask-SQLAlchemy first
                return [recipe.id for recipe in Recipe.query.order_by(Recipe.id)]
        """),  # noqa: E501
        Case("""
            from sqlalchemy.orm import Session

            from models import User


            def page_of(query, page: int, size: int = 20) -> list:
                # handed a legacy Query by every caller: it gets the select() and the session
                return query.offset((page - 1) * size).limit(size).all()


            def users_page(session: Session, page: int) -> list:
                return page_of(session.query(User).order_by(User.name), page)
        """, """
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            from models import User


            async def page_of(query, page: int, size: int = 20, *, session: AsyncSession) -> list:
                # handed a legacy Query by every caller: it gets the select() and the session
                return (await session.scalars(query.offset((page - 1) * size).limit(size))).all()


            async def users_page(session: AsyncSession, page: int) -> list:
                return await page_of(select(User).order_by(User.name), page, session=session)
        """, models=USERS_AND_ADDRESSES),  # noqa: E501
    )
