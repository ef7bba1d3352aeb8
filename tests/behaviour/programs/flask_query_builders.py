"""Flask-SQLAlchemy queries built in views: filters collected in a list, a query refined under
conditions, counted and paged, a subquery of counts joined back, a query property stored."""
# behaviour: --target sync only (Flask-SQLAlchemy has no asyncio session)
import warnings

warnings.simplefilter("ignore")
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func

db = SQLAlchemy()


class Author(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40))


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(80))
    stars = db.Column(db.Integer)
    author_id = db.Column(db.ForeignKey("author.id"))
    author = db.relationship(Author, backref="posts")


def search(word=None, min_stars=None, newest=False):
    filters = []
    if word:
        filters.append(Post.title.contains(word))
    if min_stars is not None:
        filters.append(Post.stars >= min_stars)
    query = Post.query.filter(*filters)
    if newest:
        query = query.order_by(Post.id.desc())
    else:
        query = query.order_by(Post.id)
    return [p.title for p in query.all()]


def page(number, size):
    query = Post.query.order_by(Post.stars.desc(), Post.id)
    total = query.count()
    shown = query.offset((number - 1) * size).limit(size)
    return total, [p.title for p in shown]


def stars_per_author():
    totals = db.session.query(Post.author_id, func.sum(Post.stars).label("stars")).group_by(
        Post.author_id).subquery()
    return db.session.query(Author.name, totals.c.stars).join(
        totals, totals.c.author_id == Author.id).order_by(Author.name).all()


def by_author(name):
    stored = Post.query
    return [p.title for p in stored.join(Post.author).filter(Author.name == name).order_by(Post.id)]


def main():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(app)
    with app.app_context():
        db.create_all()
        ann, bob = Author(name="ann"), Author(name="bob")
        db.session.add_all([ann, bob])
        for i, (title, stars, author) in enumerate([
                ("flask tips", 5, ann), ("sql joins", 3, bob), ("flask forms", 1, bob),
                ("async io", 4, ann), ("query builders", 2, ann)]):
            db.session.add(Post(id=i + 1, title=title, stars=stars, author=author))
        db.session.commit()
        print("all", search())
        print("flask", search("flask"))
        print("3 stars, newest", search(min_stars=3, newest=True))
        print("page 2", page(2, 2))
        print("stars", [tuple(row) for row in stars_per_author()])
        print("by ann", by_author("ann"))


if __name__ == "__main__":
    main()
