"""Finishers that take a legacy Query and run it: the tool cannot hand them a select() yet."""


def paginate(query, page, per_page=2):
    total = query.count()
    items = query.offset((page - 1) * per_page).limit(per_page).all()
    return {"total": total, "titles": [t.title for t in items]}


def first_title(query):
    found = query.first()
    return found.title if found else None
