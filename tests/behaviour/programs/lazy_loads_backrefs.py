"""Classic mappings: relationships declared with backref= exist on the other class too."""
from sqlalchemy import create_engine, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Session, backref, declarative_base, relationship

Base = declarative_base()

post_tags = Table("post_tags", Base.metadata,
                  Column("post_id", ForeignKey("posts.id"), primary_key=True),
                  Column("tag_id", ForeignKey("tags.id"), primary_key=True))


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    posts = relationship("Post", backref="author")


class Post(Base):
    __tablename__ = "posts"
    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("users.id"))
    tags = relationship("Tag", secondary=post_tags, backref=backref("posts", lazy="selectin"))


class Tag(Base):
    __tablename__ = "tags"
    id = Column(Integer, primary_key=True)
    name = Column(String)


def bylines(session: Session) -> list[str]:
    return [f"{post.id} by {post.author.name}" for post in session.query(Post).order_by(Post.id)]


def tag_cloud(session: Session) -> dict[str, int]:
    return {tag.name: len(tag.posts) for tag in session.query(Tag).all()}


engine = create_engine("sqlite://")


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        python, sql = Tag(name="python"), Tag(name="sql")
        ana = User(name="ana", posts=[Post(tags=[python, sql]), Post(tags=[sql])])
        session.add_all([ana, User(name="ben", posts=[Post(tags=[python])])])
        session.commit()
    with Session(engine) as session:
        print(bylines(session))
    with Session(engine) as session:
        print(sorted(tag_cloud(session).items()))


if __name__ == "__main__":
    main()
