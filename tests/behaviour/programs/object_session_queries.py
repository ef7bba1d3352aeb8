"""Queries through the session an object belongs to (object_session), of its own class too."""
import warnings

warnings.simplefilter("ignore")
import sqlalchemy as sa
from sqlalchemy.orm import Session, declarative_base, object_session

Base = declarative_base()


class Post(Base):
    __tablename__ = "post"
    id = sa.Column(sa.Integer, primary_key=True)
    author = sa.Column(sa.String)

    def siblings(self):
        """Other posts by the same author, through the session holding this object."""
        session = object_session(self)
        return (
            session.query(Post)
            .filter(Post.author == self.author, Post.id != self.id)
            .order_by(Post.id)
            .all()
        )

    def newer(self):
        session = sa.orm.object_session(self)
        return session.query(Post).filter(Post.id > self.id).count()


def previous_of_same_kind(obj):
    """The previous row of obj's own class, through obj's session (any mapped class)."""
    session = sa.orm.object_session(obj)
    return (
        session.query(obj.__class__)
        .filter(obj.__class__.id < obj.id)
        .order_by(obj.__class__.id.desc())
        .first()
    )


def main():
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Post(author="ann"), Post(author="bob"), Post(author="ann")])
        session.commit()
        first = session.get(Post, 1)
        last = session.get(Post, 3)
        print([p.id for p in first.siblings()], first.newer(), previous_of_same_kind(last).id)


if __name__ == "__main__":
    main()
