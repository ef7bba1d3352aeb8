"""Blog: relationships read in the same function, always eager-loaded (selectin/joined)."""
from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    posts: Mapped[list["Post"]] = relationship(back_populates="author", order_by="Post.id")


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author: Mapped[User] = relationship(back_populates="posts")
    comments: Mapped[list["Comment"]] = relationship(
        back_populates="post", order_by="Comment.id"
    )


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(200))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    post: Mapped[Post] = relationship(back_populates="comments")


engine = create_engine("sqlite://")


def seed():
    with Session(engine) as session:
        ann = User(name="ann")
        ben = User(name="ben")
        cat = User(name="cat")
        hello = Post(title="Hello", author=ann)
        async_post = Post(title="Going async", author=ann)
        review = Post(title="Book review", author=ben)
        session.add_all([ann, ben, cat, hello, async_post, review])
        session.add_all(
            [
                Comment(body="welcome!", post=hello),
                Comment(body="nice", post=hello),
                Comment(body="finally", post=async_post),
                Comment(body="+1", post=review),
            ]
        )
        session.commit()


def print_posts_per_user(session):
    users = session.query(User).options(selectinload(User.posts)).order_by(User.id).all()
    for user in users:
        titles = [post.title for post in user.posts]
        print("posts of", user.name, titles)


def print_post_authors(session):
    posts = session.query(Post).options(joinedload(Post.author)).order_by(Post.id).all()
    for post in posts:
        print("post", post.id, post.title, "by", post.author.name)


def print_joined_collections(session):
    users = (
        session.query(User)
        .options(joinedload(User.posts))
        .filter(User.name != "cat")
        .order_by(User.id)
        .all()
    )
    print("joined users:", len(users))
    for user in users:
        print("  ", user.name, len(user.posts))


def print_first_with_posts(session):
    user = session.query(User).options(joinedload(User.posts)).order_by(User.id).first()
    print("first user:", user.name, [post.title for post in user.posts])


def print_comment_tree(session):
    users = (
        session.query(User)
        .options(selectinload(User.posts).selectinload(Post.comments))
        .order_by(User.name)
        .all()
    )
    for user in users:
        for post in user.posts:
            bodies = [comment.body for comment in post.comments]
            print("tree:", user.name, "/", post.title, "/", bodies)


def print_one_post(session, post_id):
    post = (
        session.query(Post)
        .options(joinedload(Post.author), selectinload(Post.comments))
        .filter(Post.id == post_id)
        .one()
    )
    print("one post:", post.title, post.author.name, len(post.comments))


def main():
    Base.metadata.create_all(engine)
    seed()
    # A fresh session per report, so nothing is served from an earlier identity map.
    with Session(engine) as session:
        print_posts_per_user(session)
    with Session(engine) as session:
        print_post_authors(session)
    with Session(engine) as session:
        print_joined_collections(session)
    with Session(engine) as session:
        print_first_with_posts(session)
    with Session(engine) as session:
        print_comment_tree(session)
        print_one_post(session, 1)


if __name__ == "__main__":
    main()
